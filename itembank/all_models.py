"""Import every module that defines tables, so that Base.metadata knows them all (Alembic, tests)."""

from .accounts import models as accounts_models  # noqa: F401
from .authoring import models as authoring_models  # noqa: F401
from .bank import models as bank_models  # noqa: F401
from .delivery import models as delivery_models  # noqa: F401
from .materials import models as materials_models  # noqa: F401
from .orgs import models as orgs_models  # noqa: F401
from .paper import models as paper_models  # noqa: F401
from .research import models as research_models  # noqa: F401

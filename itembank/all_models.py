"""Import every module that defines tables, so that Base.metadata knows them all (Alembic, tests)."""

from . import models  # noqa: F401
from . import delivery_models  # noqa: F401
from . import workflow_models  # noqa: F401
from . import research_models  # noqa: F401
from . import org_models  # noqa: F401
from . import security_models  # noqa: F401

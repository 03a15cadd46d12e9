"""Import every module that defines tables, so that Base.metadata knows them all (Alembic, tests)."""

from . import (
    delivery_models,  # noqa: F401
    models,  # noqa: F401
    org_models,  # noqa: F401
    research_models,  # noqa: F401
    security_models,  # noqa: F401
    workflow_models,  # noqa: F401
)

"""How CLI commands reach the database: the configured URL, a session factory, a clear error if the
schema is missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from itembank import config

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker


def engine_from_settings() -> Engine:
    from itembank import all_models  # noqa: F401  (every table, so relationships resolve)
    from itembank.db import make_engine

    settings = config.load()
    if settings.database_url.startswith("sqlite:///"):
        settings.instance_path.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database_url)


def open_bank() -> sessionmaker[Session]:
    """A session factory on an initialised database, or a ClickException saying to run init."""
    from itembank.db import session_factory
    from itembank.migrate import current_revision

    engine = engine_from_settings()
    if current_revision(engine) is None:
        raise click.ClickException(
            f"the database at {engine.url.render_as_string(hide_password=True)} has no schema yet; "
            "run `itembank init` first"
        )
    return session_factory(engine)

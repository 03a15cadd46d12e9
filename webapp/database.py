"""One SQLAlchemy session per request, from a plain sessionmaker kept on the app; closed on
teardown.  No state lives in the worker: every request reads what it needs from the database."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from itembank.db import make_engine, session_factory


def init_app(app: Flask) -> None:
    engine = app.config.get("ENGINE")
    if engine is None:
        url = app.config["DATABASE_URL"]
        if url.startswith("sqlite:///"):
            Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        engine = make_engine(url)
    app.extensions["itembank_sessionmaker"] = session_factory(engine)
    app.teardown_appcontext(close_db)


def get_db() -> Session:
    """The request's session (created on first use)."""
    if "db" not in g:
        g.db = current_app.extensions["itembank_sessionmaker"]()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()

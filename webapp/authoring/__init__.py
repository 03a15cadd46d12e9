"""Teachers author, translate and review units in the web app (blueprint ``author``), and
administrators create accounts (blueprint ``admin``).  :func:`register` binds both to the app."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask

HERE = Path(__file__).resolve().parent
TRANSLATIONS = HERE / "translations"

bp = Blueprint("author", __name__, url_prefix="/author", template_folder="templates",
               static_folder="static", static_url_path="/static")


def register(app: Flask) -> None:
    from . import admin, views  # noqa: F401  (routes)

    app.register_blueprint(bp)
    app.register_blueprint(admin.bp)

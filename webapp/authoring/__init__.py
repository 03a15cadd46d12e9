"""Teachers author, translate and review units in the web app (blueprint ``author``), and
administrators create accounts (blueprint ``admin``).  :func:`register` binds both to the app."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

HERE = Path(__file__).resolve().parent
TRANSLATIONS = HERE / "translations"

bp = Blueprint("author", __name__, url_prefix="/author", template_folder="templates",
               static_folder="static", static_url_path="/static")


def register(app: Flask) -> None:
    from . import admin, views  # noqa: F401  (routes)

    app.register_blueprint(bp)
    app.register_blueprint(admin.bp)

    @app.context_processor
    def _nav_label() -> dict[str, object]:
        # the header link in base.html, translated from this package's catalog
        return {"author_nav_label": _l("Item bank")}

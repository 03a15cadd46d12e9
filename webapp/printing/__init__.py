"""Paper forms in the web app (blueprint ``print``, /print): choose a booklet design, preview a
booklet's first pages, download booklets and the teacher materials, and bring paper answers back
as scored response data (a research data set).  The work is done by :mod:`itembank.booklets`;
these views check roles, parse and render.  :func:`register` binds the blueprint to the app."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

HERE = Path(__file__).resolve().parent
TRANSLATIONS = HERE / "translations"
PRINT_ROLES = ("teacher", "school_admin", "admin")

bp = Blueprint("print", __name__, url_prefix="/print", template_folder="templates")


def register(app: Flask) -> None:
    from . import views  # noqa: F401  (routes)

    app.register_blueprint(bp)

    @app.context_processor
    def _print_nav_label() -> dict[str, object]:
        return {"print_nav_label": _l("Paper forms")}

"""Researchers (blueprint ``research``): response data sets, coding of open responses,
calibration runs in a background worker, publishing parameters, learning-outcome reports.
The work itself is done by :mod:`itembank.research`; these views parse, check roles, render."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

HERE = Path(__file__).resolve().parent
TRANSLATIONS = HERE / "translations"
RESEARCH_ROLES = ("researcher", "admin")

bp = Blueprint("research", __name__, url_prefix="/research", template_folder="templates")


def register(app: Flask) -> None:
    from . import compare_views, design_views, questionnaire_views, views  # noqa: F401  (routes)

    app.register_blueprint(bp)

    @app.context_processor
    def _nav_label() -> dict[str, object]:
        return {"research_nav_label": _l("Research")}

"""Tests, classes and rosters (blueprint ``manage``, /manage): teachers create tests and assign
them to their classes, school administrators upload their school's roster and link teachers to
classes, administrators forget a student's personal data; everyone sees results as their scope
allows (reports and exports in :mod:`.reports`).  A test's edit, CAT settings, closing and archiving
are in :mod:`.lifecycle`; roster templates, login cards and students' new passwords in
:mod:`.rosters`.  Every list is narrowed by :mod:`itembank.orgs.scope`
in its query.  :func:`register` binds the blueprint to the app."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

HERE = Path(__file__).resolve().parent
TRANSLATIONS = HERE / "translations"

bp = Blueprint("manage", __name__, url_prefix="/manage", template_folder="templates")


def register(app: Flask) -> None:
    from . import lifecycle, reports, rosters, views  # noqa: F401  (routes)

    app.register_blueprint(bp)

    @app.context_processor
    def _manage_labels() -> dict[str, object]:
        # labels used outside this package (header link, teachers' pages), from this catalog
        return {
            "manage_labels": {
                "nav": _l("Tests and classes"),
                "summary": _l("Results by group"),
                "export": _l("Download the sessions (CSV)"),
            }
        }

"""The teaching-materials exchange (blueprint ``materials``, /materials): teachers share lesson
plans and other materials, reviewers approve them, everyone of staff finds, downloads and comments
on what is shared with them; a test's results point to materials on the group's weakest dimension
or process.  The work is done by :mod:`itembank.materials`; these views parse, check roles,
render.  :func:`register` binds the blueprint to the app."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

HERE = Path(__file__).resolve().parent
TRANSLATIONS = HERE / "translations"

bp = Blueprint("materials", __name__, url_prefix="/materials", template_folder="templates")


def register(app: Flask) -> None:
    from . import views  # noqa: F401  (routes)

    app.register_blueprint(bp)
    app.add_template_global(views.materials_on_sdgs)

    @app.context_processor
    def _materials_labels() -> dict[str, object]:
        # labels used outside this package (header link, results and bank pages), from this catalog
        return {"materials_labels": {"nav": _l("Teaching materials"),
                                     "for_results": _l("Teaching materials for these results"),
                                     "on_sdgs": _l("Teaching materials on the same SDGs")}}

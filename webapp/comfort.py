"""Reading comfort on every page: a larger text size and a high-contrast scheme, chosen with two
plain form buttons (no script needed) and remembered in a cookie for a year, so a student's
choice holds on the next item, the next day and after a restart.  The favicon lives here too.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _

from .i18n import safe_next

COOKIE = "comfort"
COOKIE_AGE = 365 * 24 * 3600
SIZES = ("normal", "large", "larger")

bp = Blueprint("comfort", __name__)


def read(value: str | None) -> dict[str, str]:
    """The choices in the cookie (``size`` and ``contrast``); unknown values fall back."""
    size, _, contrast = (value or "").partition(".")
    return {
        "size": size if size in SIZES else "normal",
        "contrast": "high" if contrast == "high" else "normal",
    }


@bp.post("/preferences")
def choose() -> Response:
    """Set the text size (``size``: next step, or one of SIZES) or toggle the contrast."""
    chosen = read(request.cookies.get(COOKIE))
    size = request.form.get("size")
    if size == "next":
        chosen["size"] = SIZES[(SIZES.index(chosen["size"]) + 1) % len(SIZES)]
    elif size in SIZES:
        chosen["size"] = size
    if request.form.get("contrast") == "toggle":
        chosen["contrast"] = "normal" if chosen["contrast"] == "high" else "high"
    response = redirect(safe_next(request.form.get("next"), url_for("deliver.join")))
    response.set_cookie(
        COOKIE,
        f"{chosen['size']}.{chosen['contrast']}",
        max_age=COOKIE_AGE,
        samesite="Lax",
        httponly=True,
        secure=bool(current_app.config.get("ITEMBANK_PRODUCTION")),
    )
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    return send_from_directory(
        current_app.static_folder or "static", "favicon.ico", max_age=7 * 24 * 3600
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _comfort() -> dict[str, object]:
        chosen = read(request.cookies.get(COOKIE))
        classes = [f"text-{chosen['size']}"] if chosen["size"] != "normal" else []
        if chosen["contrast"] == "high":
            classes.append("contrast-high")
        labels = {"normal": _("normal"), "large": _("large"), "larger": _("larger")}
        return {
            "comfort": chosen,
            "comfort_classes": " ".join(classes),
            "comfort_size_label": labels[chosen["size"]],
        }

"""Template filters and globals: inline prompts, status names, dates for the locale, answers."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from .i18n import current_language

STATUS_LABELS = {
    "started": _l("started"),
    "in_progress": _l("in progress"),
    "finished": _l("finished"),
    "expired": _l("time up"),
}
_ONE_PARAGRAPH = re.compile(r"^\s*<p>(.*)</p>\s*$", re.S)


def unwrap_p(html: str) -> Markup:
    """Sanitised HTML of one paragraph without its <p>, for a legend or a label; several
    paragraphs stay as they are.  The input is already sanitised (itembank.delivery.student_view)."""
    match = _ONE_PARAGRAPH.match(html)
    if match and "<p>" not in match.group(1):
        return Markup(match.group(1))
    return Markup(html)


def datetime_short(value: datetime | None) -> str:
    if value is None:
        return "–"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return format_datetime(value, "short")


def answer_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return json.dumps(value, ensure_ascii=False)


def init_app(app: Flask) -> None:
    app.add_template_filter(unwrap_p)
    app.add_template_filter(datetime_short)
    app.add_template_filter(answer_text)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "content_language": current_language(),
            "status_label": lambda status: STATUS_LABELS.get(status, status),
        }

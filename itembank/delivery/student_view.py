"""What a student is shown of an item, in one language: the unit's stimulus, the prompt and the
options, statements or choices; never a key, accepted answers, scoring rules, a coding guide or
parameters.  The same dict is the API's ``item`` and what the delivery pages render.

Markdown (stimulus text, prompts) is rendered to HTML and sanitised with nh3; the source text is
kept beside it (``text``) for clients that render it themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import markdown as markdown_lib
import nh3

from itembank.bank.markdown_rules import markdown_extensions, prepare_markdown
from itembank.bank.schema import (
    ComplexChoice,
    ImageBlock,
    LocalText,
    MultipleChoice,
    Order,
    SingleChoice,
    TableBlock,
    TextBlock,
    cell_text,
)
from itembank.bank.schema import Unit as UnitSchema

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "sub", "sup", "ul", "ol", "li", "blockquote",
    "code", "pre", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
    "span", "abbr",
}  # fmt: skip


def render_markdown(text: str) -> str:
    """Markdown → sanitised HTML (no links, images, scripts or attributes beyond the safe few)."""
    html = markdown_lib.markdown(prepare_markdown(text), extensions=markdown_extensions(), output_format="html")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes={"abbr": {"title"}}, link_rel=None)


def _text(value: LocalText | str | int | float | None, language: str) -> str | None:
    return None if value is None else cell_text(value, language)


def _rich(value: LocalText, language: str) -> dict[str, str]:
    text = value.get(language)
    return {"text": text, "html": render_markdown(text)}


def stimulus_view(
    unit: UnitSchema, language: str, media_url: Callable[[str], str | None]
) -> list[dict[str, Any]]:
    """The unit's stimulus blocks in ``language``; ``media_url(src)`` gives an image's address."""
    blocks: list[dict[str, Any]] = []
    for block in unit.stimulus:
        if isinstance(block, TextBlock):
            blocks.append({"type": "text", **_rich(block.text, language)})
        elif isinstance(block, TableBlock):
            blocks.append(
                {
                    "type": "table",
                    "caption": _text(block.caption, language),
                    "columns": [_text(c, language) for c in block.columns],
                    "rows": [[_text(c, language) for c in row] for row in block.rows],
                    "source": _text(block.source, language),
                }
            )
        elif isinstance(block, ImageBlock):
            blocks.append(
                {
                    "type": "image",
                    "src": media_url(block.src),
                    "alt": block.alt.get(language),
                    "caption": _text(block.caption, language),
                    "width": block.width,
                }
            )
    return blocks


def item_view(
    item: Any,
    unit: UnitSchema,
    language: str,
    media: Mapping[str, str] | None = None,
    media_prefix: str = "/media/",
) -> dict[str, Any]:
    """The item as a student sees it, in ``language`` ("zh-TW" or "en").

    ``media`` maps the unit's image paths to their stored sha256; images are addressed as
    ``media_prefix + sha256``."""
    media = media or {}

    def media_url(src: str) -> str | None:
        digest = media.get(src)
        return f"{media_prefix}{digest}" if digest else None

    position = [i.id for i in unit.items].index(item.id)
    prompt = item.prompt.get(language)
    view: dict[str, Any] = {
        "id": item.id,
        "type": item.type,
        "unit": {
            "id": unit.id,
            "title": unit.title.get(language),
            "position": position + 1,
            "items": len(unit.items),
        },
        "stimulus": stimulus_view(unit, language, media_url),
        "prompt": prompt,
        "prompt_html": render_markdown(prompt),
        "language": language,
    }
    if isinstance(item, SingleChoice | MultipleChoice | Order):
        view["options"] = [{"id": o.id, "text": o.text.get(language)} for o in item.options]
    elif isinstance(item, ComplexChoice):
        view["statements"] = [{"id": s.id, "text": s.text.get(language)} for s in item.statements]
        view["choices"] = [{"id": c.id, "text": c.text.get(language)} for c in item.choices]
    return view

"""Markdown texts of the bank as XHTML inside QTI bodies, and QTI/XHTML content back as Markdown.

Export renders Markdown with the project's Markdown library; import writes Markdown for the XHTML
that renderer produces (paragraphs, emphasis, lists, links, quotes, headings, code), so a bank text
comes back as it went out.  Raw HTML in a bank text is escaped, as the web app never shows it.
"""

from __future__ import annotations

import re

import markdown as markdown_lib
from lxml import etree

from itembank.bank.markdown_rules import prepare_markdown

from .package import xml_parser

_WS = re.compile(r"\s+")
_INDENT = re.compile(r"\n[ \t]+")


def local(el: etree._Element) -> str:
    """An element's name without its namespace ('' for comments and processing instructions)."""
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def markdown_elements(text: str, ns: str) -> list[etree._Element]:
    """The block elements (in namespace ``ns``) that ``text`` renders to."""
    html = markdown_lib.markdown(prepare_markdown(text.replace("<", "&lt;")), extensions=["sane_lists"],
                                 output_format="xhtml")
    html = html.replace("&nbsp;", "&#160;")
    wrapper = etree.fromstring(f'<div xmlns="{ns}">{html}</div>'.encode(), xml_parser())
    return list(wrapper)


def plain_text(el: etree._Element) -> str:
    """All text inside ``el``, whitespace collapsed (for option texts, titles, table cells)."""
    return _WS.sub(" ", "".join(el.itertext())).strip()


# -- XHTML to Markdown -------------------------------------------------------------------------
_BLOCK = {"p", "div", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table",
          "figure", "section", "article", "aside", "header", "footer", "nav", "qti-content-body",
          "qti-prompt", "dl"}


def to_markdown(el: etree._Element, collapse: bool = True, skip: frozenset[str] = frozenset()) -> str:
    """The content of ``el`` as Markdown.  ``collapse`` folds whitespace runs (third-party markup
    is indented); our own exports keep line breaks inside paragraphs.  Elements named in ``skip``
    (e.g. interactions) are left out."""
    blocks = _blocks(el, collapse, skip)
    return "\n\n".join(b for b in blocks if b.strip()).strip()


def _blocks(el: etree._Element, collapse: bool, skip: frozenset[str]) -> list[str]:
    out: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        text = "".join(inline)
        text = _WS.sub(" ", text).strip() if collapse else text.strip()
        if text:
            out.append(text)
        inline.clear()

    if el.text:
        inline.append(el.text)
    for child in el:
        name = local(child)
        if name in skip or not name:
            pass
        elif name in _BLOCK:
            flush()
            out.extend(_block(child, collapse, skip))
        else:
            inline.append(_inline(child, collapse, skip))
        if child.tail:
            inline.append(child.tail)
    flush()
    return out


def _block(el: etree._Element, collapse: bool, skip: frozenset[str]) -> list[str]:
    name = local(el)
    if name == "p":
        text = _inline_content(el, collapse, skip)
        return [text] if text else []
    if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return [f"{'#' * int(name[1])} {_inline_content(el, collapse, skip)}"]
    if name in ("ul", "ol"):
        lines = []
        for n, li in enumerate((c for c in el if local(c) == "li"), start=1):
            # a list item's continuation lines are indented by the list below: the indentation they
            # have in the XHTML is dropped, else it grows on every round trip
            body = "\n\n".join(_blocks(li, collapse, skip)) if any(local(c) in _BLOCK for c in li) \
                else _INDENT.sub("\n", _inline_content(li, collapse, skip))
            marker = f"{n}. " if name == "ol" else "- "
            lines.append(marker + body.replace("\n", "\n" + " " * len(marker)))
        return ["\n".join(lines)]
    if name == "blockquote":
        inner = "\n\n".join(_blocks(el, collapse, skip))
        return ["\n".join("> " + line if line else ">" for line in inner.split("\n"))]
    if name == "pre":
        return ["```\n" + "".join(el.itertext()).rstrip("\n") + "\n```"]
    if name == "hr":
        return ["---"]
    return _blocks(el, collapse, skip)


def _inline_content(el: etree._Element, collapse: bool, skip: frozenset[str]) -> str:
    parts = [el.text or ""]
    for child in el:
        if local(child) not in skip and local(child):
            parts.append(_inline(child, collapse, skip))
        parts.append(child.tail or "")
    text = "".join(parts)
    return _WS.sub(" ", text).strip() if collapse else text.strip()


def _inline(el: etree._Element, collapse: bool, skip: frozenset[str]) -> str:
    name = local(el)
    inner = _inline_content(el, collapse, skip)
    if name in ("strong", "b"):
        return f"**{inner}**" if inner else ""
    if name in ("em", "i"):
        return f"*{inner}*" if inner else ""
    if name == "code":
        return f"`{inner}`"
    if name == "br":
        return "\n"
    if name == "a" and el.get("href"):
        return f"[{inner}]({el.get('href')})"
    return inner

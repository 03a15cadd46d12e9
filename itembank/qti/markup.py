"""Markdown texts of the bank as XHTML inside QTI bodies, and QTI/XHTML content back as Markdown.

Export renders Markdown with the project's Markdown library; import writes Markdown for the XHTML
that renderer produces (paragraphs, line breaks, emphasis, code, links, lists — tight, loose and
nested —, quotes, headings, rules and code blocks), so a bank text comes back byte for byte as it
went out (tests/itembank/qti/test_markup.py lists the constructs).  What the XHTML cannot say is
carried in a class: a quote or heading written on the line right under a paragraph, without a
blank line, renders exactly as one after a blank line, and carries ``class="gc-md-under"``; so
does a list right under a line of text, which is a list as on the web.
Raw HTML in a bank text is escaped, as the web app never shows it; text that would read as
Markdown syntax (``*not emphasis*``) is written back with backslashes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from xml.etree import ElementTree

import markdown as markdown_lib
from lxml import etree
from markdown.blockprocessors import BlockQuoteProcessor, HashHeaderProcessor
from markdown.extensions import Extension

from itembank.bank.markdown_rules import ListUnderText, prepare_markdown

from .package import xml_parser

_WS = re.compile(r"\s+")
_INDENT = re.compile(r"\n[ \t]+")
UNDER = "gc-md-under"  # class of a block written on the line right under the previous one


def local(el: etree._Element) -> str:
    """An element's name without its namespace ('' for comments and processing instructions)."""
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


# -- Markdown to XHTML -------------------------------------------------------------------------
class _QuoteUnder(BlockQuoteProcessor):
    """A quote whose first line follows a paragraph's line: marked, so it comes back there."""

    def run(self, parent: ElementTree.Element, blocks: list[str]) -> None:
        m = self.RE.search(blocks[0])
        under = bool(m and blocks[0][:m.start()].strip())
        before = list(parent)
        super().run(parent, blocks)
        if under and len(parent) and parent[-1].tag == "blockquote" and parent[-1] not in before:
            parent[-1].set("class", UNDER)


_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


class _HeadingUnder(HashHeaderProcessor):
    """A heading whose line follows a paragraph's line: marked, so it comes back there."""

    def run(self, parent: ElementTree.Element, blocks: list[str]) -> None:
        m = self.RE.search(blocks[0])
        under = bool(m and blocks[0][:m.start()].strip())
        before = list(parent)
        super().run(parent, blocks)
        added = [c for c in parent if c not in before and c.tag in _HEADINGS]
        if under and added:
            added[-1].set("class", UNDER)


class _ListUnder(ListUnderText):
    """The bank's rule for a list right under a line of text (itembank/bank/markdown_rules.py), the
    list marked so that it comes back there."""

    def mark(self, element: ElementTree.Element) -> None:
        element.set("class", UNDER)


class _UnderExtension(Extension):
    def extendMarkdown(self, md: markdown_lib.Markdown) -> None:  # noqa: N802 (the library's name)
        parser = md.parser.blockprocessors
        parser.register(_QuoteUnder(md.parser), "quote", 20)
        parser.register(_HeadingUnder(md.parser), "hashheader", 70)
        parser.register(_ListUnder(md.parser), "list-under-text", 15)  # before a paragraph (10) takes it


def _render(text: str, marked: bool) -> str:
    extensions: list[str | Extension] = ["tables", "sane_lists"]
    if marked:
        extensions.append(_UnderExtension())
    html = markdown_lib.markdown(prepare_markdown(text.replace("<", "&lt;")), extensions=extensions,
                                 output_format="xhtml")
    return html.replace("&nbsp;", "&#160;")


def markdown_elements(text: str, ns: str) -> list[etree._Element]:
    """The block elements (in namespace ``ns``) that ``text`` renders to."""
    wrapper = etree.fromstring(f'<div xmlns="{ns}">{_render(text, True)}</div>'.encode(), xml_parser())
    return list(wrapper)


def plain_text(el: etree._Element) -> str:
    """All text inside ``el``, whitespace collapsed (for option texts, titles, table cells)."""
    return _WS.sub(" ", "".join(el.itertext())).strip()


# -- XHTML to Markdown -------------------------------------------------------------------------
_BLOCK = {"p", "div", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table",
          "figure", "section", "article", "aside", "header", "footer", "nav", "qti-content-body",
          "qti-prompt", "dl"}
_TIGHT = "\x00"  # a block that starts with it goes on the line under the previous block
_BR = "\x01"  # a hard line break, written as two spaces at the end of the line
_BR_AND_SPACE = re.compile(_BR + r"[ \t]*\n?[ \t]*")
_MAYBE_SYNTAX = re.compile(r"[\\`*_\[]|(^|\n)\s*([#>+\-]|\d+\.)")
_ESCAPE = re.compile(r"[\\`*_\[\]]")
_LINE_START = re.compile(r"(^|\n)([ \t]*)([#>+\-]|\d+(?=\.))")


def to_markdown(el: etree._Element, collapse: bool = True, skip: frozenset[str] = frozenset()) -> str:
    """The content of ``el`` as Markdown.  ``collapse`` folds whitespace runs (third-party markup
    is indented); our own exports keep line breaks inside paragraphs.  Elements named in ``skip``
    (e.g. interactions) are left out."""
    return _join(_blocks(el, collapse, skip)).strip()


def _join(blocks: list[str]) -> str:
    out = ""
    for block in blocks:
        if not block.strip(_TIGHT).strip():
            continue
        if out:
            out += "\n" if block.startswith(_TIGHT) else "\n\n"
        out += block.lstrip(_TIGHT)
    return out


def _blocks(el: etree._Element, collapse: bool, skip: frozenset[str]) -> list[str]:
    out: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        text = _finish("".join(inline), collapse)
        if text:
            out.append(text)
        inline.clear()

    if el.text:
        inline.append(_literal(el.text, True))
    for child in el:
        name = local(child)
        if name in skip or not name:
            pass
        elif name in _BLOCK:
            flush()
            blocks = _block(child, collapse, skip)
            if blocks and UNDER in (child.get("class") or "").split():
                blocks[0] = _TIGHT + blocks[0]
            out.extend(blocks)
        else:
            inline.append(_inline(child, collapse, skip))
        if child.tail:
            inline.append(_literal(child.tail, not inline))
    flush()
    return out


def _block(el: etree._Element, collapse: bool, skip: frozenset[str]) -> list[str]:
    name = local(el)
    if name == "p":
        text = _inline_content(el, collapse, skip)
        return [text] if text else []
    if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return [f"{'#' * int(name[1])} {_inline_content(el, collapse, skip, line_start=False)}"]
    if name in ("ul", "ol"):
        return [_list(el, collapse, skip)]
    if name == "blockquote":
        inner = _join(_blocks(el, collapse, skip))
        return ["\n".join("> " + line if line else ">" for line in inner.split("\n"))]
    if name == "pre":
        code = "".join(el.itertext()).rstrip("\n")
        return ["\n".join("    " + line if line.strip() else "" for line in code.split("\n"))]
    if name == "hr":
        return ["---"]
    if name == "table":
        return _table(el, collapse, skip)
    return _blocks(el, collapse, skip)


def _table(el: etree._Element, collapse: bool, skip: frozenset[str]) -> list[str]:
    """A table as a Markdown table (as the web and paper render one; the first row is its head),
    its caption a paragraph before it; a cell's blocks are joined on one line, ``|`` escaped."""
    def rows_of(node: etree._Element) -> list[etree._Element]:
        found = []
        for child in node:
            if local(child) == "tr":
                found.append(child)
            elif local(child) in ("thead", "tbody", "tfoot"):
                found.extend(c for c in child if local(c) == "tr")
        return found

    def cell(td: etree._Element) -> str:
        text = _join(_blocks(td, True, skip)).replace(_TIGHT, "")
        return _WS.sub(" ", text.replace("  \n", " ")).strip().replace("|", "\\|") or " "

    rows = [[cell(td) for td in tr if local(td) in ("td", "th")
             for _ in range(max(1, int(td.get("colspan") or 1) if (td.get("colspan") or "1").isdigit() else 1))]
            for tr in rows_of(el)]
    rows = [r for r in rows if r]
    if not rows:
        return _blocks(el, collapse, skip)
    width = max(len(r) for r in rows)
    rows = [r + [" "] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(r) + " |" for r in rows]
    lines.insert(1, "| " + " | ".join("---" for _ in range(width)) + " |")
    caption = next((c for c in el if local(c) == "caption"), None)
    out = [_inline_content(caption, True, skip)] if caption is not None else []
    return [*[c for c in out if c], "\n".join(lines)]


def _list(el: etree._Element, collapse: bool, skip: frozenset[str]) -> str:
    """A list as Python-Markdown reads it: an item that starts with a paragraph (``<li><p>``) was
    written after a blank line (the first item: when the second one was), and its blocks are apart
    by blank lines; an item's own text has its nested list on the next line; continuation lines are
    indented by the marker's width, further blocks and nested lists by four spaces."""
    out = ""
    for n, li in enumerate((c for c in el if local(c) == "li"), start=1):
        marker = f"{n}. " if local(el) == "ol" else "- "
        loose = not (li.text or "").strip() and len(li) > 0 and local(li[0]) == "p"
        if out:
            out += "\n\n" if loose else "\n"
        blocks = _item_blocks(li, collapse, skip) or [("", True)]  # an empty item keeps its marker
        for i, (text, paragraph) in enumerate(blocks):
            if paragraph:  # the indentation continuation lines have in the XHTML is not the Markdown's
                text = _INDENT.sub("\n", text)
            if i == 0:
                out += (marker + text.replace("\n", "\n" + " " * len(marker))).rstrip(" ")
            else:
                out += ("\n\n" if loose else "\n") + "\n".join("    " + line if line else "" for line in text.split("\n"))
    return out


def _item_blocks(li: etree._Element, collapse: bool, skip: frozenset[str]) -> list[tuple[str, bool]]:
    """A list item's blocks as (Markdown, whether it is a paragraph)."""
    out: list[tuple[str, bool]] = []
    inline: list[str] = [_literal(li.text, True)] if li.text else []

    def flush() -> None:
        text = _finish("".join(inline), collapse)
        if text:
            out.append((text, True))
        inline.clear()

    for child in li:
        name = local(child)
        if name in skip or not name:
            pass
        elif name in _BLOCK:
            flush()
            out.extend((block.lstrip(_TIGHT), name == "p") for block in _block(child, collapse, skip))
        else:
            inline.append(_inline(child, collapse, skip))
        if child.tail:
            inline.append(_literal(child.tail, not "".join(inline).strip()))
    flush()
    return out


def _inline_content(el: etree._Element, collapse: bool, skip: frozenset[str], line_start: bool = True) -> str:
    parts = [_literal(el.text or "", line_start)]
    for child in el:
        if local(child) not in skip and local(child):
            parts.append(_inline(child, collapse, skip))
        parts.append(_literal(child.tail or "", False))
    return _finish("".join(parts), collapse)


def _finish(text: str, collapse: bool) -> str:
    text = _WS.sub(" ", text).strip() if collapse else text.strip()
    return _BR_AND_SPACE.sub("  \n", text).rstrip()


def _inline(el: etree._Element, collapse: bool, skip: frozenset[str]) -> str:
    name = local(el)
    if name == "code":
        return f"`{''.join(el.itertext())}`"
    inner = _inline_content(el, collapse, skip, line_start=False)
    if name in ("strong", "b"):
        return f"**{inner}**" if inner else ""
    if name in ("em", "i"):
        return f"*{inner}*" if inner else ""
    if name == "br":
        return _BR
    if name == "a" and el.get("href"):
        return f"[{inner}]({el.get('href')})"
    return inner


def _literal(text: str, line_start: bool) -> str:
    """``text`` as Markdown that reads as this text: unchanged unless it would read as syntax
    (emphasis, code, a link, a list, a quote or a heading), else with backslashes."""
    if not _MAYBE_SYNTAX.search(text) or _reads_as_itself(text, line_start):
        return text
    escaped = _ESCAPE.sub(lambda m: "\\" + m.group(0), text)
    return _LINE_START.sub(lambda m: m.group(1) + m.group(2) + "\\" + m.group(3), escaped)


@lru_cache(maxsize=4096)
def _reads_as_itself(text: str, line_start: bool) -> bool:
    probe = text.strip() if line_start else "x" + text.rstrip()
    if not probe:
        return True
    html = etree.fromstring(f"<div>{_render(probe, False)}</div>".encode(), xml_parser())
    return len(html) == 1 and html[0].tag == "p" and len(html[0]) == 0 and html[0].text == probe

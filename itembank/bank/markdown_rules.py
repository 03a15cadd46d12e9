"""Rules every renderer of the bank's Markdown texts applies (web delivery, paper, QTI export), so
that a text means the same everywhere.

1. A heading needs a space after its ``#`` marks (as in CommonMark): 「#1 阿明的留言」 or "#2 of 5" at
   the start of a line is text, not a heading.  Python-Markdown alone would make it an ``<h1>``
   (:func:`prepare_markdown`).
2. A list may start on the line right under a line of text, without a blank line between (authors
   write 「**留言**」 and its comments so): a line starting with ``- ``, ``* ``, ``+ `` or ``1. `` there
   starts a list.  Python-Markdown alone keeps such lines in the paragraph.  A line starting with
   another number (``2. ``) right under text stays text, everywhere: QTI 3 cannot say where an
   ordered list starts, and a list must not change its numbers between web, paper and QTI
   (:class:`ListUnderText`, in :func:`markdown_extensions`).
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension

_NOT_A_HEADING = re.compile(r"^( {0,3})(#{1,6})(?=[^#\s])", re.MULTILINE)

# a line of a block that starts a list under the line before it, and a block that is a list already
LIST_UNDER_TEXT = re.compile(r"\n(?=[ ]{0,3}(?:[-*+]|1\.)[ ]+\S)")
LIST_ITEM = re.compile(r"[ ]{0,3}(?:[-*+]|\d+\.)[ ]+\S")


def prepare_markdown(text: str) -> str:
    """``text`` with line-start ``#`` marks that are not followed by a space escaped (kept as text)."""
    return _NOT_A_HEADING.sub(lambda m: m.group(1) + "\\#" * len(m.group(2)), text)


class ListUnderText(BlockProcessor):
    """Rule 2: a block of text with a list item's line under it is the text, then the list."""

    def test(self, parent: ElementTree.Element, block: str) -> bool:
        return not LIST_ITEM.match(block) and bool(LIST_UNDER_TEXT.search(block))

    def run(self, parent: ElementTree.Element, blocks: list[str]) -> None:
        block = blocks.pop(0)
        m = LIST_UNDER_TEXT.search(block)
        assert m is not None  # test() found it
        self.parser.parseBlocks(parent, [block[:m.start()]])
        n = len(parent)
        self.parser.parseBlocks(parent, [block[m.end():]])
        if len(parent) > n and parent[n].tag in ("ul", "ol"):
            self.mark(parent[n])

    def mark(self, element: ElementTree.Element) -> None:
        """A hook for a renderer that records where the list was written (QTI export)."""


class MarkdownRules(Extension):
    """The bank's rules as a Python-Markdown extension (rule 1 is applied to the text first)."""

    def __init__(self, list_under: type[ListUnderText] = ListUnderText, **kwargs: Any) -> None:
        self.list_under = list_under
        super().__init__(**kwargs)

    def extendMarkdown(self, md: Any) -> None:  # noqa: N802 (the library's name)
        # before a paragraph (10) takes the block, after lists (30, 40) and quotes (20) took theirs
        md.parser.blockprocessors.register(self.list_under(md.parser), "list-under-text", 15)


def markdown_extensions(*, tables: bool = True) -> list[Any]:
    """The extensions every renderer of the bank's Markdown uses."""
    return [*(["tables"] if tables else []), "sane_lists", MarkdownRules()]

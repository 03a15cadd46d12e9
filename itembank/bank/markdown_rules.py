"""Rules every renderer of the bank's Markdown texts applies first (web delivery, paper, QTI export),
so that a text means the same everywhere.

A heading needs a space after its ``#`` marks (as in CommonMark): 「#1 阿明的留言」 or "#2 of 5" at
the start of a line is text, not a heading.  Python-Markdown alone would make it an ``<h1>``.
"""

from __future__ import annotations

import re

_NOT_A_HEADING = re.compile(r"^( {0,3})(#{1,6})(?=[^#\s])", re.MULTILINE)


def prepare_markdown(text: str) -> str:
    """``text`` with line-start ``#`` marks that are not followed by a space escaped (kept as text)."""
    return _NOT_A_HEADING.sub(lambda m: m.group(1) + "\\#" * len(m.group(2)), text)

"""The one CSV writer for every CSV that leaves the app (downloads of data sets, reports, session
lists, paper answers and templates): a cell that a spreadsheet would run as a formula is
neutralised.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
apostrophe (``'=HYPERLINK(…)``), which spreadsheets show as text and never evaluate.  Numbers are
left alone (``-1.25`` stays a number), so scores, means and θ keep their values.  For analysis
with the raw text, remove one leading apostrophe before those characters (docs/research.md,
"Exports").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will show it and not evaluate it."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` with every cell passed through :func:`safe_cell`."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._buffer = io.StringIO()
        # "\r\n" as the writer's terminator makes it quote every cell holding a "\r" or a "\n";
        # each row then ends in "\n" only
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow([safe_cell(v) for v in row])
        self._out.write(self._buffer.getvalue()[:-2] + "\n")

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: TextIO) -> SafeWriter:
    """The writer to use for a CSV that leaves the app (``\\n`` line endings)."""
    return SafeWriter(out)


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """The rows as safe CSV text."""
    out = io.StringIO()
    writer(out).writerows(rows)
    return out.getvalue()


def safe_csv_text(text: str) -> str:
    """CSV ``text`` built elsewhere (e.g. answers typed into a form) rewritten with safe cells."""
    return csv_text(csv.reader(io.StringIO(text)))

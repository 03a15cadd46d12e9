"""The bounded reading of every CSV the app takes in (responses, data sets, rosters, paper answers,
background files, designs, CAT item models): before a reader looks at the rows,
:func:`checked_text` decodes the bytes and parses the whole file once with limits.

Refused with a ``FILE:ROW:COLUMN`` problem (:class:`~itembank.errors.DataFileError`), never an
exception from the ``csv`` module: bytes that are not UTF-8, a NUL character, a cell longer than
``ITEMBANK_MAX_CSV_CELL_CHARS`` (default 10 000), more rows than ``ITEMBANK_MAX_CSV_ROWS``
(default 1 000 000), more than :data:`MAX_COLUMNS` columns, a quote left open.
Line breaks are normalised to ``\\n`` (a lone ``\\r`` ends a line, as old spreadsheets write it).
"""

from __future__ import annotations

import csv
import io

from itembank import config
from itembank.errors import DataFileError

MAX_COLUMNS = 5_000
# the csv module's own limit (131 072 by default) would raise before ours; ours is the smaller one
csv.field_size_limit(max(csv.field_size_limit(), 1_000_000))


def checked_text(data: bytes | str, name: str, *, max_rows: int | None = None) -> str:
    """The text of the CSV ``data`` (UTF-8, a BOM is dropped), after a full bounded parse;
    :class:`DataFileError` naming ``name``, the row and the column otherwise."""
    settings = config.load()
    max_cell = settings.max_csv_cell_chars
    max_rows = max_rows or settings.max_csv_rows
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise DataFileError.at(name, line, 0, "not UTF-8 text; save the file as UTF-8 CSV") from None
    else:
        text = data.removeprefix("\ufeff")
    nul = text.find("\x00")
    if nul >= 0:
        raise DataFileError.at(name, text.count("\n", 0, nul) + 1, 0,
                               "the file holds a NUL character; it is not a CSV text file")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = 0
    try:
        for row in reader:
            rows += 1
            if rows > max_rows:
                raise DataFileError.at(name, reader.line_num, 0, f"more than {max_rows} rows; split the file")
            if len(row) > MAX_COLUMNS:
                raise DataFileError.at(name, reader.line_num, MAX_COLUMNS + 1,
                                       f"more than {MAX_COLUMNS} columns")
            for column, cell in enumerate(row, start=1):
                if len(cell) > max_cell:
                    raise DataFileError.at(name, reader.line_num, column,
                                           f"a cell of {len(cell)} characters; at most {max_cell} are read")
    except csv.Error as exc:
        raise DataFileError.at(name, reader.line_num, 0, f"not a readable CSV ({exc})") from None
    return text

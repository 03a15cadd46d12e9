"""RESPONSES.csv in and out: the wide response file (``person_id``, then one column per item id).

Format (docs/calibration.md): UTF-8, with or without a byte-order mark; the header is ``person_id``
followed by the item ids; each further line is one person; a cell is an integer score ≥ 0, or blank
for "not administered" (never "wrong").  Columns named in ``extra_columns`` (e.g. ``group``) may
follow ``person_id`` and are not read as items.

Every problem of a file is collected and raised once as a :class:`DataFileError`, each named by its
1-based line number and 1-based column number.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from itembank import config
from itembank.errors import DataFileError, Problem

from .csv_import import MAX_COLUMNS, checked_text
from .responses_fast import plain_responses

PERSON_ID = "person_id"


@dataclass(frozen=True)
class ResponseData:
    """Scores of N persons on J items.

    person_ids: (N,).  item_ids: (J,).
    scores: (N persons, J items) float; NaN = not administered, else an integer score ≥ 0.
    lines: (N,) the 1-based line of each person in the file read (empty when not read from a file),
    columns: (J,) the 1-based column of each item in that file.  Both let later checks (e.g. a
    score out of a model's range) name FILE:ROW:COLUMN.
    """

    person_ids: list[str]
    item_ids: list[str]
    scores: np.ndarray
    lines: tuple[int, ...] = ()
    columns: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.scores.shape != (len(self.person_ids), len(self.item_ids)):
            raise ValueError(
                f"scores has shape {self.scores.shape}, expected "
                f"({len(self.person_ids)}, {len(self.item_ids)})"
            )


def _parse_score(text: str) -> tuple[float, str | None]:
    """A cell's score (NaN when blank) and a message when the cell is not a valid score."""
    s = text.strip()
    if s == "":
        return math.nan, None
    try:
        value = float(s)
    except ValueError:
        return math.nan, f"score {text!r} is not a number (use an integer ≥ 0, or blank)"
    if not math.isfinite(value):
        return math.nan, f"score {text!r} is not a finite number"
    if value < 0:
        return math.nan, f"score {text!r} is negative (scores start at 0)"
    if value != int(value):
        return math.nan, f"score {text!r} is not an integer"
    return value, None


def read_responses(path: str | Path, *, extra_columns: Sequence[str] = ()) -> ResponseData:
    """Read a wide RESPONSES.csv.

    ``extra_columns``: header names that are not items (they are skipped here; read them with
    :func:`read_columns`).  Raises :class:`DataFileError` listing every problem as FILE:ROW:COLUMN
    (empty file, missing ``person_id`` header, duplicate item column, duplicate person id, ragged
    row, non-numeric / negative / non-integer score).
    """
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataFileError.at(name, 0, 0, f"cannot read the file: {exc.strerror}") from exc
    plain = plain_responses(raw, person_id=PERSON_ID, extra_columns=extra_columns,
                            max_rows=config.load().max_csv_rows, max_columns=MAX_COLUMNS)
    if plain is not None:  # the common plain file, parsed with numpy (itembank.bank.responses_fast)
        ids, items, matrix, lines, columns = plain
        return ResponseData(ids, items, matrix, lines=lines, columns=columns)
    text = checked_text(raw, name)
    problems: list[Problem] = []
    reader = csv.reader(text.splitlines(keepends=True))
    rows: list[tuple[int, list[str]]] = []
    try:
        for fields in reader:
            rows.append((reader.line_num, fields))
    except csv.Error as exc:
        raise DataFileError.at(name, reader.line_num, 0, f"malformed CSV: {exc}") from exc
    # Lines that are entirely empty carry nothing; skip them (but keep the numbering).
    rows = [(ln, f) for ln, f in rows if any(cell.strip() for cell in f)]
    if not rows:
        raise DataFileError.at(name, 1, 0, "empty file: expected a header `person_id,<item ids>`")
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    if not header or header[0] != PERSON_ID:
        got = header[0] if header else ""
        raise DataFileError.at(
            name, header_line, 1, f"the first column must be `{PERSON_ID}`, got {got!r}"
        )
    extras = set(extra_columns)
    item_cols: list[int] = []
    seen: dict[str, int] = {}
    for col, h in enumerate(header[1:], start=1):
        if h == "":
            problems.append(Problem(name, header_line, col + 1, "empty column name"))
            continue
        if h == PERSON_ID:
            problems.append(Problem(name, header_line, col + 1, f"`{PERSON_ID}` appears twice"))
            continue
        if h in seen:
            problems.append(
                Problem(
                    name,
                    header_line,
                    col + 1,
                    f"duplicate item column {h!r} (first at column {seen[h] + 1})",
                )
            )
            continue
        seen[h] = col
        if h not in extras:
            item_cols.append(col)
    item_ids = [header[c] for c in item_cols]
    width = len(header)
    person_ids: list[str] = []
    first_line: dict[str, int] = {}
    scores = np.full((len(rows) - 1, len(item_cols)), np.nan)
    for i, (line, fields) in enumerate(rows[1:]):
        if len(fields) != width:
            problems.append(
                Problem(
                    name,
                    line,
                    min(len(fields), width) + 1,
                    f"row has {len(fields)} fields, the header has {width}",
                )
            )
        pid = fields[0].strip() if fields else ""
        if pid == "":
            problems.append(Problem(name, line, 1, "empty person_id"))
        elif pid in first_line:
            problems.append(
                Problem(
                    name, line, 1, f"duplicate person_id {pid!r} (first on line {first_line[pid]})"
                )
            )
        else:
            first_line[pid] = line
        person_ids.append(pid)
        for j, col in enumerate(item_cols):
            if col >= len(fields):
                continue
            value, message = _parse_score(fields[col])
            if message:
                problems.append(Problem(name, line, col + 1, f"item {header[col]}: {message}"))
            scores[i, j] = value
    if problems:
        raise DataFileError(problems)
    return ResponseData(
        person_ids,
        item_ids,
        scores,
        lines=tuple(line for line, _ in rows[1:]),
        columns=tuple(c + 1 for c in item_cols),
    )


def read_columns(path: str | Path, columns: Sequence[str]) -> dict[str, list[str]]:
    """The raw text of the named columns (e.g. a ``group`` column), in row order.

    The file must already be valid for :func:`read_responses`; a missing column raises
    :class:`DataFileError` pointing at the header.
    """
    name = str(path)
    text = Path(path).read_text(encoding="utf-8-sig")
    rows = [r for r in csv.reader(text.splitlines(keepends=True)) if any(c.strip() for c in r)]
    if not rows:
        raise DataFileError.at(name, 1, 0, "empty file")
    header = [h.strip() for h in rows[0]]
    out: dict[str, list[str]] = {}
    for column in columns:
        if column not in header:
            raise DataFileError.at(name, 1, 0, f"no column named {column!r}")
        k = header.index(column)
        out[column] = [r[k].strip() if k < len(r) else "" for r in rows[1:]]
    return out


def _format_score(value: float) -> str:
    return "" if math.isnan(value) else str(int(value))


def write_responses(path: str | Path, data: ResponseData) -> None:
    """Write ``data`` as a wide RESPONSES.csv (UTF-8 without BOM, ``\\n`` line endings)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([PERSON_ID, *data.item_ids])
        for pid, row in zip(data.person_ids, data.scores, strict=True):
            writer.writerow([pid, *(_format_score(float(v)) for v in row)])

"""BACKGROUND.csv: one row per student, ``person_id`` then any columns (group, weights, stratum,
school, replicate weights, questionnaire indices), and the design matrix of a population model
built from some of its columns.

Every problem names FILE:ROW:COLUMN (:class:`itembank.errors.DataFileError`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from itembank.bank.csv_import import checked_text
from itembank.bank.responses_csv import PERSON_ID
from itembank.errors import DataFileError, Problem

MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Background:
    """The file's columns as text.  person_ids: (N,); header: column names (person_id first);
    cells[name]: (N,) stripped text; lines: (N,) 1-based line of each row."""

    path: str
    person_ids: list[str]
    header: list[str]
    cells: dict[str, list[str]]
    lines: list[int]

    def column_number(self, name: str) -> int:
        return self.header.index(name) + 1

    def require(self, names: Sequence[str], option: str) -> None:
        """A :class:`DataFileError` at the header for every name that is not a column."""
        missing = [
            Problem(self.path, 1, 0, f"{option}: no column {n!r} (columns: {', '.join(self.header)})")
            for n in names
            if n not in self.cells
        ]
        if missing:
            raise DataFileError(missing)

    def aligned(self, person_ids: Sequence[str], responses_path: str, lines: Sequence[int]) -> np.ndarray:
        """Row of each of ``person_ids`` in this file, (N,); a person missing here is an error at
        that person's line of the responses file."""
        pos = {p: i for i, p in enumerate(self.person_ids)}
        problems = [
            Problem(responses_path, int(lines[k]) if lines else k + 2, 1,
                    f"person {pid!r} has no row in {self.path}")
            for k, pid in enumerate(person_ids)
            if pid not in pos
        ]
        if problems:
            raise DataFileError(problems[:MAX_PROBLEMS])
        return np.array([pos[p] for p in person_ids], dtype=int)

    def labels(self, name: str, rows: np.ndarray, option: str) -> np.ndarray:
        """Non-empty text labels of column ``name`` at ``rows``, (n,) object array."""
        self.require([name], option)
        values = np.array(self.cells[name], dtype=object)[rows]
        empty = [int(r) for r in rows if not self.cells[name][int(r)]]
        if empty:
            col = self.column_number(name)
            raise DataFileError(
                [Problem(self.path, self.lines[r], col, f"{option}: empty {name}") for r in empty][
                    :MAX_PROBLEMS
                ]
            )
        return values

    def numbers(self, name: str, rows: np.ndarray, option: str, *, allow_missing: bool = False,
                non_negative: bool = False) -> np.ndarray:
        """Column ``name`` at ``rows`` as floats (n,); blank is NaN when ``allow_missing``."""
        self.require([name], option)
        col = self.column_number(name)
        out = np.full(rows.size, np.nan)
        problems: list[Problem] = []
        for k, r in enumerate(rows):
            text = self.cells[name][int(r)]
            if text == "" and allow_missing:
                continue
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or (non_negative and value < 0):
                what = "a number ≥ 0" if non_negative else "a number"
                problems.append(
                    Problem(self.path, self.lines[int(r)], col, f"{option}: {name} must be {what}, got {text!r}")
                )
            out[k] = value
        if problems:
            raise DataFileError(problems[:MAX_PROBLEMS])
        return out

    def prefixed(self, prefix: str) -> list[str]:
        """Columns named PREFIX1, PREFIX2, ... in numeric order."""
        found = [
            (int(h[len(prefix):]), h)
            for h in self.header
            if h.startswith(prefix) and h[len(prefix):].isdigit()
        ]
        return [h for _, h in sorted(found)]


@dataclass(frozen=True)
class JoinedColumns:
    """BACKGROUND.csv with the columns of files joined to it by ``person_id`` (the INDICES.csv
    of ``itembank questionnaire scale``).  Each column is read from its own file, so a problem
    names that file's row; a person without a row in a joined file has blank cells there.
    sources: per file, the file and the row of each of the N persons (−1: no row)."""

    sources: list[tuple[Background, np.ndarray]]

    def _source(self, name: str) -> tuple[Background, np.ndarray]:
        return next(src for src in self.sources if name in src[0].cells)

    def require(self, names: Sequence[str], option: str) -> None:
        """As :meth:`Background.require`, at the header of the first file."""
        known = {h for bg, _ in self.sources for h in bg.header}
        self.sources[0][0].require([n for n in names if n not in known], option)

    def place(self, name: str) -> tuple[str, int]:
        """The file of column ``name`` and its 1-based column number there."""
        bg, _ = self._source(name)
        return bg.path, bg.column_number(name)

    def text(self, name: str) -> list[str]:
        """The N cells of column ``name`` ("" where the person has no row)."""
        bg, rows = self._source(name)
        return [bg.cells[name][int(r)] if r >= 0 else "" for r in rows]

    def numbers(self, name: str, option: str) -> np.ndarray:
        """The column as floats (N,), NaN for a blank cell or a person without a row; a cell
        that is not a number is a problem at its file, row and column."""
        self.require([name], option)
        bg, rows = self._source(name)
        out = np.full(rows.size, np.nan)
        have = rows >= 0
        out[have] = bg.numbers(name, rows[have], option, allow_missing=True)
        return out


def join(background: Background, rows: np.ndarray, person_ids: Sequence[str],
         others: Sequence[Background]) -> JoinedColumns:
    """``background`` (at ``rows``, the rows of the N persons ``person_ids``) with the columns
    of ``others`` joined by person_id.  A column name that an earlier file already has, or a
    file that has a row for none of the persons, is a problem in that file."""
    sources = [(background, np.asarray(rows, int))]
    seen = {h: background.path for h in background.header if h != PERSON_ID}
    problems: list[Problem] = []
    for other in others:
        for col, h in enumerate(other.header, start=1):
            if h == PERSON_ID:
                continue
            if h in seen:
                problems.append(Problem(other.path, 1, col, f"column {h!r} is also in {seen[h]}"))
            seen.setdefault(h, other.path)
        pos = {p: i for i, p in enumerate(other.person_ids)}
        at = np.array([pos.get(p, -1) for p in person_ids], dtype=int)
        if person_ids and not (at >= 0).any():
            problems.append(Problem(other.path, 1, other.column_number(PERSON_ID),
                                    "no person_id of the responses has a row here"))
        sources.append((other, at))
    if problems:
        raise DataFileError(problems[:MAX_PROBLEMS])
    return JoinedColumns(sources)


def read_background(path: str | Path) -> Background:
    """Read BACKGROUND.csv (UTF-8, header with ``person_id``, one row per student)."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DataFileError.at(name, 0, 0, f"cannot read the file: {exc.strerror}") from exc
    return parse_background(data, name)


def parse_background(data: bytes | str, name: str) -> Background:
    """Parse the text of a BACKGROUND.csv-like file (an upload); problems name ``name``."""
    text = checked_text(data, name)
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        rows = [(reader.line_num, r) for r in reader]
    except csv.Error as exc:
        raise DataFileError.at(name, reader.line_num, 0, f"malformed CSV: {exc}") from exc
    rows = [(ln, r) for ln, r in rows if any(c.strip() for c in r)]
    if not rows:
        raise DataFileError.at(name, 1, 0, f"empty file: expected a header `{PERSON_ID},...`")
    header = [h.strip() for h in rows[0][1]]
    problems: list[Problem] = []
    if PERSON_ID not in header:
        raise DataFileError.at(name, rows[0][0], 1, f"no column `{PERSON_ID}`")
    for k, h in enumerate(header):
        if not h:
            problems.append(Problem(name, rows[0][0], k + 1, "empty column name"))
        elif header.index(h) != k:
            problems.append(Problem(name, rows[0][0], k + 1, f"duplicate column {h!r}"))
    pcol = header.index(PERSON_ID)
    person_ids: list[str] = []
    lines: list[int] = []
    cells: dict[str, list[str]] = {h: [] for h in header}
    first: dict[str, int] = {}
    for line, r in rows[1:]:
        if len(r) != len(header):
            problems.append(
                Problem(name, line, min(len(r), len(header)) + 1,
                        f"row has {len(r)} fields, the header has {len(header)}")
            )
            continue
        pid = r[pcol].strip()
        if not pid:
            problems.append(Problem(name, line, pcol + 1, "empty person_id"))
            continue
        if pid in first:
            problems.append(
                Problem(name, line, pcol + 1, f"duplicate person_id {pid!r} (first on line {first[pid]})")
            )
            continue
        first[pid] = line
        person_ids.append(pid)
        lines.append(line)
        for h, value in zip(header, r, strict=True):
            cells[h].append(value.strip())
    if problems:
        raise DataFileError(problems[:MAX_PROBLEMS])
    return Background(name, person_ids, header, cells, lines)


def _is_numeric(values: Sequence[str]) -> bool:
    present = [v for v in values if v != ""]
    if not present:
        return False
    try:
        return all(math.isfinite(float(v)) for v in present)
    except ValueError:
        return False


def design_matrix(
    columns: dict[str, Sequence[str]], *, max_columns: int = 40,
    categorical: Sequence[str] = (),
) -> tuple[np.ndarray, list[str]]:
    """The population model's X (N, P) with names: a constant, then per column either the value
    (numeric columns; a blank is the column mean plus a 0/1 ``missing`` indicator) or one dummy
    per level but the first (text columns and the ``categorical`` ones, e.g. the reported
    groups, whose codes may look like numbers; blank is a level of its own).  More than
    ``max_columns`` columns besides the first named column are replaced by their principal
    components explaining 95% of the variance (irt.latent_regression.principal_components)."""
    from irt.latent_regression import principal_components

    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    blocks: list[np.ndarray] = []
    labels: list[str] = []
    for name in names:
        values = list(columns[name])
        if name not in categorical and _is_numeric(values):
            x = np.array([float(v) if v != "" else np.nan for v in values])
            miss = np.isnan(x)
            x[miss] = float(np.nanmean(x))
            blocks.append(x[:, None])
            labels.append(name)
            if miss.any():
                blocks.append(miss[:, None].astype(float))
                labels.append(f"{name}:missing")
        else:
            levels = sorted(set(values))
            arr = np.array(values, dtype=object)
            for level in levels[1:]:
                blocks.append((arr == level).astype(float)[:, None])
                labels.append(f"{name}={level}")
    x = np.hstack(blocks) if blocks else np.empty((n, 0))
    if x.shape[1] > max_columns and names:
        keep = [k for k, lab in enumerate(labels) if lab.split("=")[0].split(":")[0] == names[0]]
        rest = [k for k in range(x.shape[1]) if k not in keep]
        pcs = principal_components(x[:, rest])
        x = np.column_stack([x[:, keep], pcs])
        labels = [labels[k] for k in keep] + [f"pc{c + 1}" for c in range(pcs.shape[1])]
    return np.column_stack([np.ones(n), x]), ["(constant)", *labels]

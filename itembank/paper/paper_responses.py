"""Paper answers back to data: ANSWERS.csv (raw answers as keyed in from booklets) scored with
the same rules as online answers into the wide RESPONSES.csv.

ANSWERS.csv: ``person_id``, ``booklet``, then one column per item id.  A cell holds

- ``single_choice``: one option id (``B``);
- ``multiple_choice``: option ids joined by ``;`` (``A;C``);
- ``complex_choice``: ``statement=choice`` pairs joined by ``;`` (``S1=Y;S2=N``);
- ``order``: the option ids in the order the student numbered them, joined by ``;`` (``C;A;D;B``);
- ``short_response``: the student's text;
- ``open_response``: the coder's code from the coding guide (``2``, ``1``, ``0``, ``9``).

A blank cell of an item in the person's booklet is an omitted answer (score 0; an open response
left blank should be coded ``9``, which also scores 0).  A cell of an item that is not in the
person's booklet must be blank; it stays blank (not administered) in RESPONSES.csv.

Every problem is collected first and reported by row and column; nothing is written then.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from itembank.bank.csv_import import checked_text
from itembank.bank.responses_csv import ResponseData
from itembank.bank.schema import (
    ComplexChoice,
    MultipleChoice,
    OpenResponse,
    Order,
    SingleChoice,
    Unit,
)
from itembank.delivery.scoring import ResponseShapeError, score_response
from itembank.errors import DataFileError, Problem

from .design import Design

PERSON_ID = "person_id"
BOOKLET = "booklet"


def parse_answer(item: Any, raw: str) -> Any:
    """The response of ``item`` written as ``raw`` in ANSWERS.csv (shape as the online API takes)."""
    text = raw.strip()
    if isinstance(item, SingleChoice):
        return text
    if isinstance(item, MultipleChoice | Order):
        return [x.strip() for x in text.split(";") if x.strip()]
    if isinstance(item, ComplexChoice):
        answer: dict[str, str] = {}
        for part in (x.strip() for x in text.split(";")):
            if not part:
                continue
            if "=" not in part:
                raise ResponseShapeError(f"item {item.id}: write statement=choice pairs joined by ';' (e.g. S1=Y;S2=N), got {part!r}")
            sid, cid = (x.strip() for x in part.split("=", 1))
            if sid in answer:
                raise ResponseShapeError(f"item {item.id}: statement {sid} is answered twice")
            answer[sid] = cid
        return answer
    return raw


def score_paper_answer(item: Any, raw: str) -> int:
    """The score of one paper answer; an open response's code is looked up in its coding guide."""
    if isinstance(item, OpenResponse):
        code = raw.strip()
        for c in item.coding_guide:
            if c.code == code:
                return c.score
        codes = ", ".join(c.code for c in item.coding_guide)
        raise ResponseShapeError(f"item {item.id}: {code!r} is not a code of its coding guide; use one of {codes}")
    if not raw.strip():
        return 0  # omitted
    score = score_response(item, parse_answer(item, raw))
    return int(score or 0)


def score_answers(path: str | Path, design: Design, units: Sequence[Unit]) -> ResponseData:
    """Read ANSWERS.csv and score it into wide response data (items in the design's order).

    Raises :class:`DataFileError` listing every problem as FILE:ROW:COLUMN.
    """
    name = str(path)
    try:
        text = checked_text(Path(path).read_bytes(), name)
    except OSError as exc:
        raise DataFileError.at(name, 0, 0, f"cannot read the file: {exc}") from exc
    reader = csv.reader(text.splitlines())
    rows = [(reader.line_num, r) for r in reader]
    rows = [(ln, r) for ln, r in rows if any(c.strip() for c in r)]
    if not rows:
        raise DataFileError.at(name, 1, 0, "empty file: expected a header person_id,booklet,<item ids>")
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    if header[:2] != [PERSON_ID, BOOKLET]:
        raise DataFileError.at(name, header_line, 1, "the header must start with person_id,booklet")
    items: dict[str, Any] = {item.id: item for u in units for item in u.items}
    unit_items: Mapping[str, list[str]] = {u.id: [i.id for i in u.items] for u in units}
    problems: list[Problem] = []
    missing_units = [u for u in design.unit_ids() if u not in unit_items]
    if missing_units:
        raise DataFileError.at(name, 0, 0, f"the design uses unit(s) not in the bank: {', '.join(missing_units)}")
    item_ids = [i for u in design.unit_ids() for i in unit_items[u]]
    column: dict[str, int] = {}
    for k, h in enumerate(header[2:], start=2):
        if h in column:
            problems.append(Problem(name, header_line, k + 1, f"column {h!r} appears twice"))
        elif h not in items:
            problems.append(Problem(name, header_line, k + 1, f"{h!r} is not an item of the bank"))
        elif h not in item_ids:
            problems.append(Problem(name, header_line, k + 1, f"item {h} is in no booklet of the design"))
        else:
            column[h] = k
    booklet_items = {b: {i for u in design.units_of(b) for i in unit_items[u]} for b in design.booklets}
    scores = np.full((len(rows) - 1, len(item_ids)), np.nan)
    person_ids: list[str] = []
    seen: dict[str, int] = {}
    missing_reported: set[str] = set()
    for r, (line, fields) in enumerate(rows[1:]):
        if len(fields) != len(header):
            problems.append(Problem(name, line, min(len(fields), len(header)) + 1,
                                    f"row has {len(fields)} fields, the header has {len(header)}"))
            fields = fields + [""] * (len(header) - len(fields))
        pid = fields[0].strip()
        person_ids.append(pid)
        if not pid:
            problems.append(Problem(name, line, 1, "empty person_id"))
        elif pid in seen:
            problems.append(Problem(name, line, 1, f"duplicate person_id {pid!r} (first on line {seen[pid]})"))
        else:
            seen[pid] = line
        raw_booklet = fields[1].strip()
        try:
            booklet = int(raw_booklet)
        except ValueError:
            booklet = -1
        if booklet not in design.booklets:
            choices = ", ".join(str(b) for b in design.booklets)
            problems.append(Problem(name, line, 2, f"booklet {raw_booklet!r} is not in the design; use one of {choices}"))
            continue
        mine = booklet_items[booklet]
        for j, item_id in enumerate(item_ids):
            col = column.get(item_id)
            if item_id in mine:
                if col is None:
                    if item_id not in missing_reported:
                        missing_reported.add(item_id)
                        problems.append(Problem(name, header_line, 0, f"no column for item {item_id}, which is in booklet {booklet} (line {line})"))
                    continue
                try:
                    scores[r, j] = score_paper_answer(items[item_id], fields[col])
                except ResponseShapeError as exc:
                    problems.append(Problem(name, line, col + 1, str(exc)))
            elif col is not None and fields[col].strip():
                problems.append(Problem(name, line, col + 1, f"item {item_id} is not in booklet {booklet}; leave the cell blank"))
    if problems:
        raise DataFileError(problems)
    return ResponseData(person_ids, item_ids, scores, lines=tuple(ln for ln, _ in rows[1:]))


def administered(data: ResponseData) -> np.ndarray:
    """(N, J) True where the item was in the person's booklet."""
    return ~np.isnan(data.scores)


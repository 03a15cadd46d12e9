"""Paper answers back to data in the web app: one student's answers from the entry form become a
row of ANSWERS.csv (the format of :mod:`itembank.booklets.paper_responses`); an ANSWERS.csv (typed
in or uploaded) is scored with the same rules as online answers and stored as a research data set
(:func:`itembank.research.datasets.upload_dataset`), all or nothing."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from itembank.bank import csv_export
from itembank.bank.responses_csv import ResponseData
from itembank.bank.schema import ComplexChoice, MultipleChoice, Unit
from itembank.errors import DataFileError, Problem, ProblemsError
from itembank.orgs.models import City, School
from itembank.paper import printed
from itembank.paper.design import Design, read_design
from itembank.paper.paper_dataset import store_scored
from itembank.paper.paper_responses import score_answers
from itembank.research.models import Dataset

MAX_UPLOAD = 5_000_000


def design_item_ids(design: Design, units: Mapping[str, Unit]) -> list[str]:
    return [i.id for u in design.unit_ids() for i in units[u].items]


def answers_header(design: Design, units: Mapping[str, Unit]) -> list[str]:
    return ["person_id", "booklet", *design_item_ids(design, units)]


def answers_template(design: Design, units: Mapping[str, Unit]) -> str:
    return csv_export.csv_text([answers_header(design, units)])


def entry_cell(item: Any, form: Any) -> str:
    """The ANSWERS.csv cell of ``item`` from the entry form (a werkzeug MultiDict)."""
    key = f"answer-{item.id}"
    if isinstance(item, MultipleChoice):
        return ";".join(v for v in form.getlist(key) if v)
    if isinstance(item, ComplexChoice):
        pairs = [(s.id, form.get(f"{key}-{s.id}", "")) for s in item.statements]
        return ";".join(f"{sid}={cid}" for sid, cid in pairs if cid)
    return str(form.get(key, "")).replace("\r\n", "\n").strip()


def add_entry(answers: str, header: Sequence[str], person_id: str, booklet: int,
              cells: Mapping[str, str]) -> str:
    """``answers`` (ANSWERS.csv text, possibly empty) with one more row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if not answers.strip():
        writer.writerow(header)
    writer.writerow([person_id, str(booklet), *(cells.get(h, "") for h in header[2:])])
    text = answers if not answers.strip() or answers.endswith("\n") else answers + "\n"
    return (text if answers.strip() else "") + out.getvalue()


def drop_last(answers: str) -> str:
    lines = answers.splitlines(keepends=True)
    return "".join(lines[:-1]) if len(lines) > 2 else ""


def entered_rows(answers: str) -> list[tuple[str, str]]:
    """(person_id, booklet) of each row typed in so far."""
    rows = list(csv.reader(io.StringIO(answers)))
    return [(r[0], r[1]) for r in rows[1:] if len(r) >= 2]


def _renamed(exc: ProblemsError, filename: str) -> DataFileError:
    return DataFileError([Problem(filename, p.line, p.column, p.message) for p in exc.problems])


def read_uploaded_design(data: bytes, filename: str, known_units: Sequence[str]) -> Design:
    """A DESIGN.yaml / DESIGN.csv upload (problems name ``filename``)."""
    suffix = ".csv" if filename.lower().endswith(".csv") else ".yaml"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"design{suffix}"
        path.write_bytes(data)
        try:
            return read_design(path, known_units=list(known_units))
        except ProblemsError as exc:
            raise _renamed(exc, filename) from None
        except UnicodeDecodeError as exc:
            raise DataFileError.at(filename, 0, 0, f"not UTF-8 text ({exc.reason})") from None


def printed_design_id(data: bytes) -> int | None:
    """The ``printed_design`` of a design.yaml downloaded from the print pages
    (:func:`itembank.paper.printed.number_in`)."""
    return printed.number_in(data)


def score(data: bytes, filename: str, design: Design, units: Sequence[Unit]) -> ResponseData:
    """Score ANSWERS.csv bytes; DataFileError names ``filename``, each row and column."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "answers.csv"
        path.write_bytes(data)
        try:
            return score_answers(path, design, units)
        except ProblemsError as exc:
            raise _renamed(exc, filename) from None


def school_codes(session: Session, school_id: int | None) -> tuple[str, str]:
    """(city code, school code) of the user's school, blank for users without one."""
    school = session.get(School, school_id) if school_id else None
    if school is None:
        return "", ""
    city = session.get(City, school.city_id)
    return (city.code if city else ""), school.code


def store(session: Session, data: bytes, filename: str, design: Design, units: Sequence[Unit], *,
          name: str, language: str, window: str | None, user_id: int | None,
          school_id: int | None, printed_design_id: int | None = None) -> Dataset:
    """Score ANSWERS.csv and store the scores as a data set, in the caller's transaction;
    ``printed_design_id``: the printed design ``design`` is (recorded on the data set)."""
    scored = score(data, filename, design, units)
    city, school = school_codes(session, school_id)
    return store_scored(session, scored, data, filename, name=name, language=language, window=window,
                        city=city, school=school, created_by=user_id,
                        printed_design_id=printed_design_id)

"""Response data sets: uploads of the wide RESPONSES.csv with person background columns, snapshots
of a test's online sessions, the response matrix of any selection, and CSV exports.

Upload format: ``person_id``, then any of the background columns ``city, school, class, grade,
language, gender, window`` (and ``booklet``, ignored), the survey design columns ``weight``,
``stratum``, ``psu`` or ``repwt1`` … ``repwtG`` (:mod:`.dataset_design`), then one column per
item id of the bank; integer scores from 0, blank = not administered.  An upload with an unknown item, a score above an
item's maximum, a duplicate person or any cell that :func:`itembank.bank.responses_csv.read_responses`
refuses is refused as a whole with FILE:ROW:COLUMN problems, and nothing is stored.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from itembank.bank import csv_export, csv_import
from itembank.bank.models import Item, ItemVersion, UnitVersion
from itembank.bank.responses_csv import PERSON_ID, read_responses
from itembank.delivery.models import Response as SessionResponse
from itembank.delivery.models import TestSession
from itembank.delivery.practice import not_practice, practice_test_ids
from itembank.errors import DataFileError, ItembankError, Problem
from itembank.orgs.models import City, School, SchoolClass, Student

from . import dataset_design
from .background import Background
from .models import Dataset, DatasetPerson, DatasetResponse
from .scope import Scope, restrict_dataset_persons, scope_for

BACKGROUND_COLUMNS = ("city", "school", "class", "grade", "language", "gender", "window")
IGNORED_COLUMNS = ("booklet",)
_FIELD = {"class": "class_name"}  # column name -> DatasetPerson attribute


@dataclass(frozen=True)
class Matrix:
    """A response matrix: persons (N,) dicts of background (``person_id``, ``dataset_id``,
    city, school, class, grade, language, gender, window), item_ids (J,), scores (N, J) float
    with NaN = not administered.  Persons come in the order of their stored ids."""

    persons: list[dict[str, Any]]
    item_ids: list[str]
    scores: np.ndarray


def latest_item_versions(session: Session, item_ids: Iterable[str] | None = None) -> dict[str, ItemVersion]:
    """Each item's version in the latest version of its unit (what the bank delivers now)."""
    stmt = (
        select(ItemVersion)
        .join(UnitVersion, ItemVersion.unit_version_id == UnitVersion.id)
        .order_by(UnitVersion.unit_id, UnitVersion.version)
    )
    if item_ids is not None:
        stmt = stmt.where(ItemVersion.item_id.in_(list(item_ids)))
    out: dict[str, ItemVersion] = {}
    for iv in session.scalars(stmt):
        out[iv.item_id] = iv  # later versions overwrite earlier ones
    return out


def _read_upload(data: bytes, filename: str) -> tuple[Any, list[str], list[str], list[list[str]]]:
    """Parse the bytes with read_responses; problems name ``filename``."""
    text = csv_import.checked_text(data, filename)  # decoded, bounded, every row readable
    first = next(csv.reader(io.StringIO(text)), [])
    header = [h.strip() for h in first]
    background = [h for h in header if h in BACKGROUND_COLUMNS]
    design, replicates = dataset_design.design_columns(header)
    extras = [*background, *design, *replicates,
              *(h for h in header if h in IGNORED_COLUMNS)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.csv"
        path.write_text(text, encoding="utf-8")
        try:
            parsed = read_responses(path, extra_columns=extras)
        except DataFileError as exc:
            raise DataFileError(
                [Problem(filename, p.line, p.column, p.message) for p in exc.problems]
            ) from None
        rows = list(csv.reader(io.StringIO(text)))
    return parsed, header, background, rows


def upload_dataset(
    session: Session,
    data: bytes,
    filename: str,
    *,
    name: str,
    window: str | None = None,
    created_by: int | None = None,
    replicates: str = "brr-fay",
) -> Dataset:
    """Check and store an uploaded wide CSV in the caller's transaction (raise DataFileError
    listing every problem; nothing is added then).  ``replicates``: how design columns make
    replicates ("jk2" or "brr-fay", built from stratum and psu or read from repwt columns)."""
    try:
        parsed, header, background, rows = _read_upload(data, filename)
    except UnicodeDecodeError as exc:
        raise DataFileError.at(filename, 0, 0, f"not UTF-8 text ({exc.reason})") from exc
    problems: list[Problem] = []
    versions = latest_item_versions(session, parsed.item_ids)
    for item_id, col in zip(parsed.item_ids, parsed.columns, strict=True):
        if item_id not in versions:
            problems.append(Problem(filename, 1, col, f"unknown item {item_id!r}: not in the bank"))
    tops = np.array([versions[i].max_score if i in versions else np.inf for i in parsed.item_ids])
    bad = ~np.isnan(parsed.scores) & (parsed.scores > tops[None, :])
    for n, j in np.argwhere(bad):
        problems.append(
            Problem(
                filename,
                parsed.lines[n],
                parsed.columns[j],
                f"item {parsed.item_ids[j]}: score {int(parsed.scores[n, j])} is above the "
                f"item's maximum {int(tops[j])}",
            )
        )
    if problems:
        raise DataFileError(problems)
    columns = {h: k for k, h in enumerate(header)}
    by_line = {i + 1: r for i, r in enumerate(rows)}

    def cell(line: int, column: str) -> str:
        fields = by_line[line]
        return fields[columns[column]].strip() if columns[column] < len(fields) else ""

    design = None
    design_names, replicate_columns = dataset_design.design_columns(header)
    if design_names or replicate_columns:
        names = {*design_names, *replicate_columns}
        # the file's whole header, so that problems name the file's column numbers
        bg = Background(filename, list(parsed.person_ids), header,
                        {h: [cell(line, h) for line in parsed.lines] for h in names},
                        list(parsed.lines))
        schools = [cell(line, "school") or None if "school" in columns else None
                   for line in parsed.lines]
        design = dataset_design.parse_design(bg, replicates, schools=schools, source="upload")
    dataset = Dataset(
        name=name,
        source="upload",
        window=window or None,
        item_ids=list(parsed.item_ids),
        n_persons=len(parsed.person_ids),
        n_responses=int((~np.isnan(parsed.scores)).sum()),
        created_by=created_by,
    )
    session.add(dataset)
    session.flush()
    person_rows = []
    for pid, line in zip(parsed.person_ids, parsed.lines, strict=True):
        fields = by_line[line]
        row: dict[str, Any] = {"dataset_id": dataset.id, "person_id": pid, "window": window or None}
        for column in background:
            value = fields[columns[column]].strip() if columns[column] < len(fields) else ""
            row[_FIELD.get(column, column)] = value or (row.get(column) if column == "window" else None)
        person_rows.append(row)
    if design is not None:
        for row, values in zip(person_rows, dataset_design.person_values(design), strict=True):
            row.update(values)
        dataset_design.mark_dataset(dataset, design)
    version_ids: dict[str, int | None] = {i: versions[i].id for i in parsed.item_ids}
    _store(session, dataset, person_rows, parsed.item_ids, parsed.scores, version_ids)
    return dataset


def _store(
    session: Session,
    dataset: Dataset,
    person_rows: list[dict[str, Any]],
    item_ids: Sequence[str],
    scores: np.ndarray,
    version_ids: dict[str, int | None] | np.ndarray,
) -> None:
    if person_rows:
        session.execute(insert(DatasetPerson), person_rows)
    refs = dict(
        session.execute(
            select(DatasetPerson.person_id, DatasetPerson.id).where(
                DatasetPerson.dataset_id == dataset.id
            )
        ).all()
    )
    out = []
    for n, j in np.argwhere(~np.isnan(scores)):
        item_id = item_ids[j]
        vid = version_ids[item_id] if isinstance(version_ids, dict) else int(version_ids[n, j])
        out.append(
            {
                "dataset_id": dataset.id,
                "person_ref": refs[person_rows[n]["person_id"]],
                "item_id": item_id,
                "item_version_id": vid,
                "score": int(scores[n, j]),
            }
        )
    for start in range(0, len(out), 20_000):
        session.execute(insert(DatasetResponse), out[start : start + 20_000])


class PracticeTestError(ItembankError):
    """A practice test's sessions are asked for as research data; they never are."""

    def __init__(self, test_id: str) -> None:
        super().__init__(f"test {test_id!r} is a practice test: its sessions show students the keys "
                         "and never enter research data")
        self.test_id = test_id


def _sessions_rows(
    session: Session, test_id: str
) -> tuple[list[dict[str, Any]], list[str], np.ndarray, np.ndarray]:
    """Persons (one per session, background from the roster, window = the month it started),
    item ids, scores (N, J) and the item versions delivered (N, J) of a test's sessions.
    PracticeTestError for a practice test (and its rows are left out of every query anyway)."""
    if test_id in practice_test_ids(session):
        raise PracticeTestError(test_id)
    research = not_practice()
    # columns, not entities: 5,000 sessions as ORM objects (five per row) cost most of a report
    stmt = (
        select(TestSession.id, TestSession.language, TestSession.started_at, Student.grade,
               Student.gender, School.code.label("school"), City.code.label("city"),
               SchoolClass.name.label("class_name"))
        .outerjoin(Student, TestSession.student_ref == Student.id)
        .outerjoin(School, Student.school_id == School.id)
        .outerjoin(City, School.city_id == City.id)
        .outerjoin(SchoolClass, TestSession.class_id == SchoolClass.id)
        .where(TestSession.test_id == test_id, research)
        .order_by(TestSession.started_at, TestSession.id)
    )
    sessions = session.execute(stmt).all()
    responses = session.execute(
        select(SessionResponse.session_id, SessionResponse.item_id,
               SessionResponse.item_version_id, SessionResponse.score)
        .join(TestSession, SessionResponse.session_id == TestSession.id)
        .where(TestSession.test_id == test_id, SessionResponse.score.is_not(None), research)
    ).all()
    item_ids = sorted({r.item_id for r in responses})
    col = {i: k for k, i in enumerate(item_ids)}
    row_of = {ts.id: k for k, ts in enumerate(sessions)}
    scores = np.full((len(sessions), len(item_ids)), np.nan)
    vids = np.zeros((len(sessions), len(item_ids)), dtype=int)
    if responses:
        session_ids, items, version_ids, values = zip(*responses, strict=True)
        at = ([row_of[s] for s in session_ids], [col[i] for i in items])
        scores[at] = values  # a session answers an item once: no cell is written twice
        vids[at] = version_ids
    persons = [
        {
            "person_id": ts.id,
            "city": ts.city,
            "school": ts.school,
            "class_name": ts.class_name,
            "grade": str(ts.grade) if ts.grade is not None else None,
            "language": ts.language,
            "gender": ts.gender,
            "window": ts.started_at.strftime("%Y-%m") if ts.started_at else None,
        }
        for ts in sessions
    ]
    return persons, item_ids, scores, vids


def dataset_from_sessions(
    session: Session, test_id: str, *, name: str, created_by: int | None = None
) -> Dataset:
    """Snapshot the scored responses of a test's sessions as a data set."""
    persons, item_ids, scores, vids = _sessions_rows(session, test_id)
    dataset = Dataset(
        name=name, source="sessions", test_id=test_id, item_ids=item_ids,
        n_persons=len(persons), n_responses=int((~np.isnan(scores)).sum()), created_by=created_by,
    )
    session.add(dataset)
    session.flush()
    _store(session, dataset, [{**p, "dataset_id": dataset.id} for p in persons], item_ids, scores,
           vids)
    return dataset


def sessions_matrix(session: Session, test_id: str, *, scope: Scope | None = None) -> Matrix:
    """The response matrix of a test's online sessions (row-level: narrowed to ``scope``)."""
    persons, item_ids, scores, _ = _sessions_rows(session, test_id)
    people = [{**{k: v for k, v in p.items() if k != "class_name"}, "class": p["class_name"],
               "dataset_id": None} for p in persons]
    if scope is not None:
        visible = scope_for(session, scope.user, test_id=test_id)
        keep = [k for k, p in enumerate(people) if visible.allows_person(p)]
        people, scores = [people[k] for k in keep], scores[keep]
    return Matrix(people, item_ids, scores)


def load_matrix(
    session: Session,
    dataset_ids: Sequence[int],
    *,
    scope: Scope | None = None,
    where: dict[str, str] | None = None,
) -> Matrix:
    """The response matrix of the persons of ``dataset_ids`` (narrowed to ``scope`` when given,
    and to background values ``where`` = {column: value})."""
    pstmt = select(DatasetPerson).where(DatasetPerson.dataset_id.in_(list(dataset_ids)))
    for column, value in (where or {}).items():
        pstmt = pstmt.where(getattr(DatasetPerson, _FIELD.get(column, column)) == value)
    if scope is not None:
        pstmt = restrict_dataset_persons(pstmt, scope)
    people = list(session.scalars(pstmt.order_by(DatasetPerson.id)))
    row_of = {p.id: k for k, p in enumerate(people)}
    rstmt = select(DatasetResponse.person_ref, DatasetResponse.item_id, DatasetResponse.score).where(
        DatasetResponse.dataset_id.in_(list(dataset_ids))
    )
    rows = [r for r in session.execute(rstmt).all() if r.person_ref in row_of]
    item_ids = sorted({r.item_id for r in rows})
    col = {i: k for k, i in enumerate(item_ids)}
    scores = np.full((len(people), len(item_ids)), np.nan)
    if rows:
        scores[[row_of[r.person_ref] for r in rows], [col[r.item_id] for r in rows]] = [
            r.score for r in rows
        ]
    persons = [
        {
            "person_id": p.person_id, "dataset_id": p.dataset_id, "city": p.city,
            "school": p.school, "class": p.class_name, "grade": p.grade,
            "language": p.language, "gender": p.gender, "window": p.window,
        }
        for p in people
    ]
    return Matrix(persons, item_ids, scores)


def matrix_csv(matrix: Matrix) -> str:
    """The wide CSV of a matrix: person_id, the background columns, the items."""
    out = io.StringIO()
    writer = csv_export.writer(out)  # neutralises formulas: the CSV is downloaded
    writer.writerow([PERSON_ID, *BACKGROUND_COLUMNS, *matrix.item_ids])
    for person, row in zip(matrix.persons, matrix.scores, strict=True):
        writer.writerow([
            person["person_id"],
            *(person.get(c) or "" for c in BACKGROUND_COLUMNS),
            *("" if np.isnan(v) else str(int(v)) for v in row),
        ])
    return out.getvalue()


def background_values(session: Session, dataset_ids: Sequence[int], column: str) -> list[str]:
    """The distinct values of one background column in the data sets (for DIF group choices)."""
    attr = getattr(DatasetPerson, _FIELD.get(column, column))
    stmt = select(attr).where(DatasetPerson.dataset_id.in_(list(dataset_ids))).distinct()
    return sorted(v for v in session.scalars(stmt) if v)


def known_item_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Item.id)))

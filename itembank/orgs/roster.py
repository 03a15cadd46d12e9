"""School rosters: import ``city,school,class,student_id,name,grade,language,gender`` all or nothing,
and forget a student's personal data while keeping their anonymised responses.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from itembank.bank.csv_import import checked_text
from itembank.bank.schema import LANGUAGES
from itembank.errors import ItembankError, Problem, ProblemsError

from .models import City, School, SchoolClass, Student
from .student_passwords import issue_password

COLUMNS = ("city", "school", "class", "student_id", "name", "grade", "language", "gender")
REQUIRED = ("city", "school", "class", "student_id", "language")
MAX_LENGTHS = {"city": 64, "school": 64, "class": 64, "student_id": 64, "name": 200}  # the columns' sizes
GENDERS = ("female", "male", "other")
# The codes school systems export, case-insensitive (blank: not given).
GENDER_CODES = {
    "f": "female", "female": "female", "女": "female", "girl": "female",
    "m": "male", "male": "male", "男": "male", "boy": "male",
    "o": "other", "other": "other", "x": "other", "其他": "other",
}  # fmt: skip
MAX_ROSTER_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, order=True)
class RosterProblem(Problem):
    """A problem of a roster file with its ``kind`` and the values of its message (``params``),
    so that a page can say it in the reader's language; ``message`` is the English text."""

    kind: str = ""
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class RosterRow:
    line: int
    city: str
    school: str
    school_class: str
    student_id: str
    name: str | None
    grade: int | None
    language: str
    gender: str | None


def parse_roster(data: bytes, name: str) -> list[RosterRow]:
    """Check every row; raise ProblemsError naming ``name:ROW:COLUMN`` for each problem found."""
    problems: list[Problem] = []

    def problem(row: int, column: int, message: str, kind: str = "", /, **params: Any) -> None:
        problems.append(RosterProblem(name, row, column, message, kind, params))

    if len(data) > MAX_ROSTER_BYTES:
        raise ProblemsError([RosterProblem(name, 0, 0, f"the roster is larger than {MAX_ROSTER_BYTES // 2**20} "
                                                       "MB; split it by school", "too_large",
                                           {"mb": MAX_ROSTER_BYTES // 2**20})])
    text = checked_text(data, name)  # UTF-8, no NUL, cells and rows within the limits
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ProblemsError([RosterProblem(name, 1, 1, f"the roster is empty; the first row must be {','.join(COLUMNS)}",
                                           "empty", {"columns": ",".join(COLUMNS)})]) from None
    header = [h.strip() for h in header]
    for index, column in enumerate(header, start=1):
        if column not in COLUMNS:
            problem(1, index, f"unknown column {column!r}; the columns are {','.join(COLUMNS)}",
                    "unknown_column", column=column, columns=",".join(COLUMNS))
        elif header.index(column) != index - 1:
            problem(1, index, f"column {column!r} appears twice", "duplicate_column", column=column)
    for column in COLUMNS:
        if column not in header:
            problem(1, 1, f"column {column!r} is missing; the columns are {','.join(COLUMNS)}",
                    "missing_column", column=column, columns=",".join(COLUMNS))
    if problems:
        raise ProblemsError(problems)
    at = {column: header.index(column) for column in COLUMNS}
    rows: list[RosterRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    line = 1
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problem(line, min(len(cells), len(header)) + 1,
                    f"this row has {len(cells)} cells but the header has {len(header)}; check for a missing "
                    "or extra comma", "cell_count", cells=len(cells), header=len(header))
            continue
        value = {column: cells[at[column]].strip() for column in COLUMNS}
        bad = False
        for column, longest in MAX_LENGTHS.items():
            if len(value[column]) > longest:
                problem(line, at[column] + 1, f"{column} is {len(value[column])} characters long; at most "
                                              f"{longest} are allowed", "too_long", column=column,
                        length=len(value[column]), longest=longest)
                bad = True
        for column in REQUIRED:
            if not value[column]:
                problem(line, at[column] + 1, f"{column} is empty; every student needs a {column}", "empty_cell",
                        column=column)
                bad = True
        if value["language"] and value["language"] not in LANGUAGES:
            problem(line, at["language"] + 1, f"unknown language {value['language']!r}; use one of {', '.join(LANGUAGES)}",
                    "language", value=value["language"], allowed=", ".join(LANGUAGES))
            bad = True
        grade: int | None = None
        if value["grade"]:
            if value["grade"].isdigit() and 1 <= int(value["grade"]) <= 12:
                grade = int(value["grade"])
            else:
                problem(line, at["grade"] + 1, f"grade {value['grade']!r} is not a school grade from 1 to 12",
                        "grade", value=value["grade"])
                bad = True
        gender = GENDER_CODES.get(value["gender"].casefold()) if value["gender"] else None
        if value["gender"] and gender is None:
            problem(line, at["gender"] + 1, f"gender {value['gender']!r}: use M/F, male/female, 男/女, "
                                            "other, or leave it empty", "gender", value=value["gender"])
            bad = True
        key = (value["city"], value["school"], value["student_id"])
        if value["student_id"] and key in seen:
            problem(line, at["student_id"] + 1, f"student id {value['student_id']!r} is already used on row "
                                                 f"{seen[key]} for school {value['school']!r}; ids must be unique "
                                                 "within a school", "duplicate_id", value=value["student_id"],
                    row=seen[key], school=value["school"])
            bad = True
        seen.setdefault(key, line)
        if not bad:
            rows.append(RosterRow(line, value["city"], value["school"], value["class"], value["student_id"],
                                  value["name"] or None, grade, value["language"], gender))
    if problems:
        raise ProblemsError(problems)
    return rows


@dataclass
class RosterTotals:
    cities: int
    schools: int
    classes: int
    students: int
    passwords: int = 0  # passwords issued by this import (not a table count)

    def as_dict(self) -> dict[str, int]:
        return {"cities": self.cities, "schools": self.schools, "classes": self.classes, "students": self.students}


def import_roster(session: Session, data: bytes, name: str, *, school_id: int | None = None,
                  passwords: bool = False) -> RosterTotals:
    """Add and move the roster's students in the caller's transaction.

    With ``passwords`` every student of the roster who has no sign-in password gets one
    (:mod:`.student_passwords`; printed on the class's login cards); their number is
    ``RosterTotals.passwords``.

    Students not on the roster stay as they are; past sessions keep the class recorded when they
    were taken.  With ``school_id`` (a school administrator's upload) every row must be of that school.
    The first city ever created is the home city; later ones are partner cities.
    """
    rows = parse_roster(data, name)
    cities = {c.code: c for c in session.scalars(select(City))}
    if school_id is not None:
        own = session.get(School, school_id)
        if own is None:
            raise ItembankError(f"school {school_id} does not exist")
        strangers = [r for r in rows if (r.city, r.school) != (own.city.code, own.code)]
        if strangers:
            raise ProblemsError([RosterProblem(name, r.line, 1, f"school {r.school!r} of {r.city!r} is not your "
                                                                f"school ({own.code} of {own.city.code}); upload only "
                                                                "your school's students", "not_your_school",
                                               {"school": r.school, "city": r.city, "own": own.code,
                                                "own_city": own.city.code}) for r in strangers])
    # In bulk: the roster's cities, schools, classes and students are read with one query each
    # and the new ones written together, in the caller's one transaction (all or nothing).
    with session.no_autoflush:
        for code in dict.fromkeys(r.city for r in rows):
            if code not in cities:
                kind = "partner" if cities else "home"
                cities[code] = City(code=code, name={"zh-TW": code, "en": code}, kind=kind)
                session.add(cities[code])
        session.flush()
        city_ids = {cities[r.city].id for r in rows}
        schools = {(s.city_id, s.code): s for s in session.scalars(select(School).where(School.city_id.in_(city_ids)))}
        for city_code, code in dict.fromkeys((r.city, r.school) for r in rows):
            key = (cities[city_code].id, code)
            if key not in schools:
                schools[key] = School(city_id=key[0], code=code, name={"zh-TW": code, "en": code})
                session.add(schools[key])
        session.flush()
        school_of = {(r.city, r.school): schools[(cities[r.city].id, r.school)] for r in rows}
        school_ids = {s.id for s in school_of.values()}
        classes = {(c.school_id, c.name): c for c in
                   session.scalars(select(SchoolClass).where(SchoolClass.school_id.in_(school_ids)))}
        for row in rows:
            key = (school_of[(row.city, row.school)].id, row.school_class)
            if key not in classes:
                classes[key] = SchoolClass(school_id=key[0], name=row.school_class, grade=row.grade)
                session.add(classes[key])
        session.flush()
        students = {(s.school_id, s.student_id): s for s in
                    session.scalars(select(Student).where(Student.school_id.in_(school_ids)))}
        issued = 0
        for row in rows:
            school = school_of[(row.city, row.school)]
            student = students.get((school.id, row.student_id))
            if student is None:
                student = Student(key=new_student_key(), school_id=school.id, student_id=row.student_id)
                session.add(student)
            student.class_id = classes[(school.id, row.school_class)].id
            student.name = row.name
            student.grade = row.grade
            student.language = row.language
            student.gender = row.gender
            if passwords and not student.password_hash:
                issue_password(student)
                issued += 1
    session.flush()
    totals = roster_totals(session)
    totals.passwords = issued
    return totals


def roster_totals(session: Session) -> RosterTotals:
    def count(model) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    return RosterTotals(count(City), count(School), count(SchoolClass), count(Student))


def new_student_key() -> str:
    """A random pseudonym for research exports (no link to the student id)."""
    return "s-" + secrets.token_hex(8)


def find_student(session: Session, reference: str) -> Student:
    """A student by pseudonymous key (``s-…``) or by ``SCHOOL:STUDENT_ID`` (or ``CITY:SCHOOL:STUDENT_ID``)."""
    student = session.scalars(select(Student).where(Student.key == reference)).first()
    if student is not None:
        return student
    parts = reference.split(":")
    if len(parts) in (2, 3):
        query = select(Student).join(School).where(School.code == parts[-2], Student.student_id == parts[-1])
        if len(parts) == 3:
            query = query.join(City).where(City.code == parts[0])
        found = session.scalars(query).all()
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ItembankError(f"{reference!r} matches students in several cities; write CITY:SCHOOL:STUDENT_ID")
    raise ItembankError(f"no student {reference!r}; give the pseudonymous key (s-…) or SCHOOL:STUDENT_ID")


def clear_identity(session: Session, student: Student) -> None:
    """Remove the student's name, school student id and gender (their key stays).  Forgetting a
    student also relabels their sessions: :func:`itembank.delivery.forget.forget_student`."""
    student.name = None
    student.gender = None
    student.student_id = f"forgotten-{student.key}"
    session.flush()


def read_roster_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ProblemsError([Problem(str(path), 0, 0, f"cannot read the roster: {exc.strerror or exc}")]) from None

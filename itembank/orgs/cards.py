"""What a class's login cards print, read from the roster: each student's name, student id,
school and class, and sign-in password (:mod:`.student_passwords`).  Students without a password
get one as the cards are made (a card is how a password reaches its student); ``new_passwords``
gives everyone a new one (lost cards, a changed secret key).  The PDF is made by
:mod:`itembank.paper.cards`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank.errors import ItembankError

from .models import City, School, SchoolClass, Student
from .student_passwords import card_password, issue_password

__all__ = ["CardEntry", "card_of", "class_cards", "find_class", "find_class_student"]


@dataclass(frozen=True)
class CardEntry:
    name: str | None
    student_id: str
    class_name: str
    school_name: dict[str, str]
    password: str | None  # None: it cannot be printed (the card says to ask the teacher)


def find_class(session: Session, reference: str) -> SchoolClass:
    """A class by ``SCHOOL:CLASS`` (``CITY:SCHOOL:CLASS`` when the school code is used in
    several cities); ItembankError naming what to write otherwise."""
    parts = reference.split(":")
    if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
        raise ItembankError(f"name the class as SCHOOL:CLASS (or CITY:SCHOOL:CLASS), not {reference!r}")
    query = (
        select(SchoolClass)
        .join(School, SchoolClass.school_id == School.id)
        .where(School.code == parts[-2].strip(), SchoolClass.name == parts[-1].strip())
    )
    if len(parts) == 3:
        query = query.join(City, School.city_id == City.id).where(City.code == parts[0].strip())
    found = session.scalars(query).all()
    if len(found) > 1:
        raise ItembankError(f"{reference!r} matches classes in several cities; write CITY:SCHOOL:CLASS")
    if not found:
        raise ItembankError(f"there is no class {reference!r}")
    return found[0]


def class_cards(
    session: Session, school_class: SchoolClass, *, new_passwords: bool = False
) -> tuple[list[CardEntry], int]:
    """The cards of the class's students (by student id) and how many passwords were issued,
    in the caller's transaction."""
    students = session.scalars(
        select(Student).where(Student.class_id == school_class.id).order_by(Student.student_id)
    ).all()
    issued = 0
    cards = []
    for student in students:
        password = None if new_passwords else card_password(student)
        if password is None and (new_passwords or not student.password_hash):
            password = issue_password(student)
            issued += 1
        cards.append(CardEntry(student.name, student.student_id, school_class.name,
                               dict(school_class.school.name), password))  # fmt: skip
    session.flush()
    return cards, issued


def find_class_student(session: Session, school_class: SchoolClass, student_id: str) -> Student:
    """The student of ``school_class`` with ``student_id`` (compared trimmed and case-folded, as
    students are identified); ItembankError naming the class otherwise."""
    wanted = student_id.strip().casefold()
    found = [s for s in session.scalars(select(Student).where(Student.class_id == school_class.id))
             if s.student_id.strip().casefold() == wanted]
    if len(found) != 1:
        raise ItembankError(f"there is no student {student_id!r} in class {school_class.name} of school "
                            f"{school_class.school.code}")
    return found[0]


def card_of(student: Student, password: str | None) -> CardEntry:
    """One student's login card (``password`` as shown, or None when it cannot be printed)."""
    klass = student.school_class
    return CardEntry(student.name, student.student_id, klass.name if klass else "",
                     dict(student.school.name), password)

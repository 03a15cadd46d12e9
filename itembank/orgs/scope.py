"""What each user may see of organisations, as SQL: where-clauses and selects over cities, schools,
classes and students that every page, API route, export and report puts into its query, so that
rows outside a user's scope are never read (nothing is filtered afterwards in Python).  The same
rules applied to tests and sessions are in :mod:`itembank.delivery.scope`, and to research data
sets in :mod:`itembank.research.scope`.

Row-level scope (students, classes, schools; sessions follow their class):
- ``admin``: everything.
- ``school_admin`` (``User.school_id``): their school's classes and students.
- ``teacher``: the classes linked to them in ``class_teachers`` and those classes' students.
- ``researcher`` with ``User.city_id``: their city's rows; a researcher without a city has no rows.
- everyone else (reviewer, translator, student): nothing.

Documented in docs/organisations.md.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, false, select, true

from .models import City, ClassTeacher, School, SchoolClass, Student

__all__ = [
    "Viewer",
    "city_class_ids",
    "city_school_ids",
    "class_clause",
    "classes_visible_to",
    "coded_rows_clause",
    "may_see_names",
    "may_see_rows",
    "school_class_ids",
    "school_clause",
    "schools_visible_to",
    "student_clause",
    "students_visible_to",
    "taught_class_ids",
]


class Viewer(Protocol):
    """The logged-in user as far as scope goes (``webapp.auth.LoginUser`` or ``User``)."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def school_id(self) -> int | None: ...
    @property
    def city_id(self) -> int | None: ...


def taught_class_ids(user: Viewer) -> Select[int]:
    """The ids of the classes linked to ``user`` in ``class_teachers``."""
    return select(ClassTeacher.class_id).where(ClassTeacher.user_id == user.id)


def school_class_ids(school_id: int) -> Select[int]:
    return select(SchoolClass.id).where(SchoolClass.school_id == school_id)


def city_school_ids(city_id: int) -> Select[int]:
    return select(School.id).where(School.city_id == city_id)


def city_class_ids(city_id: int) -> Select[int]:
    return select(SchoolClass.id).where(SchoolClass.school_id.in_(city_school_ids(city_id)))


def coded_rows_clause(
    user: Viewer, city_code: SQLColumnExpression[Any], school_code: SQLColumnExpression[Any]
) -> ColumnElement[bool]:
    """The same row scope for rows that carry a city code and a school code instead of ids (such
    as imported research data sets): ``city_code`` and ``school_code`` are the row's columns."""
    if user.role == "admin":
        return true()
    schools = (
        select(School.id)
        .join(City, School.city_id == City.id)
        .where(City.code == city_code, School.code == school_code)
    )
    if user.role == "researcher" and user.city_id is not None:
        return select(City.id).where(City.id == user.city_id, City.code == city_code).exists()
    if user.role == "school_admin" and user.school_id is not None:
        return schools.where(School.id == user.school_id).exists()
    if user.role == "teacher":
        taught = select(SchoolClass.school_id).where(SchoolClass.id.in_(taught_class_ids(user)))
        return schools.where(School.id.in_(taught)).exists()
    return false()


def class_clause(user: Viewer) -> ColumnElement[bool]:
    if user.role == "admin":
        return true()
    if user.role == "school_admin" and user.school_id is not None:
        return SchoolClass.school_id == user.school_id
    if user.role == "teacher":
        return SchoolClass.id.in_(taught_class_ids(user))
    if user.role == "researcher" and user.city_id is not None:
        return SchoolClass.school_id.in_(city_school_ids(user.city_id))
    return false()


def classes_visible_to(user: Viewer) -> Select[SchoolClass]:
    return select(SchoolClass).where(class_clause(user))


def student_clause(user: Viewer) -> ColumnElement[bool]:
    if user.role == "admin":
        return true()
    if user.role == "school_admin" and user.school_id is not None:
        return Student.school_id == user.school_id
    if user.role == "teacher":
        return Student.class_id.in_(taught_class_ids(user))
    if user.role == "researcher" and user.city_id is not None:
        return Student.school_id.in_(city_school_ids(user.city_id))
    return false()


def students_visible_to(user: Viewer) -> Select[Student]:
    return select(Student).where(student_clause(user))


def school_clause(user: Viewer) -> ColumnElement[bool]:
    if user.role == "admin":
        return true()
    if user.role == "school_admin" and user.school_id is not None:
        return School.id == user.school_id
    if user.role == "teacher":
        return School.id.in_(
            select(SchoolClass.school_id).where(SchoolClass.id.in_(taught_class_ids(user)))
        )
    if user.role == "researcher" and user.city_id is not None:
        return School.city_id == user.city_id
    return false()


def schools_visible_to(user: Viewer) -> Select[School]:
    return select(School).where(school_clause(user))


def may_see_rows(user: Viewer) -> bool:
    """Whether ``user`` has any row-level scope at all (a researcher without a city has none)."""
    return user.role in ("admin", "teacher", "school_admin") or (
        user.role == "researcher" and user.city_id is not None
    )


def may_see_names(user: Viewer) -> bool:
    """Names and the schools' student ids stay within the student's school: researchers get
    pseudonymous keys only (their row scope is already narrowed to their city)."""
    return user.role in ("admin", "teacher", "school_admin")

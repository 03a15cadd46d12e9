"""Which row-level research data a user may see: one function per kind of row, applied in the
query itself.  A researcher (or any user) with a ``city_id`` sees persons of that city only (with
a ``school_id``, of that school only); a user without either sees every row.  Aggregates of other
cities are not row-level data and are shown to everyone (above the minimum group size)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from ..delivery_models import City, School, Student, TestSession
from ..research_models import DatasetPerson

S = TypeVar("S", bound=Select[Any])


class ScopedUser(Protocol):
    city_id: int | None
    school_id: int | None


@dataclass(frozen=True)
class Scope:
    """The rows a user may see: everything (``everything``), or one city / one school (codes
    and ids, so that both data sets, which carry codes, and sessions, which carry ids, filter)."""

    everything: bool
    city_id: int | None = None
    city_code: str | None = None
    school_id: int | None = None
    school_code: str | None = None

    def allows(self, city_code: str | None, school_code: str | None = None) -> bool:
        """Whether a row of this city and school is visible (for rows already loaded)."""
        if self.everything:
            return True
        if self.city_code is not None and city_code != self.city_code:
            return False
        return self.school_code is None or school_code == self.school_code


def scope_for(session: Session, user: ScopedUser) -> Scope:
    """The scope of a logged-in user (anything with ``city_id`` and ``school_id``)."""
    city_id, school_id = getattr(user, "city_id", None), getattr(user, "school_id", None)
    if city_id is None and school_id is None:
        return Scope(everything=True)
    city_code = school_code = None
    if school_id is not None:
        school = session.get(School, school_id)
        school_code = school.code if school else "\x00none"
        city_id = city_id if city_id is not None else (school.city_id if school else None)
    if city_id is not None:
        city = session.get(City, city_id)
        city_code = city.code if city else "\x00none"
    return Scope(False, city_id, city_code, school_id, school_code)


def restrict_dataset_persons(stmt: S, scope: Scope) -> S:
    """``stmt`` (selecting from or joined with :class:`DatasetPerson`) narrowed to the scope."""
    if scope.everything:
        return stmt
    if scope.city_code is None and scope.school_code is None:
        return stmt.where(false())
    if scope.city_code is not None:
        stmt = stmt.where(DatasetPerson.city == scope.city_code)
    if scope.school_code is not None:
        stmt = stmt.where(DatasetPerson.school == scope.school_code)
    return stmt


def restrict_sessions(stmt: S, scope: Scope) -> S:
    """``stmt`` (selecting from :class:`TestSession`) narrowed to sessions of students in the
    scope; sessions without a roster student are outside every city."""
    if scope.everything:
        return stmt
    students = select(Student.id).join(School, Student.school_id == School.id)
    if scope.city_id is not None:
        students = students.where(School.city_id == scope.city_id)
    if scope.school_id is not None:
        students = students.where(Student.school_id == scope.school_id)
    return stmt.where(TestSession.student_ref.in_(students))

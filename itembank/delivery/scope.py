"""What each user may see of tests and sessions, as SQL: the organisation rules of
:mod:`itembank.orgs.scope` applied to the delivery's rows, in the query itself.

Row-level scope of sessions: a session belongs to the class the student was in when it was taken,
and is seen by whoever sees that class (:func:`itembank.orgs.scope.class_clause`).  A session with
neither a class nor a roster student (an open test such as the demo, which takes any student id)
belongs to no school: teachers and school administrators see those of the tests they own and of
tests without an owner; researchers never see them as rows.

Aggregates (means, standard errors, level shares) cross these boundaries for researchers and
administrators only, and only for groups of at least ``Settings.min_group_size`` sessions, a
condition written into the query's HAVING clause.  Documented in docs/organisations.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from itembank.orgs.models import City, School, SchoolClass, Student
from itembank.orgs.scope import (
    Viewer,
    city_class_ids,
    city_school_ids,
    school_class_ids,
    taught_class_ids,
)

from .models import Test, TestAssignment, TestSession
from .practice import not_practice

__all__ = [
    "FINISHED_STATUSES",
    "GroupSummary",
    "aggregate_session_clause",
    "control_clause",
    "group_summaries",
    "manageable_test_clause",
    "session_clause",
    "sessions_visible_to",
    "test_clause",
    "tests_visible_to",
]


FINISHED_STATUSES = ("finished", "expired")
GroupBy = Literal["city", "school", "class"]


def _owned_or_unowned(user: Viewer) -> ColumnElement[bool]:
    return or_(Test.owner_id == user.id, Test.owner_id.is_(None))


def _off_roster_sessions(user: Viewer) -> ColumnElement[bool]:
    """Sessions that belong to no school, of tests the user owns or that have no owner."""
    return and_(
        TestSession.class_id.is_(None),
        TestSession.student_ref.is_(None),
        TestSession.test_id.in_(select(Test.id).where(_owned_or_unowned(user))),
    )


def session_clause(user: Viewer) -> ColumnElement[bool]:
    """The where-clause on ``TestSession`` of the sessions ``user`` may see row by row."""
    if user.role == "admin":
        return true()
    if user.role == "teacher":
        return or_(TestSession.class_id.in_(taught_class_ids(user)), _off_roster_sessions(user))
    if user.role == "school_admin":
        if user.school_id is None:
            return _off_roster_sessions(user)
        return or_(
            TestSession.class_id.in_(school_class_ids(user.school_id)),
            TestSession.student_ref.in_(
                select(Student.id).where(Student.school_id == user.school_id)
            ),
            _off_roster_sessions(user),
        )
    if user.role == "researcher" and user.city_id is not None:
        return or_(
            TestSession.class_id.in_(city_class_ids(user.city_id)),
            TestSession.student_ref.in_(
                select(Student.id).where(Student.school_id.in_(city_school_ids(user.city_id)))
            ),
        )
    return false()


def control_clause(user: Viewer) -> ColumnElement[bool]:
    """The where-clause on ``TestSession`` of the sessions ``user`` may act on (add time, end,
    unlock, reset, grant another attempt): administrators all; teachers the sessions of their
    classes, school administrators those of their school, and both the off-roster sessions of
    tests they own (not of the shared, owner-less demo: its sessions are everyone's).
    Researchers only look."""
    if user.role == "admin":
        return true()
    owned_off_roster = and_(
        TestSession.class_id.is_(None),
        TestSession.student_ref.is_(None),
        TestSession.test_id.in_(select(Test.id).where(Test.owner_id == user.id)),
    )
    if user.role == "teacher":
        return or_(TestSession.class_id.in_(taught_class_ids(user)), owned_off_roster)
    if user.role == "school_admin" and user.school_id is not None:
        return or_(
            TestSession.class_id.in_(school_class_ids(user.school_id)),
            TestSession.student_ref.in_(
                select(Student.id).where(Student.school_id == user.school_id)
            ),
            owned_off_roster,
        )
    if user.role == "school_admin":
        return owned_off_roster
    return false()


def sessions_visible_to(user: Viewer) -> Select[TestSession]:
    """``select(TestSession)`` narrowed to ``user``'s scope; add ``.where`` and ``.order_by``."""
    return select(TestSession).where(session_clause(user))


def test_clause(user: Viewer) -> ColumnElement[bool]:
    """The tests ``user`` may list: administrators and researchers all (a test's definition is
    not personal data; researchers see other cities' results as aggregates only); teachers and
    school administrators the tests they own, tests without an owner (the demo) and tests
    assigned to their classes or school."""
    if user.role in ("admin", "researcher"):
        return true()
    if user.role == "teacher":
        taught = taught_class_ids(user)
        assigned = select(TestAssignment.test_id).where(
            or_(
                TestAssignment.class_id.in_(taught),
                TestAssignment.school_id.in_(
                    select(SchoolClass.school_id).where(SchoolClass.id.in_(taught))
                ),
            )
        )
        return or_(_owned_or_unowned(user), Test.id.in_(assigned))
    if user.role == "school_admin":
        if user.school_id is None:
            return _owned_or_unowned(user)
        assigned = select(TestAssignment.test_id).where(
            or_(
                TestAssignment.school_id == user.school_id,
                TestAssignment.class_id.in_(school_class_ids(user.school_id)),
            )
        )
        return or_(_owned_or_unowned(user), Test.id.in_(assigned))
    return false()


def tests_visible_to(user: Viewer) -> Select[Test]:
    return select(Test).where(test_clause(user))


def manageable_test_clause(user: Viewer) -> ColumnElement[bool]:
    """The tests ``user`` may change and assign: administrators all, others the tests they own
    (never the shared, owner-less demo: assigning it to a class would close it to everyone else)."""
    if user.role == "admin":
        return true()
    if user.role in ("teacher", "school_admin"):
        return Test.owner_id == user.id
    return false()


def aggregate_session_clause(user: Viewer) -> ColumnElement[bool]:
    """The sessions that may enter ``user``'s aggregates: researchers and administrators every
    city's, others only their own rows' (aggregates never widen a teacher's view)."""
    if user.role in ("admin", "researcher"):
        return true()
    return session_clause(user)


@dataclass(frozen=True)
class GroupSummary:
    """One group's results: ``n`` scored sessions, the mean reporting-scale score and its
    standard error, and the share of each level (labels as stored)."""

    group: GroupBy
    id: int
    city_code: str
    city_name: dict[str, str]
    school_code: str | None
    school_name: dict[str, str] | None
    class_name: str | None
    n: int
    mean: float
    sd: float | None
    se: float | None
    levels: dict[str, float] = field(default_factory=dict)


def group_summaries(
    db: Session,
    user: Viewer,
    *,
    test_id: str,
    by: GroupBy,
    min_group_size: int,
) -> list[GroupSummary]:
    """Means, SEs and level shares of the test's scored sessions per city, school or class, for
    the groups of at least ``min_group_size`` sessions within ``user``'s aggregate scope.

    The size condition is the query's HAVING clause, and the level counts are read only for the
    groups that pass it: a small group's numbers never leave the database."""
    if by == "city":
        key: Any = City.id
    elif by == "school":
        key = School.id
    elif by == "class":
        key = SchoolClass.id
    else:
        raise ValueError(f"group by city, school or class, not {by!r}")
    minimum = max(1, int(min_group_size))

    def scored(*columns: Any) -> Select[Any]:
        return (
            select(*columns)
            .select_from(TestSession)
            .join(SchoolClass, TestSession.class_id == SchoolClass.id)
            .join(School, SchoolClass.school_id == School.id)
            .join(City, School.city_id == City.id)
            .where(
                TestSession.test_id == test_id,
                TestSession.status.in_(FINISHED_STATUSES),
                TestSession.scale_score.is_not(None),
                aggregate_session_clause(user),
                not_practice(),  # practice sessions are never results
            )
        )

    n = func.count(TestSession.id)
    big_enough = scored(key).group_by(key).having(n >= minimum)
    stats = db.execute(
        scored(
            key.label("gid"),
            n.label("n"),
            func.avg(TestSession.scale_score).label("mean"),
            func.avg(TestSession.scale_score * TestSession.scale_score).label("mean_sq"),
        )
        .group_by(key)
        .having(n >= minimum)
    ).all()
    level_counts: dict[int, dict[str, int]] = {}
    for gid, level, count in db.execute(
        scored(key, TestSession.level, func.count(TestSession.id))
        .where(key.in_(big_enough))
        .group_by(key, TestSession.level)
    ):
        level_counts.setdefault(gid, {})[level or ""] = int(count)
    labels = _group_labels(db, by, [row.gid for row in stats])
    out = []
    for row in stats:
        count = int(row.n)
        mean = float(row.mean)
        sd = se = None
        if count > 1:
            variance = max(float(row.mean_sq) - mean * mean, 0.0) * count / (count - 1)
            sd = math.sqrt(variance)
            se = sd / math.sqrt(count)
        shares = {k: v / count for k, v in sorted(level_counts.get(row.gid, {}).items())}
        out.append(
            GroupSummary(group=by, id=row.gid, n=count, mean=mean, sd=sd, se=se, levels=shares,
                         **labels[row.gid])
        )  # fmt: skip
    out.sort(key=lambda g: (g.city_code, g.school_code or "", g.class_name or ""))
    return out


def _group_labels(db: Session, by: GroupBy, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    if by == "city":
        return {
            c.id: {"city_code": c.code, "city_name": c.name, "school_code": None,
                   "school_name": None, "class_name": None}
            for c in db.scalars(select(City).where(City.id.in_(ids)))
        }  # fmt: skip
    if by == "school":
        return {
            s.id: {"city_code": s.city.code, "city_name": s.city.name, "school_code": s.code,
                   "school_name": s.name, "class_name": None}
            for s in db.scalars(select(School).where(School.id.in_(ids)))
        }  # fmt: skip
    return {
        k.id: {"city_code": k.school.city.code, "city_name": k.school.city.name,
               "school_code": k.school.code, "school_name": k.school.name, "class_name": k.name}
        for k in db.scalars(select(SchoolClass).where(SchoolClass.id.in_(ids)))
    }  # fmt: skip

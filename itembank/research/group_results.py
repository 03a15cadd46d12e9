"""A test's results by city, school and class (the results-by-group page and its CSV) with
disclosure control: the groups of :func:`itembank.delivery.scope.group_summaries` that
:mod:`.disclosure` lets the user see, with one suppression pattern for the three tables."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from itembank.delivery import scope as session_scope
from itembank.delivery.models import TestSession
from itembank.delivery.practice import not_practice
from itembank.orgs.models import School, SchoolClass
from itembank.orgs.scope import Viewer

from .disclosure import Protection, cells_by, protect

GROUPINGS: tuple[session_scope.GroupBy, ...] = ("city", "school", "class")


def protection(db: Session, user: Viewer, *, test_id: str, min_group_size: int) -> Protection:
    """The suppression pattern of the test's tables by city, school and class over the scored
    sessions of ``user``'s aggregate scope; the sessions she sees row by row are known to her.
    Cell keys are ``((by,), (id,))``."""
    scored = (
        select(TestSession.id, School.city_id, School.id, SchoolClass.id)
        .join(SchoolClass, TestSession.class_id == SchoolClass.id)
        .join(School, SchoolClass.school_id == School.id)
        .where(
            TestSession.test_id == test_id,
            TestSession.status.in_(session_scope.FINISHED_STATUSES),
            TestSession.scale_score.is_not(None),
            not_practice(),  # practice sessions are never results
        )
    )
    persons = [
        {"id": sid, "city": city, "school": school, "class": klass}
        for sid, city, school, klass in db.execute(
            scored.where(session_scope.aggregate_session_clause(user))
        )
    ]
    known = set(db.scalars(
        select(TestSession.id).where(TestSession.test_id == test_id,
                                     session_scope.session_clause(user))
    ))  # fmt: skip
    cells = cells_by(persons, [(by,) for by in GROUPINGS], person_id=lambda _k, p: p["id"])
    return protect(cells, min_size=min_group_size, known=known)


def group_results(
    db: Session, user: Viewer, *, test_id: str, min_group_size: int,
    groupings: tuple[session_scope.GroupBy, ...] = GROUPINGS,
) -> dict[session_scope.GroupBy, list[session_scope.GroupSummary]]:
    """Per grouping, the published groups' summaries (suppressed groups are left out, n and
    all)."""
    shown = protection(db, user, test_id=test_id, min_group_size=min_group_size)
    return {
        by: [
            g for g in session_scope.group_summaries(
                db, user, test_id=test_id, by=by, min_group_size=min_group_size)
            if shown.published(((by,), (g.id,)))
        ]
        for by in groupings
    }  # fmt: skip

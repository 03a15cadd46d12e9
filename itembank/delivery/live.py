"""The teacher's live view of one test as rows: every student on the roster of the test's classes
(and schools) within the viewer's scope, with their latest session or none (not started), and
the sessions of students who are on no such roster (an open test such as the demo, or a student
who has since moved class).  Open sessions past their deadline are finished first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from itembank.orgs.models import SchoolClass, Student

from .models import OPEN_STATUSES, Test, TestSession
from .sessions import sessions_of_test, time_left, utcnow

__all__ = ["LiveRow", "live_rows"]

NOT_STARTED = "not_started"


@dataclass(frozen=True)
class LiveRow:
    """One student of the live view: the roster entry (None off the roster), the latest
    attempt's session (None: not started), and the class the row is listed under."""

    student: Student | None
    session: TestSession | None
    class_name: str | None
    now: datetime

    @property
    def status(self) -> str:
        """``not_started`` or the session's status (started, in_progress, finished, expired)."""
        return NOT_STARTED if self.session is None else self.session.status

    @property
    def is_open(self) -> bool:
        return self.session is not None and self.session.status in OPEN_STATUSES

    @property
    def time_left(self) -> timedelta | None:
        """The open session's time until its deadline; None without one (or when not open)."""
        if self.session is None or not self.is_open:
            return None
        return time_left(self.session, self.now)

    @property
    def minutes_left(self) -> int | None:
        left = self.time_left
        if left is None:
            return None
        return int(-(-left.total_seconds() // 60))  # rounded up: "1 min" until it is 0

    @property
    def student_id(self) -> str:
        if self.student is not None:
            return self.student.student_id
        return self.session.student_key if self.session is not None else ""


def roster_clause(test: Test) -> ColumnElement[bool] | None:
    """The where-clause on ``Student`` of the roster of the test's classes and schools; None for
    a test assigned to nobody (open to any student id)."""
    schools = [a.school_id for a in test.assignments if a.school_id is not None]
    classes = [a.class_id for a in test.assignments if a.class_id is not None]
    if not schools and not classes:
        return None
    return or_(Student.school_id.in_(schools), Student.class_id.in_(classes))


def live_rows(
    db: Session,
    test: Test,
    *,
    students_where: ColumnElement[bool],
    sessions_where: ColumnElement[bool],
    now: datetime | None = None,
) -> list[LiveRow]:
    """The rows of the live view, roster students first (by class, then student id), then the
    off-roster sessions (newest first).  ``students_where`` and ``sessions_where`` are the
    viewer's scope (:mod:`itembank.orgs.scope`, :mod:`.scope`), put into the queries."""
    now = now or utcnow()
    sessions = sessions_of_test(db, test.id, now=now, where=sessions_where)
    latest: dict[str, TestSession] = {}
    for ts in sessions:  # newest first; keep the highest attempt of each student
        held = latest.get(ts.identity)
        if held is None or ts.attempt > held.attempt:
            latest[ts.identity] = ts
    rows: list[LiveRow] = []
    roster = roster_clause(test)
    listed: set[str] = set()
    if roster is not None:
        students = db.execute(
            select(Student, SchoolClass.name)
            .outerjoin(SchoolClass, Student.class_id == SchoolClass.id)
            .where(roster, students_where if students_where is not None else true())
            .order_by(SchoolClass.name, Student.student_id)
        ).all()
        for student, class_name in students:
            identity = f"r:{student.id}"
            listed.add(identity)
            rows.append(LiveRow(student, latest.get(identity), class_name, now))
    others = [ts for identity, ts in latest.items() if identity not in listed]
    others.sort(key=lambda ts: ts.started_at, reverse=True)
    for ts in others:
        name = ts.school_class.name if ts.school_class is not None else None
        rows.append(LiveRow(ts.student, ts, name, now))
    return rows

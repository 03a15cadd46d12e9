"""People in control of tests and sessions: a test's life (edit, open, close now, reopen,
archive), one more attempt for a student, and a teacher's hand on a session (add time, end it,
unlock it so the student resumes without the code, reset it).  Each call is one transaction and
writes an audit entry (:mod:`itembank.accounts.audit`) with the reason given.

A test can be changed freely until its first session starts; after that only its window, time
limit and attempts (a change of items or CAT settings would make its sessions incomparable).
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from itembank.accounts.audit import record
from itembank.db import unit_of_work

from .models import (
    OPEN_STATUSES,
    AttemptGrant,
    QuestionnaireAnswer,
    Response,
    Test,
    TestSession,
)
from .sessions import (
    InvalidRequest,
    SessionNotFound,
    TestNotFound,
    _aware,
    _state,
    check_code_free,
    check_test_config,
    hash_token,
    new_resume_code,
    normalise_code,
    utcnow,
)

__all__ = [
    "ALWAYS_EDITABLE",
    "TestLocked",
    "add_time",
    "edit_test",
    "end_session",
    "grant_attempt",
    "has_sessions",
    "reset_session",
    "set_test_status",
    "unlock_session",
]

# What may change after the first session started.
ALWAYS_EDITABLE = frozenset({"opens_at", "closes_at", "time_limit_minutes", "max_attempts"})
EDITABLE = ALWAYS_EDITABLE | {
    "title", "kind", "cat_config", "item_filter", "items", "access_code", "show_score",
    "report_max_se", "report_min_items", "questionnaire_id",
}  # fmt: skip


class TestLocked(InvalidRequest):
    """A change that is no longer allowed: the test has sessions."""

    code = "test_locked"
    __test__ = False


def has_sessions(db: Session, test_id: str) -> bool:
    return bool(
        db.scalar(select(func.count()).select_from(TestSession).where(TestSession.test_id == test_id))
    )


def _test(db: Session, test_id: str) -> Test:
    test = db.get(Test, test_id)
    if test is None:
        raise TestNotFound(f"there is no test {test_id!r}")
    return test


def edit_test(db: Session, test_id: str, actor: Any, changes: Mapping[str, Any]) -> Test:
    """Change a test's fields (keys of EDITABLE); TestLocked for anything but the window, time
    and attempts once a session exists; CodeTaken for a code another live test holds."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise InvalidRequest(f"these fields cannot be edited: {', '.join(sorted(unknown))}")
    with unit_of_work(db):
        test = _test(db, test_id)
        locked = set(changes) - ALWAYS_EDITABLE
        if locked and has_sessions(db, test.id):
            raise TestLocked(
                "students have started this test: only its window, time limit and attempts can "
                f"change now (not {', '.join(sorted(locked))})"
            )
        before = {k: _plain(getattr(test, k)) for k in changes}
        if "questionnaire_id" in changes:
            from .questionnaire import check_questionnaire_id  # it imports sessions, as we do

            changes = {**changes,
                       "questionnaire_id": check_questionnaire_id(db, changes["questionnaire_id"])}
        if "access_code" in changes:
            check_code_free(db, changes["access_code"], test_id=test.id)
            test.code_key = normalise_code(changes["access_code"]) if test.status != "archived" else None
        attempts = changes.get("max_attempts", test.max_attempts)
        if attempts is not None and attempts < 1:
            raise InvalidRequest("attempts must be at least 1 (or unlimited)", reason="attempts")
        minutes = changes.get("time_limit_minutes", test.time_limit_minutes)
        if minutes is not None and minutes < 1:
            raise InvalidRequest("the time limit must be at least 1 minute", reason="time_limit")
        for key, value in changes.items():
            setattr(test, key, copy.deepcopy(value))
        opens, closes = _aware(test.opens_at), _aware(test.closes_at)
        if opens is not None and closes is not None and closes <= opens:
            raise InvalidRequest("the test must close after it opens", reason="window_order")
        check_test_config(db, test)
        record(db, actor, "test.edit", f"test:{test.id}",
               {"before": before, "after": {k: _plain(v) for k, v in changes.items()}})
    return test


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def set_test_status(
    db: Session, test_id: str, status: str, actor: Any, *, reason: str | None = None,
    now: datetime | None = None,
) -> Test:
    """Open (or reopen), close now, or archive a test.  Closing finishes no session (their
    students may still finish within their time) but lets nobody start; archiving frees the
    code; reopening an archived test takes its code back if no live test holds it."""
    if status not in ("open", "closed", "archived"):
        raise InvalidRequest("status must be open, closed or archived")
    now = now or utcnow()
    with unit_of_work(db):
        test = _test(db, test_id)
        previous = test.status
        if status == "archived":
            test.code_key = None
        elif previous == "archived":
            check_code_free(db, test.access_code, test_id=test.id)
            test.code_key = normalise_code(test.access_code)
        if status == "open":
            closes = _aware(test.closes_at)
            if closes is not None and closes <= now:
                test.closes_at = None  # reopening a test whose window ended: no end now
        test.status = status
        verb = {"open": "open", "closed": "close", "archived": "archive"}[status]
        record(db, actor, f"test.{verb}", f"test:{test.id}",
               {"from": previous, "reason": reason})
    return test


def grant_attempt(
    db: Session, test_id: str, session_id: str, actor: Any, reason: str | None = None,
    *, where: ColumnElement[bool] | None = None,
) -> None:
    """One more attempt for the student of ``session_id`` at this test."""
    with unit_of_work(db):
        ts = _session(db, test_id, session_id, where=where)
        db.add(AttemptGrant(test_id=ts.test_id, identity=ts.identity,
                            granted_by=str(getattr(actor, "username", actor))[:120],
                            reason=(reason or None) and reason[:500]))
        record(db, actor, "session.grant_attempt", f"session:{ts.id}",
               {"test": ts.test_id, "student": ts.student_key, "reason": reason})


def _session(
    db: Session, test_id: str, session_id: str, *, lock: bool = False,
    where: ColumnElement[bool] | None = None,
) -> TestSession:
    """The session, read within ``where`` (the actor's scope, :func:`.scope.control_clause`):
    a session outside it is as unknown as one that does not exist."""
    stmt = select(TestSession).where(TestSession.id == session_id, TestSession.test_id == test_id)
    if where is not None:
        stmt = stmt.where(where)
    if lock:
        stmt = stmt.with_for_update()
    ts = db.scalars(stmt.execution_options(populate_existing=True)).first()
    if ts is None:
        raise SessionNotFound("no such session of this test")
    return ts


def add_time(
    db: Session, test_id: str, session_id: str, minutes: int, actor: Any,
    reason: str | None = None, *, now: datetime | None = None,
    where: ColumnElement[bool] | None = None,
) -> TestSession:
    """Move an open session's deadline ``minutes`` later (from now if it had none)."""
    if not isinstance(minutes, int) or not 1 <= minutes <= 600:
        raise InvalidRequest("extra time is 1 to 600 minutes")
    now = now or utcnow()
    with unit_of_work(db):
        ts = _session(db, test_id, session_id, lock=True, where=where)
        state = _state(db, ts, now)
        if state.finished:
            raise InvalidRequest("this session is finished; reset it or grant another attempt")
        before = _aware(ts.deadline)
        ts.deadline = (before or now) + timedelta(minutes=minutes)
        ts.updated_at = now
        record(db, actor, "session.add_time", f"session:{ts.id}",
               {"minutes": minutes, "reason": reason,
                "deadline": _plain(_aware(ts.deadline))})
    return ts


def end_session(
    db: Session, test_id: str, session_id: str, actor: Any, reason: str | None = None,
    *, now: datetime | None = None, where: ColumnElement[bool] | None = None,
) -> TestSession:
    """Finish an open session now with the answers it has (as time up)."""
    now = now or utcnow()
    with unit_of_work(db):
        ts = _session(db, test_id, session_id, lock=True, where=where)
        if ts.status in OPEN_STATUSES:
            ts.deadline = now
            _state(db, ts, now)  # finishes it as expired with its answers
        record(db, actor, "session.end", f"session:{ts.id}", {"reason": reason})
    return ts


def unlock_session(
    db: Session, test_id: str, session_id: str, actor: Any, reason: str | None = None,
    *, where: ColumnElement[bool] | None = None,
) -> TestSession:
    """Let the student's next start resume this session without its code (once); the session
    gets a new resume code, so an old one seen by someone else stops working."""
    with unit_of_work(db):
        ts = _session(db, test_id, session_id, lock=True, where=where)
        ts.unlocked = True
        ts.resume_code = new_resume_code()
        record(db, actor, "session.unlock", f"session:{ts.id}", {"reason": reason})
    return ts


def reset_session(
    db: Session, test_id: str, session_id: str, actor: Any, reason: str | None = None,
    *, now: datetime | None = None, where: ColumnElement[bool] | None = None,
) -> TestSession:
    """Start the session again from its first item: its answers are deleted (their number is
    kept in the audit entry), its timer starts again and its token and code are replaced."""
    now = now or utcnow()
    with unit_of_work(db):
        ts = _session(db, test_id, session_id, lock=True, where=where)
        test = ts.test
        answered = ts.answered
        db.execute(delete(Response).where(Response.session_id == ts.id))
        db.execute(delete(QuestionnaireAnswer).where(QuestionnaireAnswer.session_id == ts.id))
        ts.questionnaire_version_id = None
        ts.questionnaire_finished_at = None
        ts.status = "started"
        ts.answered = 0
        ts.started_at = now
        ts.updated_at = now
        ts.finished_at = None
        ts.theta = ts.se = ts.scale_score = ts.scale_se = None
        ts.level = None
        ts.scored_items = None
        ts.unlocked = True
        ts.resume_code = new_resume_code()
        ts.token_hash = hash_token(secrets.token_urlsafe(32))  # the student joins again
        deadline = None
        if test.time_limit_minutes:
            deadline = now + timedelta(minutes=test.time_limit_minutes)
        closes = _aware(test.closes_at)
        if closes is not None:
            deadline = min(deadline, closes) if deadline is not None else closes
        ts.deadline = deadline
        record(db, actor, "session.reset", f"session:{ts.id}",
               {"answers_deleted": answered, "reason": reason})
    return ts

"""Teachers follow their tests live: every session with its status (started, in progress,
finished, expired), the number of answers, and each student's result and answers.

Who sees a test: administrators all; others the tests they own, tests without an owner (the
demo), and tests assigned to their school.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from itembank import delivery
from itembank.delivery_models import Response, Test, TestSession

from .database import get_db
from .i18n import current_language

bp = Blueprint("teach", __name__, url_prefix="/teach")

TEACHING_ROLES = ("teacher", "school_admin", "researcher", "admin")
REFRESH_SECONDS = 15


def _can_see(test: Test) -> bool:
    if current_user.role == "admin":
        return True
    if test.owner_id is None or test.owner_id == current_user.id:
        return True
    return current_user.school_id is not None and any(
        a.school_id == current_user.school_id
        or (a.school_class is not None and a.school_class.school_id == current_user.school_id)
        for a in test.assignments
    )


@bp.before_request
@login_required
def _teachers_only() -> None:
    if current_user.role not in TEACHING_ROLES:
        abort(403)


@bp.get("/")
def index() -> str:
    db = get_db()
    tests = [t for t in db.scalars(select(Test).order_by(Test.id)) if _can_see(t)]
    counts = {}
    for test in tests:
        statuses = db.scalars(select(TestSession.status).where(TestSession.test_id == test.id))
        tally = {s: 0 for s in ("started", "in_progress", "finished", "expired")}
        for status in statuses:
            tally[status] += 1
        counts[test.id] = tally
    return render_template("teach/index.html", tests=tests, counts=counts)


def _test_or_404(test_id: str) -> Test:
    test = get_db().get(Test, test_id)
    if test is None or not _can_see(test):
        abort(404)
    return test


@bp.get("/tests/<test_id>")
def test_sessions(test_id: str) -> str:
    test = _test_or_404(test_id)
    sessions = delivery.sessions_of_test(get_db(), test.id)
    return render_template("teach/test.html", test=test, sessions=sessions, refresh=REFRESH_SECONDS)


@bp.get("/tests/<test_id>/sessions/<session_id>")
def session_detail(test_id: str, session_id: str) -> str:
    test = _test_or_404(test_id)
    db = get_db()
    ts = db.get(TestSession, session_id)
    if ts is None or ts.test_id != test.id:
        abort(404)
    responses = db.scalars(
        select(Response).where(Response.session_id == ts.id).order_by(Response.sequence)
    ).all()
    result = delivery.result_view(ts, current_language())
    return render_template(
        "teach/session.html", test=test, ts=ts, responses=responses, result=result
    )

"""Teachers follow their tests live: every session with its status (started, in progress,
finished, expired), the number of answers, and each student's result and answers.

What each user sees is narrowed in the queries themselves by :mod:`itembank.orgs.scope`: the tests
of ``tests_visible_to`` and, within them, only the sessions of ``sessions_visible_to`` (a teacher's
classes, a school administrator's school, a city researcher's city).  Researchers see pseudonymous
student keys, never the schools' student ids.  Exports and reports: :mod:`webapp.manage.reports`.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from itembank.delivery import scope as session_scope
from itembank.delivery import sessions as delivery
from itembank.delivery.models import Response, Test, TestSession
from itembank.orgs import scope

from .database import get_db
from .i18n import current_language

bp = Blueprint("teach", __name__, url_prefix="/teach")

TEACHING_ROLES = ("teacher", "school_admin", "researcher", "admin")
REFRESH_SECONDS = 15


@bp.before_request
@login_required
def _teachers_only() -> None:
    if current_user.role not in TEACHING_ROLES:
        abort(403)


@bp.app_template_global()
def student_label(ts: TestSession) -> str:
    """How a session's student is named on a page: the school's student id for the school's own
    staff, the pseudonymous key for researchers."""
    if scope.may_see_names(current_user) or ts.student is None:
        return ts.student_key
    return ts.student.key


@bp.app_template_global()
def score_reported(ts: TestSession) -> bool:
    """Whether the session's score meets its test's precision rule (else it is not shown)."""
    return ts.status not in ("started", "in_progress") and delivery.precise_enough(ts)


@bp.get("/")
def index() -> str:
    db = get_db()
    tests = db.scalars(session_scope.tests_visible_to(current_user).order_by(Test.id)).all()
    counts = {
        t.id: {s: 0 for s in ("started", "in_progress", "finished", "expired")} for t in tests
    }
    rows = db.execute(
        select(TestSession.test_id, TestSession.status, func.count())
        .where(session_scope.session_clause(current_user))
        .where(TestSession.test_id.in_(select(Test.id).where(session_scope.test_clause(current_user))))
        .group_by(TestSession.test_id, TestSession.status)
    )
    for test_id, status, count in rows:
        counts[test_id][status] = count
    return render_template(
        "teach/index.html", tests=tests, counts=counts, show_codes=current_user.role != "researcher"
    )


def _test_or_404(test_id: str) -> Test:
    test = get_db().scalars(session_scope.tests_visible_to(current_user).where(Test.id == test_id)).first()
    if test is None:
        abort(404)
    return test


@bp.get("/tests/<test_id>")
def test_sessions(test_id: str) -> str:
    test = _test_or_404(test_id)
    sessions = delivery.sessions_of_test(
        get_db(), test.id, where=session_scope.session_clause(current_user)
    )
    return render_template("teach/test.html", test=test, sessions=sessions, refresh=REFRESH_SECONDS)


@bp.get("/tests/<test_id>/sessions/<session_id>")
def session_detail(test_id: str, session_id: str) -> str:
    test = _test_or_404(test_id)
    db = get_db()
    ts = db.scalars(
        session_scope.sessions_visible_to(current_user).where(
            TestSession.id == session_id, TestSession.test_id == test.id
        )
    ).first()
    if ts is None:
        abort(404)
    responses = db.scalars(
        select(Response).where(Response.session_id == ts.id).order_by(Response.sequence)
    ).all()
    result = delivery.result_view(ts, current_language())
    return render_template(
        "teach/session.html", test=test, ts=ts, responses=responses, result=result
    )

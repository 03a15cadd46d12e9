"""Teachers follow their tests live: the whole roster of the test's classes with each student's
status (not started, in progress with the answers and the time left, finished, time up), resume
code and last activity, and each student's result and answers; and they act on a session (add
time, end it, unlock it, reset it, grant another attempt) with :mod:`itembank.delivery.control`.

The live list refreshes itself with ``static/teach.js`` (it fetches the list's fragment every
``REFRESH_SECONDS`` and replaces it); without script the page has a refresh link.  Every action is
a POST with a CSRF token; ending, resetting and granting ask for confirmation (and a reason) first.
Who may act on which session is :func:`itembank.delivery.scope.control_clause`, in the query.

What each user sees is narrowed in the queries themselves by :mod:`itembank.orgs.scope`: the tests
of ``tests_visible_to`` and, within them, only the sessions of ``sessions_visible_to`` (a teacher's
classes, a school administrator's school, a city researcher's city).  Researchers see pseudonymous
student keys, never the schools' student ids.  Exports and reports: :mod:`webapp.manage.reports`.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional

from itembank.delivery import control, pretest
from itembank.delivery import scope as session_scope
from itembank.delivery import sessions as delivery
from itembank.delivery.live import live_rows
from itembank.delivery.models import Response, Test, TestSession
from itembank.orgs import scope
from itembank.research import coding

from .database import get_db
from .i18n import current_language

bp = Blueprint("teach", __name__, url_prefix="/teach")

TEACHING_ROLES = ("teacher", "school_admin", "researcher", "admin")
CONTROLLING_ROLES = ("teacher", "school_admin", "admin")
REFRESH_SECONDS = 10
EXTRA_MINUTES = 5
# actions that change or delete what a student did: asked again, with a reason, before they run
CONFIRMED_ACTIONS = ("end", "reset", "grant")
ACTIONS = ("add_time", "unlock", *CONFIRMED_ACTIONS)


class ControlForm(FlaskForm):
    """One action on one session (the action is the button pressed: ``action``)."""

    action = HiddenField()
    minutes = IntegerField(validators=[Optional(), NumberRange(min=1, max=600)])
    reason = StringField(_l("Reason (kept in the audit log)"),
                         validators=[Optional(), Length(max=500)])
    confirmed = HiddenField()


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
        "teach/index.html", tests=tests, counts=counts, show_codes=current_user.role != "researcher",
        to_code=_to_code(),
    )


def _to_code(test_id: str | None = None) -> int | None:
    """Open responses the user may code that wait for a code (None: the user does not code)."""
    if current_user.role not in coding.CODER_ROLES:
        return None
    return coding.waiting(get_db(), viewer=current_user, test_id=test_id)


def _test_or_404(test_id: str) -> Test:
    test = get_db().scalars(session_scope.tests_visible_to(current_user).where(Test.id == test_id)).first()
    if test is None:
        abort(404)
    return test


def _may_control() -> bool:
    return bool(current_user.role in CONTROLLING_ROLES)


def _live_context(test: Test) -> dict[str, object]:
    db = get_db()
    rows = live_rows(
        db, test,
        students_where=scope.student_clause(current_user),
        sessions_where=session_scope.session_clause(current_user),
    )  # fmt: skip
    controllable: set[str] = set()
    if _may_control():
        controllable = set(db.scalars(
            select(TestSession.id).where(
                TestSession.test_id == test.id, session_scope.control_clause(current_user)
            )
        ))  # fmt: skip
    return {
        "test": test, "rows": rows, "controllable": controllable,
        "refresh": int(current_app.config.get("TEACH_REFRESH_SECONDS", REFRESH_SECONDS)),
        "extra_minutes": EXTRA_MINUTES, "updated": format_time(delivery.utcnow(), "medium"),
        "show_names": scope.may_see_names(current_user),
        "show_codes": current_user.role != "researcher",
    }  # fmt: skip


@bp.get("/tests/<test_id>")
def test_sessions(test_id: str) -> str:
    test = _test_or_404(test_id)
    # pretest units the test seeds and their responses (counts only: no parameters to teachers)
    seeding = pretest.unit_counts(get_db(), test)
    return render_template("teach/test.html", to_code=_to_code(test.id), seeding=seeding,
                           min_responses=_min_responses(test) if seeding else None,
                           **_live_context(test))


def _min_responses(test: Test) -> int:
    return delivery.cat_config(test).pretest.min_responses


@bp.get("/tests/<test_id>/live")
def live(test_id: str) -> str:
    """The live list alone (teach.js replaces the page's list with it)."""
    test = _test_or_404(test_id)
    return render_template("teach/_live.html", **_live_context(test))


def _student_name(ts: TestSession) -> str:
    if ts.student is not None and ts.student.name and scope.may_see_names(current_user):
        return f"{ts.student.name} ({student_label(ts)})"
    return student_label(ts)


@bp.post("/tests/<test_id>/sessions/<session_id>/control")
def control_session(test_id: str, session_id: str) -> WerkzeugResponse | tuple[str, int]:
    """Add time, unlock; or (after a confirmation page) end, reset, grant another attempt."""
    if not _may_control():
        abort(403)
    test = _test_or_404(test_id)
    db = get_db()
    where = session_scope.control_clause(current_user)
    ts = db.scalars(
        select(TestSession).where(
            TestSession.id == session_id, TestSession.test_id == test.id, where
        )
    ).first()
    if ts is None:
        abort(404)
    form = ControlForm()
    action = request.form.get("action", "")
    if action not in ACTIONS or not form.validate_on_submit():
        abort(400)
    reason = (form.reason.data or "").strip() or None
    if action in CONFIRMED_ACTIONS and form.confirmed.data != "yes":
        return render_template(
            "teach/confirm.html", test=test, ts=ts, action=action, form=form,
            student=_student_name(ts),
        ), 200  # fmt: skip
    name = _student_name(ts)
    try:
        if action == "add_time":
            minutes = form.minutes.data or EXTRA_MINUTES
            control.add_time(db, test.id, ts.id, minutes, current_user, reason, where=where)
            flash(_("%(student)s has %(n)s more minutes.", student=name, n=minutes), "info")
        elif action == "unlock":
            control.unlock_session(db, test.id, ts.id, current_user, reason, where=where)
            flash(_("%(student)s can now continue without the resume code (once).",
                    student=name), "info")  # fmt: skip
        elif action == "end":
            control.end_session(db, test.id, ts.id, current_user, reason, where=where)
            flash(_("The session of %(student)s has ended.", student=name), "info")
        elif action == "reset":
            control.reset_session(db, test.id, ts.id, current_user, reason, where=where)
            flash(_("The session of %(student)s starts again from the first item.",
                    student=name), "info")  # fmt: skip
        else:
            control.grant_attempt(db, test.id, ts.id, current_user, reason, where=where)
            flash(_("%(student)s may take the test once more.", student=name), "info")
    except delivery.SessionNotFound:
        abort(404)
    except delivery.InvalidRequest:
        flash(_("This session is finished: reset it or grant another attempt instead."), "error")
    return redirect(url_for("teach.test_sessions", test_id=test.id))


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
    controllable = _may_control() and db.scalar(
        select(TestSession.id).where(TestSession.id == ts.id, session_scope.control_clause(current_user))
    ) is not None
    return render_template(
        "teach/session.html", test=test, ts=ts, responses=responses, result=result,
        controllable=controllable, extra_minutes=EXTRA_MINUTES,
        time_left=delivery.time_left(ts) if ts.status in ("started", "in_progress") else None,
    )  # fmt: skip

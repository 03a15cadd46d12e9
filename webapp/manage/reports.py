"""Results as each user's scope allows: a test's results by city, school and class (means, SEs
and level shares of groups of at least ``min_group_size`` sessions that disclosure control
lets the user see (itembank/research/group_results.py), in HTML and CSV), and a
test's sessions as CSV with pseudonymous student keys (the school's student ids and names only on
request, and only for the school's own staff)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from irt.reporting import from_dict as reporting_from_dict
from itembank import config
from itembank.bank import csv_export
from itembank.delivery import scope as session_scope
from itembank.delivery.models import Test, TestSession
from itembank.delivery.sessions import cat_config
from itembank.orgs import scope
from itembank.orgs.models import City, School, SchoolClass, Student
from itembank.research import group_results

from ..database import get_db
from ..roles import roles_required
from . import bp

REPORT_ROLES = ("teacher", "school_admin", "researcher", "admin")
GROUPINGS = ("city", "school", "class")


def min_group_size() -> int:
    """``Settings.min_group_size`` (ITEMBANK_MIN_GROUP_SIZE); tests may set MIN_GROUP_SIZE."""
    value = current_app.config.get("MIN_GROUP_SIZE")
    return int(value) if value is not None else config.load().min_group_size


def _test_or_404(test_id: str) -> Test:
    test = get_db().scalars(session_scope.tests_visible_to(current_user).where(Test.id == test_id)).first()
    if test is None:
        abort(404)
    return test


def _level_labels(test: Test) -> list[str]:
    _, levels = reporting_from_dict(cat_config(test).reporting)
    return list(levels.labels) if levels is not None else []


def _csv(rows: list[list[Any]], filename: str) -> Response:
    response = Response("\ufeff" + csv_export.csv_text(rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/tests/<test_id>/summary")
@roles_required(*REPORT_ROLES)
def summary(test_id: str) -> str:
    test = _test_or_404(test_id)
    minimum = min_group_size()
    groups = group_results.group_results(get_db(), current_user, test_id=test.id,
                                         min_group_size=minimum)
    return render_template(
        "manage/summary.html", test=test, groups=groups, levels=_level_labels(test), minimum=minimum
    )


@bp.get("/tests/<test_id>/summary.csv")
@roles_required(*REPORT_ROLES)
def summary_csv(test_id: str) -> Response:
    test = _test_or_404(test_id)
    by = request.args.get("by", "school")
    if by not in GROUPINGS:
        abort(404)
    levels = _level_labels(test)
    rows: list[list[Any]] = [
        ["group", "city", "school", "class", "n", "mean", "se", *[f"level_{lv}" for lv in levels]]
    ]
    published = group_results.group_results(
        get_db(), current_user, test_id=test.id, min_group_size=min_group_size(),
        groupings=(by,),  # type: ignore[arg-type]
    )
    for g in next(iter(published.values())):
        rows.append([
            by, g.city_code, g.school_code or "", g.class_name or "", g.n, round(g.mean, 2),
            "" if g.se is None else round(g.se, 2),
            *[round(g.levels.get(lv, 0.0), 4) for lv in levels],
        ])  # fmt: skip
    return _csv(rows, f"{test.id}-by-{by}.csv")


@bp.get("/tests/<test_id>/sessions.csv")
@roles_required(*REPORT_ROLES)
def sessions_csv(test_id: str) -> Response:
    """One row per session in the user's row scope.  ``student`` is the pseudonymous key
    (empty for a session of an open test, which has no roster entry); ``?identify=1`` adds the
    school's student id and the name, for the school's own staff only."""
    if not scope.may_see_rows(current_user):
        abort(403)
    test = _test_or_404(test_id)
    identify = request.args.get("identify") == "1"
    if identify and not scope.may_see_names(current_user):
        abort(403)
    query = (
        select(TestSession, Student, SchoolClass.name, School.code, City.code)
        .outerjoin(Student, TestSession.student_ref == Student.id)
        .outerjoin(SchoolClass, TestSession.class_id == SchoolClass.id)
        .outerjoin(School, SchoolClass.school_id == School.id)
        .outerjoin(City, School.city_id == City.id)
        .where(TestSession.test_id == test.id, session_scope.session_clause(current_user))
        .order_by(TestSession.started_at)
    )
    header = ["session", "student", "city", "school", "class", "language", "status", "answered",
              "started_at", "finished_at", "theta", "se", "scale_score", "scale_se", "level"]  # fmt: skip
    if identify:
        header += ["student_id", "name"]
    rows: list[list[Any]] = [header]
    for ts, student, class_name, school_code, city_code in get_db().execute(query):
        row = [
            ts.id, student.key if student is not None else "", city_code or "", school_code or "",
            class_name or "", ts.language, ts.status, ts.answered,
            ts.started_at.isoformat() if ts.started_at else "",
            ts.finished_at.isoformat() if ts.finished_at else "",
            *["" if v is None else round(v, 4) for v in (ts.theta, ts.se, ts.scale_score, ts.scale_se)],
            ts.level or "",
        ]  # fmt: skip
        if identify:
            row += [ts.student_key, (student.name or "") if student is not None else ""]
        rows.append(row)
    return _csv(rows, f"{test.id}-sessions.csv")

"""Rosters as schools have them: the columns and their allowed values, a template CSV in either
language, a roster's problems said in the reader's language (row and column named), the login
cards of a class (a PDF, :mod:`itembank.paper.cards`) and a new password for one student (shown
once).  Scope: the class or student must be in the user's rows (:mod:`itembank.orgs.scope`)."""

from __future__ import annotations

import csv
import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import or_, select
from wtforms.fields.choices import SelectChoice

from itembank.accounts import audit
from itembank.db import unit_of_work
from itembank.delivery import scope as session_scope
from itembank.delivery.models import Test, TestAssignment
from itembank.errors import Problem
from itembank.orgs import scope
from itembank.orgs.cards import class_cards
from itembank.orgs.models import SchoolClass, Student
from itembank.orgs.roster import RosterProblem
from itembank.orgs.student_passwords import issue_password

from ..database import get_db
from ..i18n import current_language
from ..roles import roles_required
from . import bp
from .forms import CardsForm, ConfirmForm

STAFF = ("teacher", "school_admin", "admin")

# (column, what it holds, allowed values) for the upload page
COLUMNS = [
    ("city", _l("The city's code, e.g. taipei"), _l("required; up to 64 characters")),
    ("school", _l("The school's code within the city"), _l("required; up to 64 characters")),
    ("class", _l("The class's name, e.g. 801"), _l("required; up to 64 characters")),
    ("student_id", _l("The school's number for the student"),
     _l("required; unique within the school; up to 64 characters")),
    ("name", _l("The student's name"), _l("optional; up to 200 characters")),
    ("grade", _l("The school grade"), _l("optional; 1 to 12")),
    ("language", _l("The language of the student's tests"), _l("required; zh-TW or en")),
    ("gender", _l("The student's gender"), lambda: gender_hint()),
]
def gender_hint() -> Markup:
    """The gender column's values; the Chinese ones marked as Chinese on an English page."""
    zh = Markup('<span lang="zh-Hant-TW">男</span>, <span lang="zh-Hant-TW">女</span>')
    text = _("optional; M or F, male or female, %(chinese)s, other (any case), or empty",
             chinese="\x00")
    return Markup(escape(text)).replace("\x00", zh)


TEMPLATES = {
    "zh-TW": [("taipei", "north", "801", "80101", "王小明", "8", "zh-TW", "男"),
              ("taipei", "north", "801", "80102", "林美玲", "8", "zh-TW", "女"),
              ("taipei", "north", "802", "80201", "陳小華", "8", "en", "")],
    "en": [("taipei", "north", "801", "80101", "Wang Xiaoming", "8", "zh-TW", "M"),
           ("taipei", "north", "801", "80102", "Amy Lin", "8", "en", "F"),
           ("taipei", "north", "802", "80201", "Chen Xiaohua", "8", "en", "")],
}  # fmt: skip


def problem_text(problem: Problem) -> str:
    """A roster problem as ``FILE:ROW:COLUMN:`` and the message in the page's language."""
    if not isinstance(problem, RosterProblem) or not problem.kind:
        return str(problem)
    p = problem.params
    messages = {
        "too_large": lambda: _("The roster is larger than %(mb)s MB; split it by school.", mb=p["mb"]),
        "empty": lambda: _("The roster is empty; its first row must be %(columns)s.",
                           columns=p["columns"]),
        "unknown_column": lambda: _("Unknown column “%(column)s”; the columns are %(columns)s.",
                                    column=p["column"], columns=p["columns"]),
        "duplicate_column": lambda: _("The column “%(column)s” appears twice.", column=p["column"]),
        "missing_column": lambda: _("The column “%(column)s” is missing; the columns are %(columns)s.",
                                    column=p["column"], columns=p["columns"]),
        "cell_count": lambda: _("This row has %(cells)s cells but the header has %(header)s; check "
                                "for a missing or extra comma.", cells=p["cells"], header=p["header"]),
        "too_long": lambda: _("“%(column)s” is %(length)s characters long; at most %(longest)s are "
                              "allowed.", column=p["column"], length=p["length"],
                              longest=p["longest"]),
        "empty_cell": lambda: _("“%(column)s” is empty; every student needs one.", column=p["column"]),
        "language": lambda: _("Unknown language “%(value)s”; use zh-TW or en.", value=p["value"]),
        "grade": lambda: _("Grade “%(value)s” is not a school grade from 1 to 12.", value=p["value"]),
        "gender": lambda: _("Gender “%(value)s”: use M/F, male/female, 男/女, other, or leave it "
                            "empty.", value=p["value"]),
        "duplicate_id": lambda: _("Student ID “%(value)s” is already used on row %(row)s for school "
                                  "%(school)s; IDs must be unique within a school.",
                                  value=p["value"], row=p["row"], school=p["school"]),
        "not_your_school": lambda: _("School %(school)s of %(city)s is not your school (%(own)s of "
                                     "%(own_city)s); upload only your school's students.",
                                     school=p["school"], city=p["city"], own=p["own"],
                                     own_city=p["own_city"]),
    }  # fmt: skip
    make = messages.get(problem.kind)
    if make is None:
        return str(problem)
    place = _("row %(row)s, column %(column)s", row=problem.line, column=problem.column)
    return f"{problem.file}:{problem.line}:{problem.column}: {place}: {make()}"


@bp.get("/roster/template-<language>.csv")
@roles_required("school_admin", "admin")
def roster_template(language: str) -> Response:
    """A roster to fill in: the header and three example rows (UTF-8 with a BOM for Excel)."""
    if language not in TEMPLATES:
        abort(404)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c[0] for c in COLUMNS])
    writer.writerows(TEMPLATES[language])
    return Response(
        "\ufeff" + out.getvalue(), mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="roster-template-{language}.csv"'},
    )  # fmt: skip


def _class_or_404(class_id: int) -> SchoolClass:
    klass = get_db().scalars(
        scope.classes_visible_to(current_user).where(SchoolClass.id == class_id)
    ).first()
    if klass is None:
        abort(404)
    return klass


def card_tests(klass: SchoolClass) -> list[Test]:
    """The tests a class's cards may name: those assigned to the class or its school that the
    user sees and that are not archived."""
    assigned = select(TestAssignment.test_id).where(
        or_(TestAssignment.class_id == klass.id, TestAssignment.school_id == klass.school_id)
    )
    return list(get_db().scalars(
        session_scope.tests_visible_to(current_user)
        .where(Test.id.in_(assigned), Test.status != "archived")
        .order_by(Test.id)
    ))  # fmt: skip


def cards_form(klass: SchoolClass) -> CardsForm:
    form = CardsForm()
    form.test.choices = [SelectChoice("", _("none"))] + [
        SelectChoice(t.id, f"{t.title.get(current_language()) or t.id} · {t.id}")
        for t in card_tests(klass)
    ]
    return form


@bp.post("/classes/<int:class_id>/cards")
@roles_required(*STAFF)
def class_cards_pdf(class_id: int) -> Response:
    """The class's login cards as a PDF (students without a password get one now)."""
    from itembank.paper.cards import render_login_cards

    klass = _class_or_404(class_id)
    form = cards_form(klass)
    if not form.validate_on_submit():
        abort(400)
    db = get_db()
    test = db.get(Test, form.test.data) if form.test.data else None
    with unit_of_work(db):
        klass = db.get(SchoolClass, class_id) or klass
        entries, issued = class_cards(db, klass, new_passwords=bool(form.new_passwords.data))
        audit.record(db, current_user, "roster.cards", f"class:{klass.id}",
                     {"cards": len(entries), "passwords_issued": issued,
                      "test": test.id if test else None})  # fmt: skip
    if not entries:
        flash(_("No student is on this class's roster."), "error")
        return redirect(url_for("manage.class_page", class_id=class_id))  # type: ignore[return-value]
    pdf = render_login_cards(
        entries, language=form.language.data or "zh-TW",
        test_title=dict(test.title) if test else None,
        address=url_for("deliver.join", test=test.id, _external=True) if test else request.url_root,
        access_code=test.access_code if test else None,
    )  # fmt: skip
    name = f"login-cards-{klass.school.code}-{klass.name}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/students/<int:student_id>/password")
@roles_required(*STAFF)
def new_password(student_id: int) -> Response | str:
    """A new sign-in password for one student, shown on this one page (not kept in a cookie or
    a log; the class's login cards print it again); the old one stops working."""
    db = get_db()
    student = db.scalars(
        scope.students_visible_to(current_user).where(Student.id == student_id)
    ).first()
    if student is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work(db):
        row = db.get(Student, student_id)
        assert row is not None
        student = row
        password = issue_password(student)
        audit.record(db, current_user, "student.new_password", f"student:{student.key}")
    html = render_template("manage/new_password.html", student=student, password=password)
    response = Response(html)
    response.headers["Cache-Control"] = "no-store"
    return response

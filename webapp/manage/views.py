"""The ``manage`` pages: an overview of one's classes and tests, a new test, assigning a test to
classes, a school's roster upload, a class with its students and teachers, forgetting a student."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename
from wtforms.fields.choices import SelectChoice

from itembank.accounts import audit
from itembank.accounts.models import User
from itembank.db import unit_of_work
from itembank.delivery import practice
from itembank.delivery import scope as session_scope
from itembank.delivery import sessions as delivery
from itembank.delivery.cat_bank import BankUnavailableError, delivery_bank
from itembank.delivery.forget import forget_student
from itembank.delivery.models import Test, TestAssignment
from itembank.demo import DEMO_CAT_CONFIG
from itembank.errors import ItembankError, ProblemsError
from itembank.orgs import scope
from itembank.orgs.models import ClassTeacher, School, SchoolClass, Student
from itembank.orgs.roster import MAX_ROSTER_BYTES, import_roster

from ..authoring.labels import STATUSES as STATUS_NAMES
from ..database import get_db
from ..roles import roles_required
from . import bp
from .forms import ClassesForm, ConfirmForm, LinkTeacherForm, RosterForm, TestForm
from .refusals import missing_items_message
from .rosters import COLUMNS, TEMPLATES, cards_form, problem_text

STAFF = ("teacher", "school_admin", "admin")
SCHOOL_ADMINS = ("school_admin", "admin")


def _class_choices(db: Session) -> list[SelectChoice]:
    rows = db.execute(
        select(SchoolClass.id, SchoolClass.name, School.code)
        .join(School, SchoolClass.school_id == School.id)
        .where(scope.class_clause(current_user))
        .order_by(School.code, SchoolClass.name)
    ).all()
    return [SelectChoice(cid, f"{name} · {school}") for cid, name, school in rows]


def _aware(value: datetime | None) -> datetime | None:
    """A time typed in the app's time zone, as UTC."""
    if value is None:
        return None
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    return value.replace(tzinfo=zone).astimezone(UTC)


@bp.get("/")
@roles_required(*STAFF)
def index() -> str:
    db = get_db()
    classes = db.execute(
        select(SchoolClass, School)
        .join(School, SchoolClass.school_id == School.id)
        .where(scope.class_clause(current_user))
        .order_by(School.code, SchoolClass.name)
    ).all()
    visible = select(SchoolClass.id).where(scope.class_clause(current_user))
    counts = dict(
        db.execute(
            select(Student.class_id, func.count())
            .where(Student.class_id.in_(visible))
            .group_by(Student.class_id)
        ).all()
    )
    teachers: dict[int, list[str]] = {}
    for class_id, username, display in db.execute(
        select(ClassTeacher.class_id, User.username, User.display_name)
        .join(User, ClassTeacher.user_id == User.id)
        .where(ClassTeacher.class_id.in_(visible))
        .order_by(User.username)
    ):
        teachers.setdefault(class_id, []).append(display or username)
    tests = db.scalars(
        select(Test).where(session_scope.manageable_test_clause(current_user)).order_by(Test.id)
    ).all()
    return render_template(
        "manage/index.html", classes=classes, counts=counts, teachers=teachers, tests=tests
    )


@bp.route("/tests/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def new_test() -> Response | tuple[str, int]:
    db = get_db()
    form = TestForm()
    form.classes.choices = _class_choices(db)
    status = 200
    if form.validate_on_submit():
        items = (
            [i for i in form.items.data.replace(",", " ").split() if i] if form.items.data else []
        )
        problem = None
        if db.get(Test, form.test_id.data) is not None:
            form.test_id.errors = [
                *form.test_id.errors,
                _("A test with this id exists; choose another."),
            ]
            problem = True
        if form.kind.data == "practice":
            if not items:
                form.items.errors = [*form.items.errors, _("A practice test needs its item ids.")]
                problem = True
            for item_id, found in practice.unit_statuses(db, items).items():
                if found is None:
                    form.items.errors = [*form.items.errors,
                                         _("There is no item %(item)s in the bank.", item=item_id)]
                elif found[1] != "released":
                    form.items.errors = [*form.items.errors, _(
                        "Item %(item)s is in unit %(unit)s, which is %(status)s: a practice test "
                        "takes items of released units only (a reviewer releases a unit after it "
                        "is retired).", item=item_id, unit=found[0],
                        status=STATUS_NAMES.get(found[1], found[1]))]
                problem = problem or found is None or found[1] != "released"
        if form.kind.data == "fixed":
            if not items:
                form.items.errors = [*form.items.errors, _("A fixed test needs its item ids.")]
                problem = True
            else:
                try:
                    delivery_bank(db, kind="fixed", items=items)
                except BankUnavailableError as exc:
                    form.items.errors = [*form.items.errors, missing_items_message(exc)]
                    problem = True
        opens, closes = _aware(form.opens_at.data), _aware(form.closes_at.data)
        if opens and closes and closes <= opens:
            form.closes_at.errors = [
                *form.closes_at.errors,
                _("The test must close after it opens."),
            ]
            problem = True
        code = form.access_code.data.strip() if form.access_code.data else ""
        code = code or delivery.generate_access_code()
        holder = db.scalars(select(Test.id).where(Test.code_key == delivery.normalise_code(code))).first()
        if holder is not None:
            form.access_code.errors = [
                *form.access_code.errors,
                _("The test %(id)s already uses this access code; choose another.", id=holder),
            ]
            problem = True
        if not problem:
            with unit_of_work(db):
                test = delivery.create_test(
                    db,
                    id=form.test_id.data,
                    title={"zh-TW": form.title_zh.data.strip(), "en": form.title_en.data.strip()},
                    access_code=code,
                    max_attempts=form.attempts.data or 1,
                    kind=form.kind.data,
                    cat_config_data=DEMO_CAT_CONFIG if form.kind.data == "adaptive" else None,
                    items=items if form.kind.data in ("fixed", "practice") else None,
                    opens_at=opens,
                    closes_at=closes,
                    time_limit_minutes=form.time_limit.data,
                    show_score=form.show_score.data,
                    owner_id=current_user.id,
                )
                for class_id in form.classes.data or []:
                    db.add(TestAssignment(test=test, class_id=class_id))
            flash(_("The test %(id)s is ready; its access code is %(code)s.",
                    id=form.test_id.data, code=code), "info")
            return redirect(url_for("manage.index"))
        status = 422
    elif form.is_submitted():
        status = 422
    if not form.is_submitted():
        form.time_limit.data = 60
    return render_template("manage/test_form.html", form=form), status


@bp.route("/tests/<test_id>/assign", methods=["GET", "POST"])
@roles_required(*STAFF)
def assign(test_id: str) -> Response | tuple[str, int]:
    db = get_db()
    test = db.scalars(
        select(Test).where(Test.id == test_id, session_scope.manageable_test_clause(current_user))
    ).first()
    if test is None:
        abort(404)
    form = ClassesForm()
    form.classes.choices = _class_choices(db)
    mine = {choice.value for choice in form.classes.choices}
    current = {a.class_id for a in test.assignments if a.class_id in mine}
    if form.validate_on_submit():
        wanted = set(form.classes.data or [])
        with unit_of_work(db):
            test = db.get(Test, test_id)
            assert test is not None
            for assignment in list(test.assignments):
                if assignment.class_id in mine and assignment.class_id not in wanted:
                    test.assignments.remove(assignment)
            for class_id in sorted(wanted - current):
                db.add(TestAssignment(test=test, class_id=class_id))
        flash(_("The classes of %(id)s are saved.", id=test_id), "info")
        return redirect(url_for("manage.index"))
    if not form.is_submitted():
        form.classes.data = sorted(current)
    others = [a for a in test.assignments if a.class_id not in mine]
    status = 422 if form.is_submitted() else 200
    return render_template("manage/assign.html", form=form, test=test, others=others), status


@bp.route("/roster", methods=["GET", "POST"])
@roles_required(*SCHOOL_ADMINS)
def roster() -> Response | tuple[str, int]:
    db = get_db()
    if current_user.role == "school_admin" and current_user.school_id is None:
        abort(403)
    school = db.get(School, current_user.school_id) if current_user.school_id else None
    form = RosterForm()
    problems: list[str] = []
    status = 200
    if form.validate_on_submit():
        upload = form.roster.data
        name = secure_filename(upload.filename or "") or "roster.csv"
        data = upload.read(MAX_ROSTER_BYTES + 1)
        own = current_user.school_id if current_user.role == "school_admin" else None
        try:
            with unit_of_work(db):
                totals = import_roster(db, data, name, school_id=own,
                                       passwords=bool(form.passwords.data))
                audit.record(db, current_user, "roster.import", f"roster:{name}",
                             {**totals.as_dict(), "passwords_issued": totals.passwords})
        except ProblemsError as exc:
            problems = [problem_text(p) for p in exc.problems]
        except ItembankError as exc:
            problems = [str(exc)]
        else:
            flash(
                _("The roster is saved. In the database now: %(schools)s schools, %(classes)s "
                  "classes, %(students)s students.", schools=totals.schools,
                  classes=totals.classes, students=totals.students),
                "info",
            )  # fmt: skip
            if totals.passwords:
                flash(_("%(n)s students got a sign-in password: print each class's login cards "
                        "on the class's page.", n=totals.passwords), "info")  # fmt: skip
            return redirect(url_for("manage.index"))
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template(
        "manage/roster.html", form=form, problems=problems, school=school, columns=COLUMNS,
        template_languages=list(TEMPLATES),
    ), status


def _class_or_404(class_id: int) -> SchoolClass:
    klass = (
        get_db()
        .scalars(scope.classes_visible_to(current_user).where(SchoolClass.id == class_id))
        .first()
    )
    if klass is None:
        abort(404)
    return klass


def _teacher_choices(db: Session, klass: SchoolClass) -> list[SelectChoice]:
    rows = db.execute(
        select(User.id, User.username, User.display_name)
        .where(User.role == "teacher", User.active.is_(True), User.school_id == klass.school_id)
        .where(
            User.id.not_in(select(ClassTeacher.user_id).where(ClassTeacher.class_id == klass.id))
        )
        .order_by(User.username)
    ).all()
    return [
        SelectChoice(uid, f"{display} ({username})" if display else username)
        for uid, username, display in rows
    ]


@bp.get("/classes/<int:class_id>")
@roles_required(*STAFF)
def class_page(class_id: int) -> str:
    db = get_db()
    klass = _class_or_404(class_id)
    students = db.scalars(
        scope.students_visible_to(current_user)
        .where(Student.class_id == klass.id)
        .order_by(Student.student_id)
    ).all()
    teachers = db.scalars(
        select(User)
        .join(ClassTeacher, ClassTeacher.user_id == User.id)
        .where(ClassTeacher.class_id == klass.id)
        .order_by(User.username)
    ).all()
    link = LinkTeacherForm()
    link.teacher.choices = _teacher_choices(db, klass)
    # the class's tests (assigned to it or its school), each with teaching materials for the
    # class's results (materials.for_test narrowed to the class); practice tests have no results
    tests = [t for t in db.scalars(
        session_scope.tests_visible_to(current_user)
        .where(Test.id.in_(select(TestAssignment.test_id).where(
            (TestAssignment.class_id == klass.id) | (TestAssignment.school_id == klass.school_id))))
        .order_by(Test.id)
    ) if not practice.is_practice(t)]
    return render_template(
        "manage/class.html", klass=klass, students=students, teachers=teachers, link=link,
        confirm=ConfirmForm(), cards=cards_form(klass), tests=tests,
    )  # fmt: skip


@bp.post("/classes/<int:class_id>/teachers")
@roles_required(*SCHOOL_ADMINS)
def link_teacher(class_id: int) -> Response:
    db = get_db()
    klass = _class_or_404(class_id)
    form = LinkTeacherForm()
    form.teacher.choices = _teacher_choices(db, klass)
    if not form.validate_on_submit():
        abort(400)
    with unit_of_work(db):
        db.add(ClassTeacher(class_id=class_id, user_id=form.teacher.data))
    flash(_("The teacher is linked to the class."), "info")
    return redirect(url_for("manage.class_page", class_id=class_id))


@bp.post("/classes/<int:class_id>/teachers/<int:user_id>/remove")
@roles_required(*SCHOOL_ADMINS)
def unlink_teacher(class_id: int, user_id: int) -> Response:
    db = get_db()
    _class_or_404(class_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with unit_of_work(db):
        link = db.get(ClassTeacher, (class_id, user_id))
        if link is None:
            abort(404)
        db.delete(link)
    flash(_("The teacher is no longer linked to the class."), "info")
    return redirect(url_for("manage.class_page", class_id=class_id))


@bp.route("/students/<int:student_id>/forget", methods=["GET", "POST"])
@roles_required("admin")
def forget(student_id: int) -> Response | str:
    db = get_db()
    student = db.scalars(
        scope.students_visible_to(current_user).where(Student.id == student_id)
    ).first()
    if student is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        class_id = student.class_id
        with unit_of_work(db):
            key = forget_student(db, student.key)
            audit.record(db, current_user, "student.forget", f"student:{key}")
        flash(_("The student's personal data are removed; their answers stay under %(key)s.",
                key=key), "info")  # fmt: skip
        if class_id is not None:
            return redirect(url_for("manage.class_page", class_id=class_id))
        return redirect(url_for("manage.index"))
    return render_template("manage/forget.html", student=student, form=form)

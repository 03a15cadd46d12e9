"""Administrators manage accounts (blueprint ``admin``, /admin): list and create them, change a
user's role, name, city and school, disable and re-enable them (a disabled user's signed-in
browsers are signed out at once) and set a new password, as ``itembank user edit|disable|enable|
password`` does.  Every change is a CSRF-protected POST and goes to the audit log; an administrator
cannot disable or demote their own account (nobody would be left to undo it)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from itembank.accounts import audit
from itembank.accounts.models import ROLES, User
from itembank.accounts.users import (
    MIN_PASSWORD,
    UserError,
    create_user,
    edit_user,
    set_active,
    set_password,
)
from itembank.db import unit_of_work
from itembank.orgs.models import City, School

from ..database import get_db
from ..roles import roles_required
from . import labels

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


@bp.context_processor
def _labels() -> dict[str, object]:
    return {"L": labels}


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=2, max=120)])
    display_name = StringField(_l("Name shown in the app"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[(r, labels.ROLES[r]) for r in ROLES], default="teacher")
    city = StringField(_l("City code (optional)"), validators=[Optional(), Length(max=64)])
    school = StringField(_l("School code (optional)"), validators=[Optional(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)])
    confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


def password_message(reason: str | None) -> str:
    """Why a password is refused, in the page's language (itembank.accounts.passwords)."""
    return {
        "repeated": _("The password repeats one character or a short pattern; choose one that is harder to guess."),
        "sequence": _("The password is a run of keys or letters such as 1234567890 or abcdefghij; choose another."),
        "common": _("The password is on the list of common passwords; choose one that is harder to guess."),
        "username": _("The password contains the username; choose another."),
    }.get(reason or "", _("The password is too short."))


@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users() -> Response | str:
    db = get_db()
    form = UserForm()
    status = 200
    if form.validate_on_submit():
        try:
            with unit_of_work(db):
                create_user(db, form.username.data or "", form.role.data or "", form.password.data or "",
                            display_name=form.display_name.data, city=form.city.data or None,
                            school=form.school.data or None)
                audit.record(db, current_user, "user.create", f"user:{form.username.data}",
                             {"role": form.role.data})
        except UserError as exc:
            field = getattr(form, exc.field, None)
            message = {"username": _("This username is taken or not allowed (letters, digits, . _ @ -)."),
                       "city": _("There is no city with this code."),
                       "school": _("There is no school with this code (in this city)."),
                       "password": password_message(exc.reason)}.get(exc.field, exc.message)
            if field is not None:
                field.errors = [*field.errors, message]
            status = 422
        else:
            flash(_("The user %(name)s was created.", name=form.username.data), "info")
            return redirect(url_for("admin.users"))
    elif form.errors:
        status = 422
    accounts = db.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", form=form, accounts=accounts, L=labels), status


class EditUserForm(FlaskForm):
    display_name = StringField(_l("Name shown in the app"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r, labels.ROLES[r]) for r in ROLES])
    city = StringField(_l("City code (optional)"), validators=[Optional(), Length(max=64)])
    school = StringField(_l("School code (optional)"), validators=[Optional(), Length(max=64)])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)])
    confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


class ActiveForm(FlaskForm):
    """Disable or enable: only the CSRF token (the URL says which)."""


def _account(user_id: int) -> User:
    user = get_db().get(User, user_id)
    if user is None:
        abort(404)
    return user


def _filled(account: User, edit: EditUserForm) -> EditUserForm:
    db = get_db()
    edit.display_name.data = account.display_name
    edit.role.data = account.role
    edit.city.data = db.scalar(select(City.code).where(City.id == account.city_id)) or ""
    edit.school.data = db.scalar(select(School.code).where(School.id == account.school_id)) or ""
    return edit


def _page(user: User, edit: EditUserForm, password: NewPasswordForm, status: int) -> tuple[str, int]:
    return render_template("admin/user.html", account=user, edit=edit, password=password,
                           active=ActiveForm(), L=labels), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def user(user_id: int) -> WerkzeugResponse | tuple[str, int]:
    """One account: its role, name, city and school (POST saves them)."""
    db = get_db()
    account = _account(user_id)
    edit = EditUserForm(prefix="edit")
    password = NewPasswordForm(prefix="pw")
    if not edit.is_submitted():
        return _page(account, _filled(account, edit), password, 200)
    if not edit.validate_on_submit():
        return _page(account, edit, password, 422)
    if account.id == current_user.id and edit.role.data != "admin":
        edit.role.errors = [*edit.role.errors, _("You cannot take the administrator role from your own account.")]
        return _page(account, edit, password, 422)
    username = account.username
    try:
        with unit_of_work(db):
            before = {"role": account.role, "city_id": account.city_id, "school_id": account.school_id}
            changed = edit_user(db, username, role=edit.role.data, city=(edit.city.data or "").strip(),
                                school=(edit.school.data or "").strip(),
                                display_name=edit.display_name.data or "")
            audit.record(db, current_user, "user.edit", f"user:{username}",
                         {"before": before, "after": {"role": changed.role, "city_id": changed.city_id,
                                                      "school_id": changed.school_id}})
    except UserError as exc:
        message = {"city": _("There is no city with this code."),
                   "school": _("There is no school with this code (in this city)."),
                   "role": _("Choose one of the roles.")}.get(exc.field, exc.message)
        field = getattr(edit, exc.field, None)
        if field is not None:
            field.errors = [*field.errors, message]
        return _page(_account(user_id), edit, password, 422)
    flash(_("The user %(name)s was saved.", name=username), "info")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/password")
@roles_required("admin")
def user_password(user_id: int) -> WerkzeugResponse | tuple[str, int]:
    """A new password; the user's signed-in browsers are signed out."""
    db = get_db()
    account = _account(user_id)
    edit = _filled(account, EditUserForm(prefix="edit", formdata=None))
    password = NewPasswordForm(prefix="pw")
    if not password.validate_on_submit():
        return _page(account, edit, password, 422)
    username = account.username
    try:
        with unit_of_work(db):
            set_password(db, username, password.password.data or "")
            audit.record(db, current_user, "user.password", f"user:{username}")
    except UserError as exc:
        password.password.errors = [*password.password.errors, password_message(exc.reason)]
        return _page(_account(user_id), edit, password, 422)
    flash(_("The password of %(name)s was changed; they are signed out everywhere.", name=username), "info")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.post("/users/<int:user_id>/<any(disable, enable):change>")
@roles_required("admin")
def user_active(user_id: int, change: str) -> WerkzeugResponse:
    """Disable (signed out at once) or enable an account."""
    db = get_db()
    account = _account(user_id)
    if not ActiveForm().validate_on_submit():
        abort(400)
    if change == "disable" and account.id == current_user.id:
        flash(_("You cannot disable your own account."), "error")
        return redirect(url_for("admin.user", user_id=user_id))
    username = account.username
    with unit_of_work(db):
        set_active(db, username, change == "enable")
        audit.record(db, current_user, f"user.{change}", f"user:{username}")
    if change == "disable":
        flash(_("The user %(name)s is disabled and signed out everywhere.", name=username), "info")
    else:
        flash(_("The user %(name)s can sign in again.", name=username), "info")
    return redirect(url_for("admin.user", user_id=user_id))

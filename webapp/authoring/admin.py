"""Administrators create accounts and see who has which role (blueprint ``admin``, /admin)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from itembank.accounts import audit
from itembank.accounts.models import ROLES, User
from itembank.accounts.users import MIN_PASSWORD, UserError, create_user
from itembank.db import unit_of_work

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

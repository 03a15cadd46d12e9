"""Logging in and out (Flask-Login, werkzeug password hashes, CSRF on both forms).

Each sign-in is a row of ``login_sessions`` whose id the signed cookie carries: logging out deletes
the row, so a copied cookie stops working at once on every worker, and disabling a user deletes
all of theirs (:func:`itembank.accounts.users.set_active`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from itembank.accounts.models import LoginSession, User
from itembank.db import unit_of_work

from . import security
from .database import get_db
from .extensions import login_manager
from .i18n import safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")

# Checked against when the user does not exist, so that both cases take the same time.
_DUMMY_HASH = generate_password_hash("not a password")


@dataclass
class LoginUser(UserMixin):
    """The logged-in user as Flask-Login sees it (a plain copy, not an ORM object)."""

    id: int
    username: str
    role: str
    display_name: str | None
    school_id: int | None
    city_id: int | None

    def get_id(self) -> str:
        return str(self.id)

    @classmethod
    def of(cls, user: User) -> LoginUser:
        return cls(
            user.id, user.username, user.role, user.display_name, user.school_id, user.city_id
        )


LOGIN_SESSION = "login_session"  # the signed-cookie entry: the id of the login_sessions row


def start_login_session(db: Session, user_id: int) -> str:
    """A new server-side login session of ``user_id`` (its own transaction); returns its id."""
    sid = secrets.token_urlsafe(32)
    with unit_of_work(db):
        db.add(LoginSession(id=sid, user_id=user_id))
    return sid


@login_manager.user_loader
def load_user(user_id: str) -> LoginUser | None:
    if not user_id.isdigit():
        return None
    sid = session.get(LOGIN_SESSION)
    if not isinstance(sid, str):
        return None  # a cookie from before sign-ins were kept on the server, or forged
    db = get_db()
    row = db.get(LoginSession, sid)
    if row is None or row.user_id != int(user_id):
        return None  # logged out (or the user was disabled): the cookie no longer counts
    user = db.get(User, int(user_id))
    return LoginUser.of(user) if user is not None and user.active else None


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=120)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


# Where each role starts after signing in: the first of its pages that this app has.
_HOMES = {
    "reviewer": ("author.index",),
    "translator": ("author.index",),
    "researcher": ("research.index", "teach.index"),
    "school_admin": ("manage.index", "teach.index"),
    "student": ("deliver.join",),
}


def home_endpoint(role: str) -> str:
    for endpoint in _HOMES.get(role, ()):
        if endpoint in current_app.view_functions:
            return endpoint
    return "teach.index"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    form = LoginForm()
    if form.validate_on_submit():
        db = get_db()
        username, address = form.username.data, request.remote_addr
        if security.login_locked(db, username, address):  # shared by all workers (database)
            flash(security.locked_message(), "error")
            return render_template("auth/login.html", form=form), 429  # type: ignore[return-value]
        user = db.scalars(select(User).where(User.username == form.username.data.strip())).first()
        ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, form.password.data)
        success = user is not None and ok and user.active
        security.note_login(db, username, address, success)
        if user is not None and success:
            session[LOGIN_SESSION] = start_login_session(db, user.id)
            login_user(LoginUser.of(user))
            return redirect(safe_next(request.args.get("next"), url_for(home_endpoint(user.role))))
        flash(_("The username or password is not right."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    sid = session.pop(LOGIN_SESSION, None)
    if isinstance(sid, str):
        db = get_db()
        with unit_of_work(db):
            db.execute(delete(LoginSession).where(LoginSession.id == sid))
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))

"""Accounts of the people who log in: creating them with a role and a scope, and their password
hashes (werkzeug's salted scrypt/pbkdf2, the same that :mod:`webapp.auth` checks at sign-in)."""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from itembank.errors import ItembankError
from itembank.orgs.models import City, School

from .models import ROLES, LoginSession, User
from .passwords import MESSAGES, password_problem
from .passwords import MIN_PASSWORD as MIN_PASSWORD  # the admin form's first check

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,119}$")


class UserError(ItembankError):
    """A user cannot be created as asked; the message says why and what to do."""

    def __init__(self, field: str, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.reason = reason  # for a password: the rule it breaks (passwords.MESSAGES)


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def check_password_strength(password: str, username: str | None = None) -> None:
    """:class:`UserError` (field ``password``, ``reason`` the rule) for a weak password."""
    reason = password_problem(password, username)
    if reason is not None:
        raise UserError("password", MESSAGES[reason], reason)


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str,
    *,
    display_name: str | None = None,
    city: str | None = None,
    school: str | None = None,
) -> User:
    """Add a user in the caller's transaction.  ``city`` / ``school`` are codes that narrow what
    the user sees (a school code needs its city, or must be unique among cities)."""
    username = username.strip()
    if not USERNAME.match(username):
        raise UserError("username", "a username has 2-120 letters, digits or . _ @ - and starts "
                                    "with a letter or digit")
    if role not in ROLES:
        raise UserError("role", f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    check_password_strength(password, username)
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise UserError("username", f"the username {username!r} is taken; choose another")
    city_row = school_row = None
    if city:
        city_row = session.scalars(select(City).where(City.code == city)).first()
        if city_row is None:
            raise UserError("city", f"no city with code {city!r}; import the roster first")
    if school:
        query = select(School).where(School.code == school)
        if city_row is not None:
            query = query.where(School.city_id == city_row.id)
        schools = session.scalars(query).all()
        if not schools:
            raise UserError("school", f"no school with code {school!r}"
                                      f"{' in city ' + repr(city) if city else ''}")
        if len(schools) > 1:
            raise UserError("school", f"school code {school!r} is used in several cities; give --city")
        school_row = schools[0]
        city_row = city_row or school_row.city
    user = User(
        username=username, role=role, password_hash=hash_password(password),
        display_name=(display_name or "").strip() or None,
        city_id=city_row.id if city_row else None, school_id=school_row.id if school_row else None,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None:
        raise UserError("username", f"there is no user {username!r}")
    return user


def edit_user(
    session: Session,
    username: str,
    *,
    role: str | None = None,
    city: str | None = None,
    school: str | None = None,
    display_name: str | None = None,
) -> User:
    """Change a user's role, scope (city and school codes; "" clears) or name, in the caller's
    transaction."""
    user = _user(session, username)
    if role is not None:
        if role not in ROLES:
            raise UserError("role", f"unknown role {role!r}; use one of {', '.join(ROLES)}")
        user.role = role
    if city is not None:
        if city == "":
            user.city_id = None
        else:
            row = session.scalars(select(City).where(City.code == city)).first()
            if row is None:
                raise UserError("city", f"no city with code {city!r}")
            user.city_id = row.id
    if school is not None:
        if school == "":
            user.school_id = None
        else:
            query = select(School).where(School.code == school)
            if user.city_id is not None:
                query = query.where(School.city_id == user.city_id)
            schools = session.scalars(query).all()
            if len(schools) != 1:
                raise UserError("school", f"no single school with code {school!r}; give --city")
            user.school_id = schools[0].id
            user.city_id = schools[0].city_id
    if display_name is not None:
        user.display_name = display_name.strip() or None
    session.flush()
    return user


def set_active(session: Session, username: str, active: bool) -> User:
    """Disable (every signed-in browser of the user is signed out at once) or enable a user."""
    user = _user(session, username)
    user.active = active
    if not active:
        end_login_sessions(session, user.id)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> User:
    """A new password; the user's signed-in browsers are signed out."""
    user = _user(session, username)
    check_password_strength(password, username)
    user.password_hash = hash_password(password)
    end_login_sessions(session, user.id)
    session.flush()
    return user


def end_login_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))

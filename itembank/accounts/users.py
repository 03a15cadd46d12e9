"""Accounts of the people who log in: creating them with a role and a scope, and their password
hashes (werkzeug's salted scrypt/pbkdf2, the same that :mod:`webapp.auth` checks at sign-in)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from itembank.errors import ItembankError
from itembank.orgs.models import City, School

from .models import ROLES, User

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,119}$")
MIN_PASSWORD = 10


class UserError(ItembankError):
    """A user cannot be created as asked; the message says why and what to do."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError("password", f"the password needs at least {MIN_PASSWORD} characters")


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
    check_password_strength(password)
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

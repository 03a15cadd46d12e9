"""Fixtures of the security tests: the web app of tests/webapp (demo bank and test), one user
per role, and clients logged in as each role or holding a student's test session."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from itembank.accounts.models import ROLES
from itembank.accounts.users import create_user
from tests.webapp.conftest import app, client  # noqa: F401  (fixtures)
from webapp.database import get_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def users(app: Flask) -> dict[str, int]:  # noqa: F811
    """username == role; the same password for all."""
    with app.app_context():
        db = get_db()
        with db.begin():
            made = {role: create_user(db, role, role, PASSWORD) for role in ROLES}
        return {role: user.id for role, user in made.items()}


def login_as(app: Flask, user_id: int | None) -> FlaskClient:  # noqa: F811
    from webapp.auth import LOGIN_SESSION, start_login_session

    c = app.test_client()
    if user_id is not None:
        with app.app_context():
            sid = start_login_session(get_db(), user_id)
        with c.session_transaction() as sess:
            sess["_user_id"] = str(user_id)
            sess["_fresh"] = True
            sess[LOGIN_SESSION] = sid
    return c


def start_api_session(c: FlaskClient, student: str) -> dict[str, Any]:
    reply = c.post("/api/v1/sessions", json={
        "test": "demo-cat", "access_code": "DEMO", "student": student, "language": "en"})
    assert reply.status_code == 201
    return reply.get_json()


def student_client(app: Flask, student: str = "stu-1") -> tuple[FlaskClient, dict[str, Any]]:  # noqa: F811
    """A browser that joined the demo test as ``student`` (its cookie holds the session)."""
    from webapp.deliver import KEY

    c = app.test_client()
    started = start_api_session(c, student)
    with c.session_transaction() as sess:
        sess[KEY] = {"id": started["session"], "token": started["token"], "intro": True}
    return c, started

"""Teachers log in and follow their tests' sessions live."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from itembank.accounts.models import User

from .conftest import csrf_token


def add_user(app: Flask, username: str, role: str) -> None:
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        db.add(
            User(username=username, password_hash=generate_password_hash("pw-123456"), role=role)
        )


def login(client: FlaskClient, username: str, password: str = "pw-123456"):  # type: ignore[no-untyped-def]
    page = client.get("/auth/login").get_data(as_text=True)
    return client.post(
        "/auth/login",
        data={"csrf_token": csrf_token(page), "username": username, "password": password},
    )


def test_teachers_see_sessions_and_results(app: Flask, client: FlaskClient) -> None:
    add_user(app, "teacher1", "teacher")
    assert client.get("/teach/").status_code == 302  # must log in
    assert login(client, "teacher1", "wrong").status_code == 200
    reply = login(client, "teacher1")
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/teach/")
    student = app.test_client()
    started = student.post(
        "/api/v1/sessions",
        json={"test": "demo-cat", "access_code": "DEMO", "student": "T-42", "language": "en"},
    ).get_json()
    index = client.get("/teach/").get_data(as_text=True)
    assert "demo-cat" in index
    page = client.get("/teach/tests/demo-cat").get_data(as_text=True)
    assert "T-42" in page and 'http-equiv="refresh"' in page
    assert "status-started" in page
    detail = client.get(f"/teach/tests/demo-cat/sessions/{started['session']}")
    assert detail.status_code == 200
    page = client.get("/teach/").get_data(as_text=True)
    logout = client.post("/auth/logout", data={"csrf_token": csrf_token(page)})
    assert logout.status_code == 302
    assert client.get("/teach/").status_code == 302


def test_students_cannot_see_the_teacher_pages(app: Flask, client: FlaskClient) -> None:
    add_user(app, "pupil", "student")
    login(client, "pupil")
    assert client.get("/teach/").status_code == 403

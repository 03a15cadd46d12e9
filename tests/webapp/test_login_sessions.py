"""Sign-ins live on the server: after logout a copied cookie gets the login page, a disabled
user's browsers are signed out at once, ``itembank user edit|disable|enable|password`` change
accounts (audited), and production refuses a short secret key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from itembank.accounts.models import AuditEntry, LoginSession, User
from itembank.accounts.users import create_user, set_active
from itembank.cli import main
from itembank.db import make_engine, session_factory, unit_of_work
from itembank.migrate import upgrade
from webapp import create_app

from .conftest import csrf_token

PASSWORD = "a long enough password"


@pytest.fixture
def teacher(app: Flask) -> str:
    with app.extensions["itembank_sessionmaker"]() as db, db.begin():
        create_user(db, "tess", "teacher", PASSWORD)
    return "tess"


def sign_in(client: FlaskClient, username: str) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    reply = client.post("/auth/login", data={"csrf_token": csrf_token(page), "username": username,
                                             "password": PASSWORD})
    assert reply.status_code == 302


def copy_cookie(app: Flask, client: FlaskClient) -> FlaskClient:
    other = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    other.set_cookie("session", cookie.value)
    return other


def test_a_copied_cookie_stops_working_after_logout(app: Flask, client: FlaskClient,
                                                    teacher: str) -> None:
    sign_in(client, teacher)
    thief = copy_cookie(app, client)
    assert thief.get("/teach/").status_code == 200  # the copy works while signed in
    page = client.get("/teach/").get_data(as_text=True)
    assert client.post("/auth/logout", data={"csrf_token": csrf_token(page)}).status_code == 302
    reply = thief.get("/teach/")
    assert reply.status_code == 302 and "/auth/login" in reply.headers["Location"]
    with app.extensions["itembank_sessionmaker"]() as db:
        assert db.scalars(select(LoginSession)).all() == []


def test_a_disabled_user_is_signed_out_at_once(app: Flask, client: FlaskClient,
                                               teacher: str) -> None:
    sign_in(client, teacher)
    assert client.get("/teach/").status_code == 200
    with app.extensions["itembank_sessionmaker"]() as db, unit_of_work(db):
        set_active(db, teacher, False)
    assert client.get("/teach/").status_code == 302
    with app.extensions["itembank_sessionmaker"]() as db, unit_of_work(db):
        set_active(db, teacher, True)
    assert client.get("/teach/").status_code == 302  # enabling does not revive the old cookie
    sign_in(client, teacher)
    assert client.get("/teach/").status_code == 200


def test_production_needs_a_secret_of_32_random_bytes(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    monkeypatch.setenv("ITEMBANK_ENV", "production")
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", f"sqlite:///{tmp_path / 'p.sqlite3'}")
    for weak in ("x", "short-but-not-empty", "a" * 40, "ab" * 20):
        monkeypatch.setenv("ITEMBANK_SECRET_KEY", weak)
        with pytest.raises(RuntimeError, match="32 random bytes"):
            create_app()
    monkeypatch.setenv("ITEMBANK_SECRET_KEY", "mK3q9Zt7Lw2Rx8Vb5Nc4Hd6Jf1Gs0Pa-yEuTiO_")
    assert create_app().config["ITEMBANK_PRODUCTION"] is True


def test_user_edit_disable_enable_password_cli(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'bank.sqlite3'}"
    upgrade(make_engine(url))
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", url)
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = runner.invoke(main, list(args), input=stdin)
        return result.exit_code, result.output

    assert run("user", "create", "ann", "--role", "teacher", "--password-stdin",
               stdin=PASSWORD + "\n")[0] == 0
    assert run("user", "edit", "ann", "--role", "researcher", "--name", "Ann")[0] == 0
    code, out = run("user", "edit", "ann", "--city", "nowhere")
    assert code == 1 and "nowhere" in out
    code, out = run("user", "edit", "nobody", "--role", "admin")
    assert code == 1 and "nobody" in out
    assert run("user", "disable", "ann")[0] == 0
    factory = session_factory(make_engine(url))
    with factory() as db:
        ann = db.scalars(select(User).where(User.username == "ann")).one()
        assert ann.role == "researcher" and ann.display_name == "Ann" and not ann.active
    assert run("user", "enable", "ann")[0] == 0
    code, out = run("user", "password", "ann", "--password-stdin", stdin="short\n")
    assert code == 1 and "password" in out
    assert run("user", "password", "ann", "--password-stdin", stdin="another long password\n")[0] == 0
    with factory() as db:
        ann = db.scalars(select(User).where(User.username == "ann")).one()
        assert ann.active
        actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["user.edit", "user.disable", "user.enable", "user.password"]

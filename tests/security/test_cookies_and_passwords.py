"""Cookies carry Secure in production, whichever view sets them; weak passwords are refused at
every way a password is set (the admin page, the command line, set_password) with a message that
says why, in the page's language."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from itembank.accounts.models import User
from itembank.accounts.users import UserError, create_user, set_password
from webapp import create_app

from ..webapp.conftest import app, csrf_token  # noqa: F401  (fixtures)


@pytest.fixture
def production(engine: Engine, app: Flask) -> Flask:  # noqa: F811  (app: the demo content)
    return create_app({"TESTING": True, "ENGINE": engine, "SECRET_KEY": "kq3V9x-2LmZt8RwYp4Nc7HsBd1FgJe6U", "ITEMBANK_PRODUCTION": True})


def _cookies(reply) -> list[str]:  # type: ignore[no-untyped-def]
    return reply.headers.getlist("Set-Cookie")


def test_every_cookie_is_secure_in_production(production: Flask) -> None:
    client = production.test_client()
    replies = [client.get("/language/en?next=/"), client.get("/auth/login")]
    join = client.get("/").get_data(as_text=True)
    replies.append(client.post("/", data={"csrf_token": csrf_token(join), "access_code": "DEMO",
                                          "student": "stu-9", "test": "demo-cat"}))
    cookies = [c for r in replies for c in _cookies(r)]
    assert any(c.startswith("lang=") for c in cookies) and any(c.startswith("session=") for c in cookies)
    assert [c for c in cookies if "; secure" not in c.lower()] == []


def test_cookies_are_not_secure_in_development(app: Flask) -> None:  # noqa: F811
    """The control: the same requests without production set no Secure flag (plain http works)."""
    reply = app.test_client().get("/language/en?next=/")
    assert [c for c in _cookies(reply) if "; secure" in c.lower()] == []


WEAK = {"aaaaaaaaaaaa": "repeated", "1234567890": "common", "Password2024!": "common", "qwertyuiop": "sequence"}


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused_everywhere(app: Flask, database_url: str, password: str) -> None:  # noqa: F811
    sessions = app.extensions["itembank_sessionmaker"]
    with sessions() as db, pytest.raises(UserError) as caught, db.begin():
        create_user(db, "newbie", "teacher", password)
    assert caught.value.field == "password" and caught.value.reason == WEAK[password]
    with sessions() as db, db.begin():
        create_user(db, "ada", "admin", "correct horse battery staple")
    with sessions() as db, pytest.raises(UserError), db.begin():
        set_password(db, "ada", password)
    # the admin page, in English and in Traditional Chinese
    client = app.test_client()
    client.set_cookie("lang", "en")
    page = client.get("/auth/login").get_data(as_text=True)
    client.post("/auth/login", data={"username": "ada", "password": "correct horse battery staple",
                                     "csrf_token": csrf_token(page)})
    page = client.get("/admin/users").get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "username": "newbie", "role": "teacher", "password": password,
            "confirm": password, "password2": password}
    reply = client.post("/admin/users", data=form)
    assert reply.status_code == 422
    text = reply.get_data(as_text=True)
    assert any(word in text for word in ("repeats", "run of keys", "common passwords")), text[:3000]
    client.set_cookie("lang", "zh-TW")
    zh = client.post("/admin/users", data=form).get_data(as_text=True)
    assert any(word in zh for word in ("重複", "連續", "常見")), zh[:3000]
    # the command line
    from itembank.cli import main

    result = CliRunner().invoke(main, ["user", "create", "newbie2", "--role", "teacher", "--password-stdin"],
                                input=password + "\n", env={"ITEMBANK_DATABASE_URL": database_url})
    assert result.exit_code != 0 and "password:" in result.output
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(User).where(User.username.like("newbie%"))) == 0

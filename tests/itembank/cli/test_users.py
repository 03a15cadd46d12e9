"""``itembank user create``: the first administrator, from a prompt or standard input."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from werkzeug.security import check_password_hash

from itembank.accounts.models import User
from itembank.cli import main
from itembank.db import make_engine, session_factory
from itembank.migrate import upgrade


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'bank.sqlite3'}"
    upgrade(make_engine(url))
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", url)
    return url


def test_create_admin_from_stdin_and_prompt(database: str) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["user", "create", "ada", "--role", "admin", "--password-stdin"],
                           input="a long password\n")
    assert result.exit_code == 0, result.output
    assert "Created user ada with role admin" in result.output
    result = runner.invoke(main, ["user", "create", "tina", "--role", "teacher", "--name", "Tina"],
                           input="another password\nanother password\n")
    assert result.exit_code == 0, result.output
    with session_factory(make_engine(database))() as session:
        users = {u.username: u for u in session.scalars(select(User))}
    assert users["ada"].role == "admin" and check_password_hash(users["ada"].password_hash, "a long password")
    assert users["tina"].display_name == "Tina"


def test_errors_are_messages_not_tracebacks(database: str) -> None:
    runner = CliRunner()
    args = ["user", "create", "ada", "--role", "admin", "--password-stdin"]
    assert runner.invoke(main, args, input="a long password\n").exit_code == 0
    again = runner.invoke(main, args, input="a long password\n")
    assert again.exit_code == 1 and "username" in again.output and "Traceback" not in again.output
    short = runner.invoke(main, ["user", "create", "bob", "--role", "teacher", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    role = runner.invoke(main, ["user", "create", "bob", "--role", "wizard", "--password-stdin"], input="x\n")
    assert role.exit_code == 2
    school = runner.invoke(main, ["user", "create", "bob", "--role", "teacher", "--school", "S1", "--password-stdin"],
                           input="a long password\n")
    assert school.exit_code == 1 and "no school" in school.output

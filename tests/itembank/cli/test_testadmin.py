"""``itembank test create|list|edit|open|close|archive``: a duplicate code exits 1 naming the
test that holds it; edits after the first session are limited; every change is audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from itembank.accounts.models import AuditEntry
from itembank.cli import main
from itembank.db import make_engine, session_factory
from itembank.delivery.models import Test, TestSession
from itembank.migrate import upgrade


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'bank.sqlite3'}"
    upgrade(make_engine(url))
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", url)
    return url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_create_list_edit_close_archive(database: str) -> None:
    code, out = run("test", "create", "spring-8", "--code", "SPRING26", "--attempts", "2",
                    "--minutes", "40", "--mode", "cat", "--title", "Spring")
    assert code == 0, out
    assert "SPRING26" in out
    code, out = run("test", "create", "other", "--code", "spring26")
    assert code == 1 and "spring-8" in out  # the holder is named
    code, out = run("test", "create", "short", "--code", "ab1")
    assert code == 1 and "6 to 64" in out
    code, out = run("test", "create", "gen", "--mode", "fixed", "--items", "X-1,X-2")
    assert code == 0, out
    generated = out.split("access code ")[1].rstrip(".\n")
    assert len(generated) == 9
    code, out = run("test", "list", "--json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows["spring-8"]["attempts"] == 2 and rows["spring-8"]["minutes"] == 40
    assert rows["gen"]["mode"] == "fixed" and rows["gen"]["status"] == "open"
    code, out = run("test", "edit", "spring-8", "--stop-se", "0.3", "--max-items", "25",
                    "--unlimited")
    assert code == 0, out
    with session_factory(make_engine(database))() as db, db.begin():
        test = db.get(Test, "spring-8")
        assert test.cat_config["stopping"] == {"se": 0.3, "max_items": 25}
        assert test.max_attempts is None
        db.add(TestSession(id="s1", test_id="spring-8", student_key="A", language="en",
                           token_hash="x", seed=1))
    code, out = run("test", "edit", "spring-8", "--code", "SPRING27")
    assert code == 1 and "started" in out
    code, out = run("test", "edit", "spring-8", "--minutes", "50")
    assert code == 0, out
    assert run("test", "close", "spring-8", "--reason", "done")[0] == 0
    assert run("test", "archive", "spring-8")[0] == 0
    code, out = run("test", "create", "again", "--code", "SPRING26")  # the code is free again
    assert code == 0, out
    code, out = run("test", "open", "spring-8")
    assert code == 1 and "again" in out
    code, out = run("test", "list")
    assert "spring-8\tarchived" in out
    with session_factory(make_engine(database))() as db:
        actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["test.create", "test.create", "test.edit", "test.edit", "test.close",
                       "test.archive", "test.create"]


def test_edit_pretest_seeding(database: str) -> None:
    assert run("test", "create", "pilot", "--code", "PILOT26", "--mode", "cat")[0] == 0
    code, out = run("test", "edit", "pilot", "--pretest", "2", "--pretest-after", "3,8",
                    "--max-items", "20")
    assert code == 0, out
    with session_factory(make_engine(database))() as db:
        config = db.get_one(Test, "pilot").cat_config
    assert config["pretest"] == {"count": 2, "after": [3, 8]}
    assert config["stopping"] == {"max_items": 20}
    code, out = run("test", "edit", "pilot", "--pretest", "3")  # 2 positions for 3 units
    assert code == 1 and "pretest.after" in out
    code, out = run("test", "edit", "pilot", "--pretest-after", "x")
    assert code == 1 and "--pretest-after" in out

"""``itembank test create --mode practice``: released units only, refused with the reason
otherwise; ``itembank test list`` names the mode; a fixed form refuses pretest seeding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from itembank.authoring.workflow import Actor, release, retire
from itembank.cli import main
from itembank.db import make_engine, session_factory
from itembank.delivery.models import Test
from itembank.delivery.practice import is_practice
from itembank.migrate import upgrade
from tests.conftest import TEST_UNITS


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'bank.sqlite3'}"
    upgrade(make_engine(url))
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", url)
    assert run("import", str(TEST_UNITS))[0] == 0
    reviewer = Actor(None, "rev", "reviewer")
    with session_factory(make_engine(url))() as db, db.begin():
        retire(db, "T-01", reviewer)
        release(db, "T-01", reviewer)
    return url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_practice_tests_take_released_units_only(database: str) -> None:
    code, out = run("test", "create", "drill", "--mode", "practice", "--items", "T-01-Q1,T-02-Q1")
    assert code == 1
    assert "item 'T-02-Q1' belongs to unit 'T-02', which is approved" in out
    assert "released units only" in out and "T-01-Q1" not in out.split("T-02-Q1")[0]
    code, out = run("test", "create", "drill", "--mode", "practice", "--items", "T-01-Q1,T-01-Q4")
    assert code == 0, out
    with session_factory(make_engine(database))() as db:
        test = db.get_one(Test, "drill")
        assert is_practice(test) and test.kind == "practice" and test.items == ["T-01-Q1", "T-01-Q4"]
    code, out = run("test", "list", "--json")
    assert code == 0 and {r["id"]: r["mode"] for r in json.loads(out)} == {"drill": "practice"}


def test_fixed_forms_refuse_pretest_seeding(database: str) -> None:
    assert run("test", "create", "form", "--mode", "fixed", "--items", "T-02-Q1,T-02-Q2")[0] == 0
    code, out = run("test", "edit", "form", "--pretest", "1")
    assert code == 1 and "only adaptive tests seed pretest units" in out
    with session_factory(make_engine(database))() as db:
        assert not db.get_one(Test, "form").cat_config

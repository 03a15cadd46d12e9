"""The bank commands as a user types them: init, import, export, stats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from itembank.cli import main
from tests.conftest import TEST_UNITS


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str):
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", database_url)
    monkeypatch.setenv("ITEMBANK_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, list(args))
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        return result.output

    return run


def test_commands_before_init_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITEMBANK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("ITEMBANK_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["stats", "--json"])
    assert result.exit_code == 1
    assert "run `itembank init` first" in result.output


def test_import_export_stats(cli, tmp_path: Path) -> None:
    cli("init")
    out = cli("import", str(TEST_UNITS))
    assert "8 new units" in out
    stats = json.loads(cli("stats", "--json"))
    assert list(stats) == ["units", "items", "by_type", "by_dimension", "by_domain", "languages",
                           "open_items_with_coding_guide", "calibrated_items"]
    assert stats["units"] == 8 and stats["items"] == 32
    cli("export", str(tmp_path / "a"))
    cli("import", str(tmp_path / "a"))
    cli("export", str(tmp_path / "b"))
    for path in (tmp_path / "a").rglob("*.yaml"):
        assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes()


def test_bad_import_prints_problems_and_changes_nothing(cli, tmp_path: Path) -> None:
    cli("init")
    bank = tmp_path / "bank"
    shutil.copytree(TEST_UNITS, bank)
    (bank / "T-09.yaml").write_text("id: T-09\n", encoding="utf-8")
    out = cli("import", str(bank), code=1)
    assert f"{bank / 'T-09.yaml'}:1:1: (top level): required field 'title' is missing" in out
    assert "nothing was changed" in out
    assert json.loads(cli("stats", "--json"))["units"] == 0


def test_init_is_repeatable(cli) -> None:
    cli("init")
    assert "Schema up to date" in cli("init")

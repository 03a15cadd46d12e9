"""``itembank roster password SCHOOL:CLASS STUDENT_ID [--print CARD.pdf]``: one student's new
sign-in password, audited like the web's "new password", on both databases."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from itembank.accounts.models import AuditEntry
from itembank.cli import main
from itembank.db import make_engine, session_factory
from itembank.orgs.models import Student
from itembank.orgs.student_passwords import card_password, password_matches

from .test_roster import ROSTER


def _students(url: str) -> dict[str, tuple[str, str | None, str | None]]:
    """name → (key, password hash, printable password)."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            return {st.name or "": (st.key, st.password_hash, card_password(st))
                    for st in s.scalars(select(Student))}
    finally:
        engine.dispose()


def _audit(url: str) -> list[tuple[str, str, str]]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            return [(a.actor, a.action, a.object) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    finally:
        engine.dispose()


def test_one_student_gets_a_new_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         database_url: str) -> None:
    monkeypatch.setenv("ITEMBANK_DATABASE_URL", database_url)
    runner = CliRunner()
    roster = tmp_path / "ROSTER.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert runner.invoke(main, ["roster", "import", str(roster)]).exit_code == 0
    before = _students(database_url)
    # the id as typed with other case and spaces is the same student
    result = runner.invoke(main, ["roster", "password", "tp-001:801", " s001 "])
    assert result.exit_code == 0, result.output
    shown = re.search(r"New sign-in password of S001 \(王小明\): ([A-Z0-9]{4}-[A-Z0-9]{4})", result.output)
    assert shown, result.output
    after = _students(database_url)
    key, new_hash, printable = after["王小明"]
    assert new_hash != before["王小明"][1] and password_matches(new_hash or "", shown.group(1))
    assert not password_matches(new_hash or "", before["王小明"][2] or "")  # the old one stops working
    assert printable == shown.group(1)  # the class's cards print the new one
    for name in ("陳怡君", "林大同", "Siti Aminah"):  # nobody else's password changed
        assert after[name][1] == before[name][1], name
    assert _audit(database_url)[-1][1:] == ("student.new_password", f"student:{key}")
    assert _audit(database_url)[-1][0].startswith("cli:")
    # --print writes the student's card with the new password, and only theirs
    card = tmp_path / "card.pdf"
    result = runner.invoke(main, ["roster", "password", "taipei:tp-001:801", "S002", "--print", str(card),
                                  "--language", "en"])
    assert result.exit_code == 0, result.output
    password = re.search(r": ([A-Z0-9]{4}-[A-Z0-9]{4})", result.output)
    assert password and f"Wrote the login card to {card}" in result.output
    # without spaces: the password is letter-spaced on the card, and pdftotext puts a space into
    # some pairs of letters ("CA7S -SW3D"), as it does in the other card tests
    text = "".join(subprocess.run(["pdftotext", str(card), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())
    assert password.group(1) in text and "陳怡君" in text and "王小明" not in text
    # wrong class, wrong student, a student of another class: a message, and nothing changes
    current = _students(database_url)
    entries = len(_audit(database_url))
    for args, said in ((["tp-001:999", "S001"], "no class"), (["tp-001:801", "S003"], "no student 'S003'"),
                       (["tp-001:801", "S404"], "no student"), (["801", "S001"], "SCHOOL:CLASS")):
        result = runner.invoke(main, ["roster", "password", *args])
        assert result.exit_code == 1 and said in result.output and "Traceback" not in result.output, args
    assert _students(database_url) == current and len(_audit(database_url)) == entries

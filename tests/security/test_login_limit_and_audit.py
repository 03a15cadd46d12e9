"""The login rate limit (5 failures per username and address in 15 minutes lock the pair, counted
in the database so every worker sees them) and the audit log (who imported, exported, forgot,
approved...: one entry per change, in the change's transaction)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Engine

from itembank.accounts import audit
from itembank.accounts.models import AuditEntry, LoginAttempt
from itembank.db import Base
from webapp import create_app
from webapp.database import get_db

from .conftest import PASSWORD

TEST_UNITS = Path(__file__).resolve().parents[1] / "data" / "units"
ITEMBANK = Path(sys.executable).with_name("itembank")


def _login(c, username: str, password: str, address: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return c.post("/auth/login", data={"username": username, "password": password},
                  environ_base={"REMOTE_ADDR": address})


def test_five_failures_lock_the_login_for_every_worker(
    app: Flask, engine: Engine, users: dict[str, int]
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    c = app.test_client()
    for _ in range(5):
        assert _login(c, "teacher", "wrong password").status_code == 200
    locked = _login(c, "teacher", PASSWORD)
    assert locked.status_code == 429  # even the right password: the pair is locked
    assert "Too many failed attempts" in locked.get_data(as_text=True) or "登入失敗次數過多" in locked.get_data(as_text=True)
    # a second "worker" (another app on the same database) sees the same lock
    other = create_app({"TESTING": True, "ENGINE": engine, "SECRET_KEY": "test-secret",
                        "WTF_CSRF_ENABLED": False})
    assert _login(other.test_client(), "TEACHER ", PASSWORD).status_code == 429
    # another address, or another user, is not locked
    reply = _login(app.test_client(), "teacher", PASSWORD, address="10.0.0.2")
    assert reply.status_code == 302
    assert _login(app.test_client(), "admin", PASSWORD).status_code == 302


def test_behind_a_trusted_proxy_the_lock_counts_the_forwarded_address(
    engine: Engine, app: Flask, users: dict[str, int]
) -> None:
    proxied = create_app({"TESTING": True, "ENGINE": engine, "SECRET_KEY": "test-secret",
                          "WTF_CSRF_ENABLED": False, "ITEMBANK_TRUSTED_PROXIES": 1})
    c = proxied.test_client()

    def attempt(forwarded: str, password: str = "wrong"):  # type: ignore[no-untyped-def]
        return c.post("/auth/login", data={"username": "teacher", "password": password},
                      headers={"X-Forwarded-For": forwarded},
                      environ_base={"REMOTE_ADDR": "10.9.9.9"})  # the proxy

    for _ in range(5):
        attempt("203.0.113.7")
    assert attempt("203.0.113.7", PASSWORD).status_code == 429
    assert attempt("198.51.100.4", PASSWORD).status_code == 302  # another student's address
    # without the setting the header is ignored: the app sees only the proxy's address
    app.config["WTF_CSRF_ENABLED"] = False
    reply = app.test_client().post("/auth/login", data={"username": "teacher", "password": "x"},
                                   headers={"X-Forwarded-For": "203.0.113.7"})
    assert reply.status_code == 200
    with app.app_context():
        addresses = {r.address for r in get_db().scalars(select(LoginAttempt))}
        assert "203.0.113.7" in addresses and "127.0.0.1" in addresses


def test_a_success_clears_the_failures(app: Flask, users: dict[str, int]) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    c = app.test_client()
    for _ in range(4):
        _login(c, "reviewer", "nope")
    assert _login(c, "reviewer", PASSWORD).status_code == 302
    for _ in range(4):
        _login(app.test_client(), "reviewer", "nope")
    assert _login(app.test_client(), "reviewer", PASSWORD).status_code == 302
    with app.app_context():
        rows = get_db().scalars(select(LoginAttempt).where(LoginAttempt.username == "reviewer")).all()
        assert [r.succeeded for r in rows] == [True]  # the failures went with the success


def test_audit_record_is_part_of_the_callers_transaction(app: Flask) -> None:
    with app.app_context():
        db = get_db()
        with db.begin():
            audit.record(db, "someone", "unit.approve", "unit:GC-T01", {"version": 2})
        try:
            with db.begin():
                audit.record(db, "someone", "unit.publish", "unit:GC-T01")
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
        entries = audit.entries(db, obj="unit:GC-T01")
        assert [(e.actor, e.action, e.detail) for e in entries] == [
            ("someone", "unit.approve", {"version": 2})]


def test_record_now_ends_a_read_and_commits_on_its_own(app: Flask) -> None:
    with app.app_context():
        db = get_db()
        db.scalars(select(AuditEntry)).all()  # a read-only transaction is open, as in a request
        audit.record_now(db, "reader", "dataset.export", "dataset:1", {"school": "s1"})
        assert not db.in_transaction()
        assert audit.entries(db)[0].detail == {"school": "s1"}


def test_the_cli_and_the_manage_pages_write_the_audit_log(
    app: Flask, tmp_path: Path, database_url: str, users: dict[str, int]
) -> None:
    env = {"ITEMBANK_DATABASE_URL": database_url, "ITEMBANK_INSTANCE_PATH": str(tmp_path),
           "PATH": str(ITEMBANK.parent)}
    roster = tmp_path / "roster.csv"
    roster.write_text("city,school,class,student_id,name,grade,language,gender\n"
                      "tpe,s1,7A,A1,Ann,7,zh-TW,female\ntpe,s1,7A,A2,Ben,7,en,male\n", "utf-8")
    for args in (["import", str(TEST_UNITS)], ["export", str(tmp_path / "out")],
                 ["roster", "import", str(roster)], ["roster", "forget", "s1:A1"]):
        done = subprocess.run([str(ITEMBANK), *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    with app.app_context():
        db = get_db()
        rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [r.action for r in rows] == ["bank.import", "bank.export", "roster.import",
                                            "student.forget"]
        assert all(r.actor.startswith("cli:") for r in rows)
        assert rows[2].detail["students"] == 2 and re.match(r"student:s-", rows[3].object)
    # the manage page's forget is recorded with the logged-in user
    from itembank.orgs.models import Student

    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        student = get_db().scalars(select(Student).where(Student.student_id == "A2")).one()
    from .conftest import login_as

    c = login_as(app, users["admin"])
    reply = c.post(f"/manage/students/{student.id}/forget", data={"confirm": "y"})
    assert reply.status_code in (200, 302)
    with app.app_context():
        last = audit.entries(get_db(), limit=1)[0]
        assert (last.actor, last.action, last.actor_id) == ("admin", "student.forget", users["admin"])


def test_the_migration_creates_the_security_tables_as_modelled(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = [d for d in diffs if "login_attempts" in repr(d) or "audit_log" in repr(d)]
    assert mine == []

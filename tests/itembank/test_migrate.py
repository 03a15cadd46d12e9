"""Alembic upgrades every released revision to the head, and a database made by the previous
package layout (the flat ``itembank/`` of 2026-11-25, before the contexts) opens unchanged: the
models of the new layout describe exactly the tables its migrations made."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from itembank import all_models  # noqa: F401  (every table on Base.metadata)
from itembank.accounts.models import User
from itembank.bank.models import Unit
from itembank.db import Base, make_engine, session_factory
from itembank.migrate import alembic_config, current_revision, upgrade
from itembank.orgs.models import Student

OLD_LAYOUT_DB = Path(__file__).resolve().parents[1] / "data" / "databases" / "layout-2026-11-25.sqlite3"


def released_revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return [d for d in compare_metadata(context, Base.metadata)]


def test_the_revisions_form_one_line() -> None:
    revisions = released_revisions()
    assert revisions[0] == "0001" and len(revisions) == len(set(revisions)) >= 6


@pytest.mark.parametrize("revision", released_revisions())
def test_upgrade_from_every_released_revision(revision: str, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        upgrade(engine, revision)
        assert current_revision(engine) == revision
        upgrade(engine)
        assert current_revision(engine) == released_revisions()[-1]
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def test_a_database_made_by_the_previous_layout_opens_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    shutil.copy(OLD_LAYOUT_DB, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        assert schema_differences(engine) == []
        with session_factory(engine)() as session:
            assert session.scalar(select(func.count(Unit.id))) == 8
            assert session.scalars(select(User.username)).all() == ["fixture-admin"]
            assert session.scalars(select(Student.student_id)).all() == ["S001"]
    finally:
        engine.dispose()


def test_the_comparison_sees_a_missing_table(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'partial.sqlite3'}")
    try:
        upgrade(engine, "0001")
        assert schema_differences(engine) != []
    finally:
        engine.dispose()

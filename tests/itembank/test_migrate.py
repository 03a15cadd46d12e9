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


def test_0015_turns_practice_markers_into_the_practice_kind_and_back(tmp_path: Path) -> None:
    """A practice test stored before 0015 (a fixed test marked in item_filter) becomes kind
    'practice', and a release stored as a 'retire' event from retired to released becomes a
    'release' event; other tests and events are left as they were; the downgrade restores both."""
    from alembic import command
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        upgrade(engine, "0014")
        with engine.begin() as c:
            for test_id, marker in (("prac", '{"practice": true}'), ("form", None)):
                c.execute(text("INSERT INTO tests (id, title, kind, cat_config, item_filter, items, access_code, "
                               "show_score, created_at, status) VALUES (:id, '{}', 'fixed', '{}', :f, '[\"X-1\"]', "
                               ":id, 1, '2026-12-01', 'open')"), {"id": test_id, "f": marker})
            c.execute(text("INSERT INTO units (id, source_path, created_at) VALUES ('U-1', 'U-1.yaml', '2026-12-01')"))
            c.execute(text("INSERT INTO unit_versions (id, unit_id, version, status, content, content_hash, media, "
                           "dimension, content_domain, title_en, title_zh, created_at) VALUES (1, 'U-1', 1, "
                           "'released', '{}', 'h', '{}', 'd', 'c', 't', 't', '2026-12-01')"))
            for n, (src, dst) in enumerate((("approved", "retired"), ("retired", "released")), 1):
                c.execute(text("INSERT INTO workflow_events (id, unit_id, unit_version_id, action, username, "
                               "from_status, to_status, created_at) VALUES (:n, 'U-1', 1, 'retire', 'rev', :s, :d, "
                               "'2026-12-01')"),
                          {"n": n, "s": src, "d": dst})
        upgrade(engine)
        with engine.connect() as c:
            kinds = dict(c.execute(text("SELECT id, kind FROM tests")).all())
            actions = [r[0] for r in c.execute(text("SELECT action FROM workflow_events ORDER BY id"))]
            marker = c.execute(text("SELECT item_filter FROM tests WHERE id = 'prac'")).scalar()
        assert kinds == {"prac": "practice", "form": "fixed"} and marker is None
        assert actions == ["retire", "release"]
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0014")
        with engine.connect() as c:
            kinds = dict(c.execute(text("SELECT id, kind FROM tests")).all())
            actions = [r[0] for r in c.execute(text("SELECT action FROM workflow_events ORDER BY id"))]
        assert kinds == {"prac": "fixed", "form": "fixed"} and actions == ["retire", "retire"]
    finally:
        engine.dispose()

"""practice tests and the release step in their own words

Written by hand.  A practice test (fixed form of released units whose end page shows the keys) was
stored as a fixed test with ``item_filter = {"practice": true}``, and a unit's release as a
"retire" event from retired to released, because the CHECK constraints knew neither; a researcher
reading ``tests.kind`` in SQL would have taken practice sessions, which must never be research
data, for a fixed test's.  Now ``tests.kind`` may be 'practice' and ``workflow_events.action``
'release'; existing rows are brought along (practice markers become the kind, release events the
action).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

OLD_ACTIONS = "'create', 'edit', 'submit', 'approve', 'return', 'retire', 'comment', 'verify', 'import'"
NEW_ACTIONS = "'create', 'edit', 'submit', 'approve', 'return', 'retire', 'release', 'comment', 'verify', 'import'"


def _practice_ids(conn: sa.engine.Connection) -> list[str]:
    tests = sa.table("tests", sa.column("id", sa.String), sa.column("kind", sa.String),
                     sa.column("item_filter", sa.JSON))
    rows = conn.execute(sa.select(tests.c.id, tests.c.item_filter).where(tests.c.kind == "fixed"))
    return [test_id for test_id, item_filter in rows if isinstance(item_filter, dict) and item_filter.get("practice")]


def upgrade() -> None:
    conn = op.get_bind()
    practice = _practice_ids(conn)
    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_tests_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_tests_kind"), "kind IN ('adaptive', 'fixed', 'practice')")
    with op.batch_alter_table("workflow_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_workflow_events_action"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_workflow_events_action"), f"action IN ({NEW_ACTIONS})")
    tests = sa.table("tests", sa.column("id", sa.String), sa.column("kind", sa.String),
                     sa.column("item_filter", sa.JSON))
    if practice:
        conn.execute(sa.update(tests).where(tests.c.id.in_(practice)).values(kind="practice", item_filter=sa.null()))
    events = sa.table("workflow_events", sa.column("action", sa.String), sa.column("from_status", sa.String),
                      sa.column("to_status", sa.String))
    conn.execute(sa.update(events).where(events.c.action == "retire", events.c.from_status == "retired",
                                         events.c.to_status == "released").values(action="release"))


def downgrade() -> None:
    conn = op.get_bind()
    tests = sa.table("tests", sa.column("kind", sa.String), sa.column("item_filter", sa.JSON))
    conn.execute(sa.update(tests).where(tests.c.kind == "practice").values(kind="fixed", item_filter={"practice": True}))
    events = sa.table("workflow_events", sa.column("action", sa.String))
    conn.execute(sa.update(events).where(events.c.action == "release").values(action="retire"))
    with op.batch_alter_table("workflow_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_workflow_events_action"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_workflow_events_action"), f"action IN ({OLD_ACTIONS})")
    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_tests_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_tests_kind"), "kind IN ('adaptive', 'fixed')")

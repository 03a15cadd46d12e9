"""a bank revision counted by triggers

Written by hand.  Delivery keys its per-process cache of built CAT banks by a fingerprint of the
bank's stored state; it was nine aggregates over ``unit_versions``, ``item_parameters`` and
``item_versions``, computed on every answer, and grew with every calibration stored.  Now one row,
``bank_revision``, whose ``revision`` database triggers raise on every insert, update or delete of
those three tables, whatever code (or SQL console) writes them: delivery reads it by primary key.
The triggers commit with the writer's transaction, so a reader sees a new revision only together
with the rows that caused it.

PostgreSQL counts once per statement, SQLite (which has only row triggers) once per row.  A later
migration that rebuilds one of the three tables on SQLite (``batch_alter_table``) drops its
triggers: ``tests/itembank/delivery/test_bank_revision.py`` fails then; recreate them with
:func:`create_triggers`.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLES = ("unit_versions", "item_versions", "item_parameters")
EVENTS = ("INSERT", "UPDATE", "DELETE")
BUMP = "UPDATE bank_revision SET revision = revision + 1 WHERE id = 1"


def create_triggers(table: str) -> None:
    """The triggers that count changes of ``table`` (one of TABLES) in ``bank_revision``."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_bank_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_bank_revision()"
        )
        return
    for event in EVENTS:
        op.execute(
            f"CREATE TRIGGER {table}_bank_revision_{event.lower()} AFTER {event} ON {table} "
            f"BEGIN {BUMP}; END"
        )


def upgrade() -> None:
    op.create_table(
        "bank_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_revision")),
    )
    op.execute("INSERT INTO bank_revision (id, revision) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION bump_bank_revision() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
    for table in TABLES:
        create_triggers(table)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bank_revision ON {table}")
        else:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_bank_revision_{event.lower()}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS bump_bank_revision()")
    op.drop_table("bank_revision")

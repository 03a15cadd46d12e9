"""the current item of a session, kept with the history it follows

Written by hand.  Recording an answer ran the CAT engine twice: once to find the item being
answered (from the stored history), once to choose the next.  The item chosen after a history is
now stored with a key of that history (``current_item``, ``current_key``) in the same UPDATE that
records the answer count, and the next answer checks against it; when the history has changed
since (a coded open response, an answer recorded otherwise) the key differs and the engine runs.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("test_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_item", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("current_key", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("test_sessions", schema=None) as batch_op:
        batch_op.drop_column("current_key")
        batch_op.drop_column("current_item")

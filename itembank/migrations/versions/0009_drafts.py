"""drafts and takeovers: the answer a student is writing, kept by the server; the token a second
device replaced

Written by hand.  ``draft_item``/``draft_response``/``draft_at`` hold the answer being written to
the current item (saved every few seconds by the test page); when the time runs out a draft to the
current item is recorded as the answer.  ``previous_token_hash`` and ``taken_over_at`` let the
first device say that the session goes on elsewhere instead of landing on the front page.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("test_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_item", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("draft_response", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("draft_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("previous_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("taken_over_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("test_sessions", schema=None) as batch_op:
        for name in ("taken_over_at", "previous_token_hash", "draft_at", "draft_response", "draft_item"):
            batch_op.drop_column(name)

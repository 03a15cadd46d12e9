"""why a job failed, as a key a page words in its reader's language

Written by hand.  A failed job kept only its English message (a handler's error, or a traceback),
which the job pages showed to readers of any language.  ``failure`` names the kind of failure
(``no_responses``, ``source_missing``, ``crashed``, ``worker_lost``, ...); the message stays as
the technical detail.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("failure")

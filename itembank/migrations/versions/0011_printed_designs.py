"""printed designs: a booklet design frozen when it is printed

Written by hand from itembank/paper/models.py.  ``printed_designs`` keeps each printed version of
a design with the unit versions and item parameters it was printed from (``pins``); its id is
printed on the booklets' covers and the answer key, and paper answers are scored against it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "printed_designs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("design", sa.JSON(), nullable=False),
        sa.Column("pins", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_printed_designs_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_printed_designs")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_printed_designs_fingerprint")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_printed_designs_name_version")),
    )
    op.create_index(op.f("ix_printed_designs_created_by"), "printed_designs", ["created_by"])


def downgrade() -> None:
    op.drop_index(op.f("ix_printed_designs_created_by"), table_name="printed_designs")
    op.drop_table("printed_designs")

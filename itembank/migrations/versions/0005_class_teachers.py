"""class_teachers: which teacher teaches which class (a teacher sees their classes' sessions)

Written from itembank/org_models.py and reviewed by hand: both foreign keys cascade on delete, so
removing a class or a user removes their links and nothing else.

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "class_teachers",
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["school_classes.id"],
            name=op.f("fk_class_teachers_class_id_school_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_class_teachers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("class_id", "user_id", name=op.f("pk_class_teachers")),
    )
    with op.batch_alter_table("class_teachers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_class_teachers_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("class_teachers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_class_teachers_user_id"))
    op.drop_table("class_teachers")

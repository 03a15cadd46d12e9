"""students' password seeds: login cards can be printed again

Written by hand.  ``students.password_seed`` is the random seed a student's sign-in password is
derived from (with the secret key, :mod:`itembank.orgs.student_passwords`); the password itself
is never stored, only its hash (``password_hash``, since 0007).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_seed", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.drop_column("password_seed")

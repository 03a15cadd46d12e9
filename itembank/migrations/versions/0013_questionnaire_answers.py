"""questionnaire answers: student questionnaires stored in the bank and delivered after a test

Written by hand from itembank/bank/models.py and itembank/delivery/models.py.

- ``questionnaire_versions``: each version of a questionnaire file (items/questionnaires/*.yaml)
  as imported, its validated definition as JSON, numbered per questionnaire (a changed file makes the next version).
- ``tests.questionnaire_id``: the questionnaire a test ends with (its latest version is given).
- ``test_sessions.questionnaire_version_id`` / ``questionnaire_finished_at``: the version a
  session delivered (pinned when the section is first shown) and when the student finished it.
- ``questionnaire_answers``: one row per (session, statement), the category chosen or null for a
  statement shown and left blank; each page's answers committed when posted.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "questionnaire_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("source_path", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_versions")),
        sa.UniqueConstraint(
            "questionnaire_id", "version",
            name=op.f("uq_questionnaire_versions_questionnaire_id_version"),
        ),
    )
    op.create_index(
        op.f("ix_questionnaire_versions_questionnaire_id"), "questionnaire_versions",
        ["questionnaire_id"],
    )
    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questionnaire_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("test_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questionnaire_version_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("questionnaire_finished_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_test_sessions_questionnaire_version_id"), ["questionnaire_version_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_test_sessions_questionnaire_version_id_questionnaire_versions"),
            "questionnaire_versions", ["questionnaire_version_id"], ["id"],
        )
    op.create_table(
        "questionnaire_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["test_sessions.id"],
            name=op.f("fk_questionnaire_answers_session_id_test_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_answers")),
        sa.UniqueConstraint(
            "session_id", "item_id", name=op.f("uq_questionnaire_answers_session_id_item_id")
        ),
    )
    op.create_index(
        op.f("ix_questionnaire_answers_session_id"), "questionnaire_answers", ["session_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_questionnaire_answers_session_id"), table_name="questionnaire_answers")
    op.drop_table("questionnaire_answers")
    with op.batch_alter_table("test_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_test_sessions_questionnaire_version_id_questionnaire_versions"),
            type_="foreignkey",
        )
        batch_op.drop_index(batch_op.f("ix_test_sessions_questionnaire_version_id"))
        batch_op.drop_column("questionnaire_finished_at")
        batch_op.drop_column("questionnaire_version_id")
    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.drop_column("questionnaire_id")
    op.drop_index(
        op.f("ix_questionnaire_versions_questionnaire_id"), table_name="questionnaire_versions"
    )
    op.drop_table("questionnaire_versions")

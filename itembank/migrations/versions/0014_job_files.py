"""job files: what a background job produced, kept in the database

Written by hand from itembank/research/models.py.  ``job_files`` holds a job's output (the ZIP of
a booklet set) so that every web host serves it, not only the host whose worker wrote it to its
own disk; one file per (job, name), replaced by a retry, deleted by the worker after
``ITEMBANK_JOB_FILE_DAYS`` days.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_files_job_id_jobs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_files")),
        sa.UniqueConstraint("job_id", "name", name=op.f("uq_job_files_job_id_name")),
    )
    op.create_index(op.f("ix_job_files_job_id"), "job_files", ["job_id"])
    op.create_index(op.f("ix_job_files_created_at"), "job_files", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_job_files_created_at"), table_name="job_files")
    op.drop_index(op.f("ix_job_files_job_id"), table_name="job_files")
    op.drop_table("job_files")

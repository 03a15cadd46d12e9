"""testing programme: test lifecycle and attempts, student identity and resume codes, students'
passwords, server-side login sessions, the wrong-code limit

Written by hand.  Existing rows are brought along: every session gets its identity ("r:<student>"
on a roster test, else "o:<id trimmed, lower-cased>") and its attempt number (1, 2, ... in the
order the student started them); tests stay open, an assigned test keeps one attempt and a test
without assignment stays unlimited (as before); a code shared by several tests stays the code
key of the oldest of them only (the others are still reached by their link).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

RESUME_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def upgrade() -> None:
    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="open")
        )
        batch_op.add_column(sa.Column("max_attempts", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("code_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("report_max_se", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("report_min_items", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_tests_code_key"), ["code_key"])
        batch_op.create_check_constraint(
            batch_op.f("ck_tests_status"), "status IN ('open', 'closed', 'archived')"
        )

    with op.batch_alter_table("test_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("identity", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("attempt", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("resume_code", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("unlocked", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("scored_items", sa.Integer(), nullable=True))

    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=256), nullable=True))

    _bring_rows_along()

    with op.batch_alter_table("test_sessions", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_test_sessions_test_id_identity_attempt"), ["test_id", "identity", "attempt"]
        )

    op.create_table(
        "attempt_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("test_id", sa.String(length=64), nullable=False),
        sa.Column("identity", sa.String(length=200), nullable=False),
        sa.Column("granted_by", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["test_id"], ["tests.id"], name=op.f("fk_attempt_grants_test_id_tests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempt_grants")),
    )
    op.create_index(
        "ix_attempt_grants_test_id_identity", "attempt_grants", ["test_id", "identity"]
    )
    op.create_table(
        "code_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_failures")),
    )
    op.create_index("ix_code_failures_address_created_at", "code_failures", ["address", "created_at"])
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
    )
    op.create_index(op.f("ix_login_sessions_user_id"), "login_sessions", ["user_id"])


def _bring_rows_along() -> None:
    bind = op.get_bind()
    tests = sa.table(
        "tests",
        sa.column("id", sa.String),
        sa.column("access_code", sa.String),
        sa.column("created_at", sa.DateTime),
        sa.column("max_attempts", sa.Integer),
        sa.column("code_key", sa.String),
    )
    assignments = sa.table("test_assignments", sa.column("test_id", sa.String))
    sessions = sa.table(
        "test_sessions",
        sa.column("id", sa.String),
        sa.column("test_id", sa.String),
        sa.column("student_key", sa.String),
        sa.column("student_ref", sa.Integer),
        sa.column("started_at", sa.DateTime),
        sa.column("status", sa.String),
        sa.column("identity", sa.String),
        sa.column("attempt", sa.Integer),
        sa.column("resume_code", sa.String),
    )
    assigned = {row[0] for row in bind.execute(sa.select(assignments.c.test_id))}
    taken: set[str] = set()
    for test_id, code in bind.execute(
        sa.select(tests.c.id, tests.c.access_code).order_by(tests.c.created_at, tests.c.id)
    ):
        key = (code or "").strip().upper()
        value = None
        if key and key not in taken:
            taken.add(key)
            value = key
        bind.execute(
            sa.update(tests)
            .where(tests.c.id == test_id)
            .values(code_key=value, max_attempts=1 if test_id in assigned else None)
        )
    counts: dict[tuple[str, str], int] = {}
    rows = bind.execute(
        sa.select(
            sessions.c.id, sessions.c.test_id, sessions.c.student_key, sessions.c.student_ref,
            sessions.c.status,
        ).order_by(sessions.c.started_at, sessions.c.id)
    ).all()
    for session_id, test_id, student_key, student_ref, status in rows:
        if student_ref is not None:
            identity = f"r:{student_ref}"
        else:
            identity = "o:" + " ".join((student_key or "").split()).lower()
        attempt = counts.get((test_id, identity), 0) + 1
        counts[(test_id, identity)] = attempt
        code = None
        if status in ("started", "in_progress"):
            code = "".join(secrets.choice(RESUME_ALPHABET) for _ in range(6))
        bind.execute(
            sa.update(sessions)
            .where(sessions.c.id == session_id)
            .values(identity=identity, attempt=attempt, resume_code=code)
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_login_sessions_user_id"), table_name="login_sessions")
    op.drop_table("login_sessions")
    op.drop_index("ix_code_failures_address_created_at", table_name="code_failures")
    op.drop_table("code_failures")
    op.drop_index("ix_attempt_grants_test_id_identity", table_name="attempt_grants")
    op.drop_table("attempt_grants")
    with op.batch_alter_table("test_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_test_sessions_test_id_identity_attempt"), type_="unique")
        for column in ("scored_items", "unlocked", "resume_code", "attempt", "identity"):
            batch_op.drop_column(column)
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.drop_column("password_hash")
    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_tests_status"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_tests_code_key"), type_="unique")
        for column in ("report_min_items", "report_max_se", "code_key", "max_attempts", "status"):
            batch_op.drop_column(column)

"""materials: the teaching-materials exchange (materials, their files' bytes, comments)

Written by hand from itembank/materials/models.py.  File bytes live in the database
(``material_files``, keyed by SHA-256), so every web host serves them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "material_files",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_material_files")),
    )
    op.create_table(
        "materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("sdgs", sa.JSON(), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=True),
        sa.Column("process", sa.String(length=40), nullable=True),
        sa.Column("grade_bands", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("licence", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("city_id", sa.Integer(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=120), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("tags", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'review', 'approved')", name=op.f("ck_materials_status")
        ),
        sa.CheckConstraint(
            "visibility IN ('school', 'city', 'partners', 'public')",
            name=op.f("ck_materials_visibility"),
        ),
        sa.ForeignKeyConstraint(["city_id"], ["cities.id"], name=op.f("fk_materials_city_id_cities")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_materials_owner_id_users")),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_materials_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_materials")),
        sa.UniqueConstraint("uid", name=op.f("uq_materials_uid")),
    )
    for column in ("city_id", "dimension", "file_sha256", "owner_id", "process", "school_id",
                   "status"):
        op.create_index(op.f(f"ix_materials_{column}"), "materials", [column], unique=False)
    op.create_table(
        "material_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"], ["materials.id"],
            name=op.f("fk_material_comments_material_id_materials"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_material_comments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_comments")),
    )
    op.create_index(
        op.f("ix_material_comments_material_id"), "material_comments", ["material_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_material_comments_material_id"), table_name="material_comments")
    op.drop_table("material_comments")
    for column in ("status", "school_id", "process", "owner_id", "file_sha256", "dimension",
                   "city_id"):
        op.drop_index(op.f(f"ix_materials_{column}"), table_name="materials")
    op.drop_table("materials")
    op.drop_table("material_files")

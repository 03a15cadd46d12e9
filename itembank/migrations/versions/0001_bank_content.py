"""bank content: units, items, versions, calibrations, parameters, media

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibrations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=300), nullable=False),
        sa.Column("software", sa.String(length=120), nullable=False),
        sa.Column("data", sa.String(length=300), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("population_mean", sa.Float(), nullable=False),
        sa.Column("population_sd", sa.Float(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibrations")),
    )
    op.create_table(
        "media_files",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("mime", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_media_files")),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("source_path", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_items_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_items_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "unit_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=False),
        sa.Column("content_domain", sa.String(length=40), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("title_zh", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_unit_versions_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_versions")),
        sa.UniqueConstraint("unit_id", "version", name=op.f("uq_unit_versions_unit_id_version")),
    )
    with op.batch_alter_table("unit_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unit_versions_content_domain"), ["content_domain"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_unit_versions_dimension"), ["dimension"], unique=False)
        batch_op.create_index(batch_op.f("ix_unit_versions_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_unit_versions_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "item_parameters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("calibration_id", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=8), nullable=False),
        sa.Column("a", sa.Float(), nullable=True),
        sa.Column("b", sa.JSON(), nullable=False),
        sa.Column("c", sa.Float(), nullable=True),
        sa.Column("se", sa.JSON(), nullable=True),
        sa.Column("fit", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["calibration_id"],
            ["calibrations.id"],
            name=op.f("fk_item_parameters_calibration_id_calibrations"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_parameters_item_id_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_parameters")),
        sa.UniqueConstraint(
            "item_id", "calibration_id", name=op.f("uq_item_parameters_item_id_calibration_id")
        ),
    )
    with op.batch_alter_table("item_parameters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_item_parameters_calibration_id"), ["calibration_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_item_parameters_item_id"), ["item_id"], unique=False)

    op.create_table(
        "item_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("unit_version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("max_score", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("parameters_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_versions_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["parameters_id"],
            ["item_parameters.id"],
            name=op.f("fk_item_versions_parameters_id_item_parameters"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_version_id"],
            ["unit_versions.id"],
            name=op.f("fk_item_versions_unit_version_id_unit_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_versions")),
        sa.UniqueConstraint(
            "item_id", "unit_version_id", name=op.f("uq_item_versions_item_id_unit_version_id")
        ),
    )
    with op.batch_alter_table("item_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_versions_item_id"), ["item_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_item_versions_parameters_id"), ["parameters_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_item_versions_type"), ["type"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_item_versions_unit_version_id"), ["unit_version_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("item_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_versions_unit_version_id"))
        batch_op.drop_index(batch_op.f("ix_item_versions_type"))
        batch_op.drop_index(batch_op.f("ix_item_versions_parameters_id"))
        batch_op.drop_index(batch_op.f("ix_item_versions_item_id"))

    op.drop_table("item_versions")
    with op.batch_alter_table("item_parameters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_parameters_item_id"))
        batch_op.drop_index(batch_op.f("ix_item_parameters_calibration_id"))

    op.drop_table("item_parameters")
    with op.batch_alter_table("unit_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_versions_unit_id"))
        batch_op.drop_index(batch_op.f("ix_unit_versions_status"))
        batch_op.drop_index(batch_op.f("ix_unit_versions_dimension"))
        batch_op.drop_index(batch_op.f("ix_unit_versions_content_domain"))

    op.drop_table("unit_versions")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_items_unit_id"))

    op.drop_table("items")
    op.drop_table("units")
    op.drop_table("media_files")
    op.drop_table("calibrations")

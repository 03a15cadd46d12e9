"""survey design of data sets: student weights, stratum and school, stored replicate weights

Written by hand from itembank/research/models.py.

- ``dataset_persons.weight`` / ``stratum`` / ``psu``: the final student weight and the sampling
  design (explicit stratum, primary sampling unit = school) of each person, null when the data
  set has no design.
- ``dataset_persons.replicate_weights``: the person's G replicate weights as one JSON list, so a
  data set's whole replicate matrix (5,000 students × 80 replicates) loads with the persons in one
  query of N rows and becomes an (N, G) numpy array at once, instead of N × G rows of a long
  table (docs/research.md, "Survey design").
- ``datasets.replicate_method`` ("jk2", "brr-fay" or "given": replicate weights uploaded as
  columns), ``datasets.replicate_factors`` (the G variance factors c_g) and
  ``datasets.survey_design`` (how the design was given: file, columns, Fay's k, when).
- ``datasets.printed_design_id``: the printed booklet design a paper data set was scored against.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("printed_design_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("replicate_method", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("replicate_factors", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("survey_design", sa.JSON(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_datasets_printed_design_id_printed_designs"),
            "printed_designs",
            ["printed_design_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_datasets_printed_design_id"), ["printed_design_id"], unique=False
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_datasets_replicate_method"),
            "replicate_method IN ('jk2', 'brr-fay', 'given')",
        )

    with op.batch_alter_table("dataset_persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("weight", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("stratum", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("psu", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("replicate_weights", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataset_persons", schema=None) as batch_op:
        batch_op.drop_column("replicate_weights")
        batch_op.drop_column("psu")
        batch_op.drop_column("stratum")
        batch_op.drop_column("weight")

    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_datasets_replicate_method"), type_="check")
        batch_op.drop_index(batch_op.f("ix_datasets_printed_design_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_datasets_printed_design_id_printed_designs"), type_="foreignkey"
        )
        batch_op.drop_column("survey_design")
        batch_op.drop_column("replicate_factors")
        batch_op.drop_column("replicate_method")
        batch_op.drop_column("printed_design_id")

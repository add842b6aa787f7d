"""batch: the input files each pipeline's score steps have taken, for steps that score only new files

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "scored_inputs",
        sa.Column("pipeline_id", sa.Integer(), sa.ForeignKey("pipelines.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("step", sa.String(200), primary_key=True),
        sa.Column("file_sha256", sa.String(64), primary_key=True),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(40), sa.ForeignKey("pipeline_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("taken_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_scored_inputs_run_id", "scored_inputs", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_scored_inputs_run_id", table_name="scored_inputs")
    op.drop_table("scored_inputs")

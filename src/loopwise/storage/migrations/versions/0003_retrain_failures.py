"""Retrain failures: the latest failed retrain of each annotation project, shown until one works.

Revision ID: 0003_retrain_failures
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_retrain_failures"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retrain_failures",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("n_labelled", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_retrain_failures")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_retrain_failures_project_id_projects")
        ),
    )


def downgrade() -> None:
    op.drop_table("retrain_failures")

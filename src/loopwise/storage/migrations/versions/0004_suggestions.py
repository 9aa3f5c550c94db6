"""Suggestions on the annotate page: the predicted class, its probability and the retrain's note per queue row.

Revision ID: 0004_suggestions
Revises: 0003_retrain_failures
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_suggestions"
down_revision = "0003_retrain_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns with no default: added in place on both SQLite and PostgreSQL (no table copy).
    op.add_column("annotation_records", sa.Column("predicted", sa.Integer(), nullable=True))
    op.add_column("annotation_records", sa.Column("confidence", sa.Float(), nullable=True))
    op.add_column("annotation_records", sa.Column("suggestion", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("annotation_records") as batch:
        batch.drop_column("suggestion")
        batch.drop_column("confidence")
        batch.drop_column("predicted")

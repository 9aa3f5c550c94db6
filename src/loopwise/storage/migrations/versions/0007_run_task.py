"""The learning task of each run (classification, multilabel, regression, token_classification).

Revision ID: 0007_run_task
Revises: 0006_label_quality
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_run_task"
down_revision = "0006_label_quality"
branch_labels = None
depends_on = None

_TASKS = "task IN ('classification', 'multilabel', 'regression', 'token_classification')"


def upgrade() -> None:
    # Every run stored before this revision classified one label a record, so that is the default.
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("task", sa.String(32), nullable=False, server_default="classification"))
        batch.create_check_constraint("task", _TASKS)


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_constraint("task", type_="check")
        batch.drop_column("task")

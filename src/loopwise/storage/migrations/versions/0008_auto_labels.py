"""Auto-labels on the server: the model version and confidence of a label row, and the record state 'auto'.

Revision ID: 0008_auto_labels
Revises: 0007_run_task
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_auto_labels"
down_revision = "0007_run_task"
branch_labels = None
depends_on = None

_STATES_BEFORE = "state IN ('open', 'done', 'flagged')"
_STATES = "state IN ('open', 'done', 'flagged', 'auto')"


def upgrade() -> None:
    # Nullable columns with no default: added in place on SQLite and PostgreSQL (no table copy); people's
    # labels, all of them before this revision, have neither.
    op.add_column("labels", sa.Column("model_version", sa.Integer(), nullable=True))
    op.add_column("labels", sa.Column("confidence", sa.Float(), nullable=True))
    with op.batch_alter_table("annotation_records") as batch:
        batch.drop_constraint(op.f("ck_annotation_records_state"), type_="check")
        batch.create_check_constraint(op.f("ck_annotation_records_state"), _STATES)


def downgrade() -> None:
    # Auto-labelled records go back to the queue; their label rows lose the model columns.
    op.execute("UPDATE annotation_records SET state = 'open' WHERE state = 'auto'")
    with op.batch_alter_table("annotation_records") as batch:
        batch.drop_constraint(op.f("ck_annotation_records_state"), type_="check")
        batch.create_check_constraint(op.f("ck_annotation_records_state"), _STATES_BEFORE)
    with op.batch_alter_table("labels") as batch:
        batch.drop_column("confidence")
        batch.drop_column("model_version")

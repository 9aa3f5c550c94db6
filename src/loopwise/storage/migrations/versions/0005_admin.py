"""Admin console: deactivated users, archived projects, and adjudications of disagreeing labels.

Revision ID: 0005_admin
Revises: 0004_suggestions
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_admin"
down_revision = "0004_suggestions"
branch_labels = None
depends_on = None

_TZ_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Nullable columns with no default: added in place on both SQLite and PostgreSQL (no table copy).
    op.add_column("annotators", sa.Column("deactivated_at", _TZ_DATETIME, nullable=True))
    op.add_column("annotation_projects", sa.Column("archived_at", _TZ_DATETIME, nullable=True))
    op.create_table(
        "annotation_adjudications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _TZ_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation_adjudications")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_annotation_adjudications_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_annotation_adjudications_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["annotator_id"], ["annotators.id"], name=op.f("fk_annotation_adjudications_annotator_id_annotators")
        ),
        sa.ForeignKeyConstraint(
            ["label_id"], ["labels.id"], name=op.f("fk_annotation_adjudications_label_id_labels")
        ),
    )
    op.create_index(
        op.f("ix_annotation_adjudications_project_id_record_id"),
        "annotation_adjudications",
        ["project_id", "record_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_annotation_adjudications_project_id_record_id"), table_name="annotation_adjudications")
    op.drop_table("annotation_adjudications")
    with op.batch_alter_table("annotation_projects") as batch:
        batch.drop_column("archived_at")
    with op.batch_alter_table("annotators") as batch:
        batch.drop_column("deactivated_at")

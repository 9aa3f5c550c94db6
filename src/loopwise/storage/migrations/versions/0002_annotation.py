"""Annotation server: project settings, members, passwords, queue state of records, annotation events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TZ_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "annotation_projects",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _TZ_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_annotation_projects")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_annotation_projects_project_id_projects")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_annotation_projects_run_id_runs")),
        sa.CheckConstraint("status IN ('active', 'stopped')", name=op.f("ck_annotation_projects_status")),
    )
    op.create_table(
        "project_members",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _TZ_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "annotator_id", name=op.f("pk_project_members")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_members_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["annotator_id"], ["annotators.id"], name=op.f("fk_project_members_annotator_id_annotators")
        ),
    )
    op.create_table(
        "annotator_passwords",
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("updated_at", _TZ_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("annotator_id", name=op.f("pk_annotator_passwords")),
        sa.ForeignKeyConstraint(
            ["annotator_id"], ["annotators.id"], name=op.f("fk_annotator_passwords_annotator_id_annotators")
        ),
    )
    op.create_table(
        "annotation_records",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("gold", sa.String(255), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("n_labels", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_annotation_records")),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_annotation_records_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_annotation_records_project_id_projects")
        ),
        sa.CheckConstraint("role IN ('pool', 'test')", name=op.f("ck_annotation_records_role")),
        sa.CheckConstraint(
            "state IN ('open', 'done', 'flagged')", name=op.f("ck_annotation_records_state")
        ),
    )
    op.create_index(
        op.f("ix_annotation_records_project_id_state_rank"),
        "annotation_records",
        ["project_id", "state", "rank"],
    )
    op.create_table(
        "annotation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=True),
        sa.Column("undoes_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(255), nullable=True),
        sa.Column("created_at", _TZ_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotation_events")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_annotation_events_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_annotation_events_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["annotator_id"], ["annotators.id"], name=op.f("fk_annotation_events_annotator_id_annotators")
        ),
        sa.ForeignKeyConstraint(["label_id"], ["labels.id"], name=op.f("fk_annotation_events_label_id_labels")),
        sa.ForeignKeyConstraint(
            ["undoes_id"], ["annotation_events.id"], name=op.f("fk_annotation_events_undoes_id_annotation_events")
        ),
        sa.UniqueConstraint("undoes_id", name=op.f("uq_annotation_events_undoes_id")),
        sa.CheckConstraint(
            "kind IN ('label', 'skip', 'flag', 'undo')", name=op.f("ck_annotation_events_kind")
        ),
    )
    op.create_index(
        op.f("ix_annotation_events_record_id_annotator_id"), "annotation_events", ["record_id", "annotator_id"]
    )
    op.create_index(
        op.f("ix_annotation_events_project_id_annotator_id_kind"),
        "annotation_events",
        ["project_id", "annotator_id", "kind"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_annotation_events_project_id_annotator_id_kind"), table_name="annotation_events")
    op.drop_index(op.f("ix_annotation_events_record_id_annotator_id"), table_name="annotation_events")
    op.drop_table("annotation_events")
    op.drop_index(op.f("ix_annotation_records_project_id_state_rank"), table_name="annotation_records")
    op.drop_table("annotation_records")
    op.drop_table("annotator_passwords")
    op.drop_table("project_members")
    op.drop_table("annotation_projects")

"""Initial schema: projects, records, runs, loops, append-only labels, model versions, annotators.

Revision ID: 0001
Revises:
Create Date: 2026-05-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Written out rather than taken from the ORM: a migration is a frozen picture of the schema at one revision.
_TZ_DATETIME = sa.DateTime(timezone=True)
_APPEND_ONLY_MESSAGE = "labels are append-only: add a label that supersedes this one instead"


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("task", sa.String(16), nullable=False),
        sa.Column("label_names", sa.JSON(), nullable=False),
        sa.Column("cost_per_label", sa.Float(), nullable=False),
        sa.Column("created_at", _TZ_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
        sa.CheckConstraint("task IN ('text', 'tabular', 'image')", name=op.f("ck_projects_task")),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(512), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_records_project_id_projects")
        ),
        sa.UniqueConstraint(
            "project_id", "external_id", name=op.f("uq_records_project_id_external_id")
        ),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _TZ_DATETIME, nullable=False),
        sa.Column("finished_at", _TZ_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_runs_project_id_projects")
        ),
        sa.CheckConstraint(
            "status IN ('running', 'finished', 'failed')", name=op.f("ck_runs_status")
        ),
    )
    op.create_index(op.f("ix_runs_project_id"), "runs", ["project_id"])
    op.create_table(
        "loops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("loop_index", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(255), nullable=False),
        sa.Column("selected_ids", sa.JSON(), nullable=False),
        sa.Column("n_labelled", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("label_cost", sa.Float(), nullable=False),
        sa.Column("artifact_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _TZ_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loops")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_loops_run_id_runs")),
        sa.UniqueConstraint("run_id", "loop_index", name=op.f("uq_loops_run_id_loop_index")),
    )
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("annotator", sa.String(255), nullable=True),
        sa.Column("created_at", _TZ_DATETIME, nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_labels_record_id_records")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_labels_run_id_runs")),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["labels.id"], name=op.f("fk_labels_supersedes_id_labels")
        ),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_labels_supersedes_id")),
        sa.CheckConstraint(
            "source IN ('human', 'oracle', 'auto', 'weak')", name=op.f("ck_labels_source")
        ),
    )
    op.create_index(op.f("ix_labels_record_id_run_id"), "labels", ["record_id", "run_id"])
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("loop_index", sa.Integer(), nullable=False),
        sa.Column("artifact_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _TZ_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_model_versions_run_id_runs")
        ),
        sa.UniqueConstraint(
            "run_id", "loop_index", name=op.f("uq_model_versions_run_id_loop_index")
        ),
    )
    op.create_table(
        "annotators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(255), nullable=True),
        sa.Column("created_at", _TZ_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotators")),
        sa.UniqueConstraint("name", name=op.f("uq_annotators_name")),
        sa.CheckConstraint("role IN ('admin', 'annotator')", name=op.f("ck_annotators_role")),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", _TZ_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_assignments_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["annotator_id"], ["annotators.id"], name=op.f("fk_assignments_annotator_id_annotators")
        ),
    )
    op.create_index(op.f("ix_assignments_record_id"), "assignments", ["record_id"])
    op.create_index(op.f("ix_assignments_annotator_id"), "assignments", ["annotator_id"])
    _create_append_only_guard()


def downgrade() -> None:
    _drop_append_only_guard()
    op.drop_index(op.f("ix_assignments_annotator_id"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_record_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_table("annotators")
    op.drop_table("model_versions")
    op.drop_index(op.f("ix_labels_record_id_run_id"), table_name="labels")
    op.drop_table("labels")
    op.drop_table("loops")
    op.drop_index(op.f("ix_runs_project_id"), table_name="runs")
    op.drop_table("runs")
    op.drop_table("records")
    op.drop_table("projects")


def _create_append_only_guard() -> None:
    # The label history is the audit trail of a run, so the database itself refuses to rewrite it,
    # whoever connects. Other dialects rely on the store never issuing UPDATE or DELETE on labels.
    # Note for later SQLite batch migrations of `labels`: recreating the table drops these triggers.
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER labels_append_only_{event.lower()} BEFORE {event} ON labels "
                f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY_MESSAGE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION labels_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{_APPEND_ONLY_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER labels_append_only BEFORE UPDATE OR DELETE ON labels "
            "FOR EACH ROW EXECUTE FUNCTION labels_append_only()"
        )


def _drop_append_only_guard() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS labels_append_only_update")
        op.execute("DROP TRIGGER IF EXISTS labels_append_only_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS labels_append_only ON labels")
        op.execute("DROP FUNCTION IF EXISTS labels_append_only()")

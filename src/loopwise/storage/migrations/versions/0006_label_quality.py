"""Label quality on the server: the review queue of audited labels, consensus labels and annotator quality, rules.

Revision ID: 0006_label_quality
Revises: 0005_admin
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_label_quality"
down_revision = "0005_admin"
branch_labels = None
depends_on = None

_TABLES = (
    "annotation_review_items", "annotation_weak_labels", "annotation_consensus", "annotation_rules",
    "annotation_rule_stats", "annotation_annotator_quality",
)


def upgrade() -> None:
    # New tables only: nothing existing changes, on SQLite and PostgreSQL alike.
    op.create_table('annotation_annotator_quality',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('annotator_id', sa.Integer(), nullable=False),
    sa.Column('quality', sa.Float(), nullable=True),
    sa.Column('agreement', sa.Float(), nullable=True),
    sa.Column('n_labels', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('loop_index', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['annotator_id'], ['annotators.id'], name=op.f('fk_annotation_annotator_quality_annotator_id_annotators')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_annotation_annotator_quality_project_id_projects')),
    sa.PrimaryKeyConstraint('project_id', 'annotator_id', name=op.f('pk_annotation_annotator_quality'))
    )
    op.create_table('annotation_rule_stats',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_annotation_rule_stats_project_id_projects')),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_annotation_rule_stats'))
    )
    op.create_table('annotation_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('pattern', sa.Text(), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('keyword', 'regex')", name=op.f('ck_annotation_rules_kind')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_annotation_rules_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annotation_rules')),
    sa.UniqueConstraint('project_id', 'name', name=op.f('uq_annotation_rules_project_id_name'))
    )
    op.create_table('annotation_consensus',
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('n_labels', sa.Integer(), nullable=False),
    sa.Column('loop_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_annotation_consensus_project_id_projects')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_annotation_consensus_record_id_records')),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_annotation_consensus'))
    )
    op.create_index(op.f('ix_annotation_consensus_project_id'), 'annotation_consensus', ['project_id'], unique=False)
    op.create_table('annotation_weak_labels',
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_annotation_weak_labels_project_id_projects')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_annotation_weak_labels_record_id_records')),
    sa.PrimaryKeyConstraint('record_id', name=op.f('pk_annotation_weak_labels'))
    )
    op.create_index(op.f('ix_annotation_weak_labels_project_id'), 'annotation_weak_labels', ['project_id'], unique=False)
    op.create_table('annotation_review_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('label_id', sa.Integer(), nullable=True),
    sa.Column('given', sa.String(length=255), nullable=False),
    sa.Column('suggested', sa.String(length=255), nullable=True),
    sa.Column('self_confidence', sa.Float(), nullable=False),
    sa.Column('loop_index', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('decided', sa.String(length=255), nullable=True),
    sa.Column('decision_label_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'kept', 'changed', 'withdrawn')", name=op.f('ck_annotation_review_items_status')),
    sa.ForeignKeyConstraint(['decision_label_id'], ['labels.id'], name=op.f('fk_annotation_review_items_decision_label_id_labels')),
    sa.ForeignKeyConstraint(['label_id'], ['labels.id'], name=op.f('fk_annotation_review_items_label_id_labels')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_annotation_review_items_project_id_projects')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_annotation_review_items_record_id_records')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['annotators.id'], name=op.f('fk_annotation_review_items_reviewer_id_annotators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annotation_review_items'))
    )
    op.create_index(op.f('ix_annotation_review_items_project_id_status'), 'annotation_review_items', ['project_id', 'status'], unique=False)
    op.create_index(op.f('ix_annotation_review_items_record_id'), 'annotation_review_items', ['record_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_annotation_review_items_record_id"), table_name="annotation_review_items")
    op.drop_index(op.f("ix_annotation_review_items_project_id_status"), table_name="annotation_review_items")
    op.drop_index(op.f("ix_annotation_weak_labels_project_id"), table_name="annotation_weak_labels")
    op.drop_index(op.f("ix_annotation_consensus_project_id"), table_name="annotation_consensus")
    for table in _TABLES:
        op.drop_table(table)

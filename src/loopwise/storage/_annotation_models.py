"""ORM rows of the annotation server: project settings, members, passwords, queue state, events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    exists,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column

from ._models import Base, utcnow

PROJECT_STATUSES = ("active", "stopped")
RECORD_ROLES = ("pool", "test")
# auto: an auto-label (a confident model's, source "auto") is in force and no person has labelled it yet.
RECORD_STATES = ("open", "done", "flagged", "auto")
EVENT_KINDS = ("label", "skip", "flag", "undo")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    allowed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({allowed})"


class AnnotationProjectRow(Base):
    """A project served to annotators: its settings and the run its loops and labels belong to."""

    __tablename__ = "annotation_projects"
    __table_args__ = (CheckConstraint(_one_of("status", PROJECT_STATUSES), name="status"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"))
    instructions: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when an admin archives the project: kept, but out of the annotators' lists and queue.
    archived_at: Mapped[datetime | None]


class ProjectMemberRow(Base):
    __tablename__ = "project_members"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnnotatorPasswordRow(Base):
    """A salted scrypt hash; the API token hash lives in ``annotators.token_hash``."""

    __tablename__ = "annotator_passwords"

    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnnotationRecordRow(Base):
    """Queue state of one record: its rank (lower is served first), how many labels it has, its state."""

    __tablename__ = "annotation_records"
    __table_args__ = (
        CheckConstraint(_one_of("role", RECORD_ROLES), name="role"),
        CheckConstraint(_one_of("state", RECORD_STATES), name="state"),
        # The queue walks open records of a project in rank order.
        Index(None, "project_id", "state", "rank"),
    )

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    role: Mapped[str] = mapped_column(String(8), default="pool")
    gold: Mapped[str | None] = mapped_column(String(255))
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    n_labels: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="open")
    # The last retrain that ranked the record: the model's top class (an index into the label names),
    # its probability, and a note (strategy, loop, rank, top classes) for the annotate page.
    predicted: Mapped[int | None] = mapped_column(Integer)
    confidence: Mapped[float | None] = mapped_column(Float)
    suggestion: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class AnnotationEventRow(Base):
    """Append-only log of what annotators did: label, skip, flag, and undo of a label."""

    __tablename__ = "annotation_events"
    __table_args__ = (
        CheckConstraint(_one_of("kind", EVENT_KINDS), name="kind"),
        UniqueConstraint("undoes_id"),
        Index(None, "record_id", "annotator_id"),
        Index(None, "project_id", "annotator_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    kind: Mapped[str] = mapped_column(String(8))
    label_id: Mapped[int | None] = mapped_column(ForeignKey("labels.id"))
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("annotation_events.id"))
    reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetrainFailureRow(Base):
    """The latest failed retrain of a project, until one works: what went wrong, when, at how many labels."""

    __tablename__ = "retrain_failures"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    message: Mapped[str] = mapped_column(Text)
    n_labelled: Mapped[int] = mapped_column(Integer)
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AdjudicationRow(Base):
    """An admin's decision on a record whose annotators disagree: its label wins in training and export.

    Append-only like the events: a new decision on the same record is a new row, the latest one wins.
    """

    __tablename__ = "annotation_adjudications"
    __table_args__ = (Index(None, "project_id", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


REVIEW_STATUSES = ("open", "kept", "changed", "withdrawn")
RULE_KINDS = ("keyword", "regex")


class ReviewItemRow(Base):
    """A label the audit after a retrain doubts (out-of-fold probabilities and cleanlab), and what a reviewer decided.

    ``open`` until a reviewer keeps the label or changes it (the change is a new label row that supersedes
    the doubted one and wins in training, as an adjudication); ``withdrawn`` when a later audit no longer doubts it.
    """

    __tablename__ = "annotation_review_items"
    __table_args__ = (
        CheckConstraint(_one_of("status", REVIEW_STATUSES), name="status"),
        Index(None, "project_id", "status"),
        Index(None, "record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    label_id: Mapped[int | None] = mapped_column(ForeignKey("labels.id"))
    given: Mapped[str] = mapped_column(String(255))
    suggested: Mapped[str | None] = mapped_column(String(255))
    self_confidence: Mapped[float] = mapped_column(Float)
    loop_index: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("annotators.id"))
    decided: Mapped[str | None] = mapped_column(String(255))
    decision_label_id: Mapped[int | None] = mapped_column(ForeignKey("labels.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]


class ConsensusRow(Base):
    """The training label of a labelled record as the last retrain's consensus model gave it, with its confidence."""

    __tablename__ = "annotation_consensus"
    __table_args__ = (Index(None, "project_id"),)

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    value: Mapped[str] = mapped_column(String(255))
    confidence: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(32))
    n_labels: Mapped[int] = mapped_column(Integer)
    loop_index: Mapped[int] = mapped_column(Integer)


class AnnotatorQualityRow(Base):
    """An annotator's quality as the last retrain's consensus model estimates it, and their agreement with it."""

    __tablename__ = "annotation_annotator_quality"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), primary_key=True)
    quality: Mapped[float | None] = mapped_column(Float)
    agreement: Mapped[float | None] = mapped_column(Float)
    n_labels: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(32))
    loop_index: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LabelRuleRow(Base):
    """A labelling function an admin defined for a project: a keyword list or a regular expression and its class."""

    __tablename__ = "annotation_rules"
    __table_args__ = (
        CheckConstraint(_one_of("kind", RULE_KINDS), name="kind"),
        UniqueConstraint("project_id", "name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    pattern: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WeakLabelRow(Base):
    """A pool record's weak label from the project's rules (Snorkel's label model or majority), with its probability."""

    __tablename__ = "annotation_weak_labels"
    __table_args__ = (Index(None, "project_id"),)

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    value: Mapped[str] = mapped_column(String(255))
    confidence: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(32))


class RuleStatsRow(Base):
    """The last application of a project's rules: per-rule coverage, overlap, conflict, and the label models compared."""

    __tablename__ = "annotation_rule_stats"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    summary: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


ANNOTATION_TABLES = (
    AnnotationProjectRow,
    ProjectMemberRow,
    AnnotatorPasswordRow,
    AnnotationRecordRow,
    AnnotationEventRow,
    RetrainFailureRow,
    AdjudicationRow,
    ReviewItemRow,
    ConsensusRow,
    AnnotatorQualityRow,
    LabelRuleRow,
    WeakLabelRow,
    RuleStatsRow,
)


def not_undone() -> ColumnElement[bool]:
    """Whether an event is still in force: no 'undo' event undoes it (that is how labels and flags are taken back)."""
    undone = aliased(AnnotationEventRow)
    return ~exists().where(undone.undoes_id == AnnotationEventRow.id)

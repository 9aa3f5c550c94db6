"""ORM rows of the store; they never leave the storage package."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TASKS = ("text", "tabular", "image")
# What a run learns (loopwise.core.tasks.TASKS), in a fixed order for the check constraint.
RUN_TASKS = ("classification", "multilabel", "regression", "token_classification")
LABEL_SOURCES = ("human", "oracle", "auto", "weak")
RUN_STATUSES = ("running", "finished", "failed")
ROLES = ("admin", "annotator")

# Fixed constraint names: PostgreSQL and Alembic's SQLite batch mode need a name to alter or drop one.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    allowed = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({allowed})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: DateTime(timezone=True)}


class ProjectRow(Base):
    __tablename__ = "projects"
    __table_args__ = (CheckConstraint(_one_of("task", TASKS), name="task"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    task: Mapped[str] = mapped_column(String(16))
    label_names: Mapped[list[str]]
    cost_per_label: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecordRow(Base):
    __tablename__ = "records"
    __table_args__ = (UniqueConstraint("project_id", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    external_id: Mapped[str] = mapped_column(String(512))
    # none_as_null: a record without payload is SQL NULL, not the JSON text 'null'.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(_one_of("status", RUN_STATUSES), name="status"),
        CheckConstraint(_one_of("task", RUN_TASKS), name="task"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    config: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="running")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    task: Mapped[str] = mapped_column(String(32), default="classification", server_default="classification")


class LoopRow(Base):
    __tablename__ = "loops"
    __table_args__ = (UniqueConstraint("run_id", "loop_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"))
    loop_index: Mapped[int]
    strategy: Mapped[str] = mapped_column(String(255))
    selected_ids: Mapped[list[str]]
    n_labelled: Mapped[int]
    metrics: Mapped[dict[str, Any]]
    timings: Mapped[dict[str, Any]]
    label_cost: Mapped[float] = mapped_column(Float)
    artifact_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LabelRow(Base):
    """Append-only: a correction is a new row that supersedes the old one."""

    __tablename__ = "labels"
    __table_args__ = (
        CheckConstraint(_one_of("source", LABEL_SOURCES), name="source"),
        # A label is superseded at most once, so the history of a record in a run is a chain.
        UniqueConstraint("supersedes_id"),
        Index(None, "record_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"))
    value: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16))
    annotator: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("labels.id"))
    # An auto-label's model: the loop index of the run's model that gave it (its model_versions row), and
    # that model's probability of the value. None on a person's label.
    model_version: Mapped[int | None] = mapped_column(Integer)
    confidence: Mapped[float | None] = mapped_column(Float)


class ModelVersionRow(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("run_id", "loop_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"))
    loop_index: Mapped[int]
    artifact_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnnotatorRow(Base):
    __tablename__ = "annotators"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="annotator")
    token_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when an admin deactivates the user: they can no longer sign in or use a token.
    deactivated_at: Mapped[datetime | None]


class AssignmentRow(Base):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), index=True)
    expires_at: Mapped[datetime]


TABLES = (
    ProjectRow,
    RecordRow,
    RunRow,
    LoopRow,
    LabelRow,
    ModelVersionRow,
    AnnotatorRow,
    AssignmentRow,
)

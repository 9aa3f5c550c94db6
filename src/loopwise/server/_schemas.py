"""API schemas: ``XCreate``/``XUpdate`` come in, ``XPublic`` goes out, lists are ``{data, count}``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int


class Message(BaseModel):
    detail: str


# -- users and sessions -------------------------------------------------------------------------


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # ASCII only (\w also took look-alike letters: 'аdmin' with a Cyrillic а passed for 'admin').
    name: str = Field(
        min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._@+-]+$",
        description="ASCII letters, digits and . _ @ + - only.",
    )
    role: Literal["admin", "annotator"] = "annotator"
    password: str | None = Field(None, min_length=8, max_length=1024)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=8, max_length=1024)


class UserPublic(BaseModel):
    id: int
    name: str
    role: str
    created_at: datetime
    has_password: bool
    has_token: bool


class TokenPublic(BaseModel):
    token: str = Field(description="Shown once; only its hash is stored. Send it as `Authorization: Bearer <token>`.")
    user: UserPublic


class LoginCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024)


class SessionPublic(BaseModel):
    user: UserPublic
    csrf_token: str = Field(description="Send as the X-CSRF-Token header on every POST/PATCH/DELETE made with the cookie.")


# -- projects -----------------------------------------------------------------------------------


class ProjectSettings(BaseModel):
    """How the active learner drives the queue of a project."""

    model_config = ConfigDict(extra="forbid")
    learner: str = Field("logreg", description="Built-in learner: logreg, tfidf_logreg (text), hgb (tabular).")
    strategy: str = Field("margin", description="Querying strategy, e.g. margin, entropy, random, kcenter.")
    strategy_params: dict[str, Any] = Field(default_factory=dict)
    batch_size: int = Field(20, ge=1, le=100_000, description="Records the strategy picks per loop (the queue's head).")
    retrain_every: int | None = Field(None, ge=1, le=100_000, description="Retrain after this many new labels (default: batch_size).")
    labels_per_record: int = Field(1, ge=1, le=20, description="k: annotators that label each record.")
    lease_seconds: int = Field(600, ge=5, le=7 * 24 * 3600, description="How long a served record stays reserved.")
    stopping: dict[str, Any] | None = Field(None, description="Stopping rule, e.g. {'kind': 'LabelBudget', 'budget': 500}.")
    text_field: str = Field("text", max_length=255, description="Payload field shown (and featurised) as the text of a text project.")
    seed: int = Field(0, ge=0)


class ProjectCreate(ProjectSettings):
    name: str = Field(min_length=1, max_length=255)
    task: Literal["text", "tabular", "image"]
    label_names: list[str] = Field(min_length=1, max_length=100)
    instructions: str = Field("", max_length=100_000)
    cost_per_label: float = Field(1.0, ge=0)


class ProjectUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instructions: str | None = Field(None, max_length=100_000)
    status: Literal["active", "stopped"] | None = None
    learner: str | None = None
    strategy: str | None = None
    strategy_params: dict[str, Any] | None = None
    batch_size: int | None = Field(None, ge=1, le=100_000)
    retrain_every: int | None = Field(None, ge=1, le=100_000)
    labels_per_record: int | None = Field(None, ge=1, le=20)
    lease_seconds: int | None = Field(None, ge=5, le=7 * 24 * 3600)
    stopping: dict[str, Any] | None = None


class ProjectPublic(BaseModel):
    id: int
    name: str
    task: str
    label_names: list[str]
    instructions: str
    settings: ProjectSettings
    status: str
    run_id: str
    created_at: datetime


class MemberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: int


class ImportPath(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, max_length=4096, description="Relative to the server's import folder.")
    id_column: str | None = None
    label_column: str = "label"
    split_column: str = "split"


class ImportPublic(BaseModel):
    n_read: int
    n_added: int
    n_test: int


# -- queue --------------------------------------------------------------------------------------


class RecordPublic(BaseModel):
    id: int
    external_id: str
    payload: dict[str, Any] | None
    role: str
    state: str
    n_labels: int
    lease_expires_at: datetime | None = None
    media_url: str | None = None


class QueueItemPublic(BaseModel):
    """The next record for the annotator, or ``record: null`` with the reason the queue is empty."""

    record: RecordPublic | None
    reason: str | None = None


class LabelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(min_length=1, max_length=255)


class FlagCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Literal["not_relevant", "corrupt", "other"] = "not_relevant"


class LabelPublic(BaseModel):
    id: int
    record_id: int
    external_id: str
    value: str
    annotator: str
    created_at: datetime


# -- dashboard ----------------------------------------------------------------------------------


class ProgressPublic(BaseModel):
    n_pool: int
    n_test: int
    n_done: int
    n_open: int
    n_flagged: int
    n_labels: int
    n_skips: int
    n_held: int
    n_mine: int = 0


class LoopPublic(BaseModel):
    loop_index: int
    n_labelled: int
    strategy: str
    metrics: dict[str, Any]
    timings: dict[str, Any]
    created_at: datetime


class AgreementPublic(BaseModel):
    n_records: int = Field(description="Records with two or more labels.")
    percent: float | None = Field(description="Mean share of agreeing annotator pairs per record.")
    kappa: float | None = Field(description="Fleiss' kappa over those records (chance from pooled label shares).")


class StatsPublic(BaseModel):
    progress: ProgressPublic
    labels_per_annotator: dict[str, int]
    loops: list[LoopPublic]
    evaluation: str | None
    agreement: AgreementPublic
    training: bool


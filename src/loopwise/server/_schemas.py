"""API schemas: ``XCreate``/``XUpdate`` come in, ``XPublic`` goes out, lists are ``{data, count}``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, field_validator
from pydantic.json_schema import SkipJsonSchema

T = TypeVar("T")
# The largest id a route accepts: PostgreSQL's INTEGER; past it an id names nothing and overflows the driver.
MAX_ID = 2**31 - 1


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int


class Message(BaseModel):
    detail: str


class ErrorPublic(BaseModel):
    """Every error answer: one message saying what is wrong and where."""

    detail: str


class ValidationIssue(BaseModel):
    """One input that failed validation: where (``loc``), what (``msg``) and its kind (``type``)."""

    model_config = ConfigDict(extra="allow")
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorPublic(BaseModel):
    """422: a list of issues when the request's shape is wrong, one message when its content is."""

    detail: str | list[ValidationIssue]


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
    active: bool = Field(True, description="False once an admin deactivated the user: no sign-in, no token.")


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
    learner: str = Field(
        "logreg",
        description="Built-in learner: logreg, rf, mlp (any task); hgb (tabular, image); minilm, tfidf_svd, "
        "tfidf_logreg (text). One the project's data cannot feed is refused with a 422 saying why.",
    )
    strategy: str = Field("margin", description="Querying strategy, e.g. auto, margin, entropy, random, kcenter. New projects get auto unless they name one (see ProjectCreate); margin is what a project stored without one (made before auto) keeps running.")
    strategy_params: dict[str, Any] = Field(default_factory=dict)
    batch_size: int = Field(20, ge=1, le=100_000, description="Records the strategy picks per loop (the queue's head).")
    retrain_every: int | None = Field(None, ge=1, le=100_000, description="Retrain after this many new labels (default: batch_size).")
    labels_per_record: int = Field(1, ge=1, le=20, description="k: annotators that label each record.")
    lease_seconds: int = Field(600, ge=5, le=7 * 24 * 3600, description="How long a served record stays reserved.")
    stopping: dict[str, Any] | None = Field(None, description="Stopping rule, e.g. {'kind': 'LabelBudget', 'budget': 500}.")
    text_field: str = Field("text", max_length=255, description="Payload field shown (and featurised) as the text of a text project.")
    seed: int = Field(0, ge=0)
    retrain_mode: Literal["scratch", "warm_start", "new_only"] = Field(
        "scratch",
        description="How each retrain trains: scratch (a new model on every label), warm_start (continue from the "
        "last model on every label; learners with a warm_start parameter) or new_only (continue on the new labels "
        "only; learners with partial_fit). One the learner cannot do is refused with a 422 saying why.",
    )
    initializer: str = Field(
        "random",
        max_length=64,
        description="How the queue is ordered before the first retrain: random, or a loop-0 strategy (diverse, "
        "typiclust, probcover, kcenter, ...) run on the records' features in the background once they are imported.",
    )
    hide_suggestions: bool = Field(
        False, description="Hide the model's suggested label from annotators (against anchoring); admins still see it."
    )
    consensus: Literal["majority", "dawid_skene", "crowdlab"] = Field(
        "dawid_skene",
        description="How a record's training label comes from several labels (k > 1): dawid_skene (crowd-kit), crowdlab "
        "(cleanlab, weighing annotators against a model's out-of-fold probabilities) or majority (a tie goes to the "
        "label given first). Annotator quality on the dashboard comes from the same model.",
    )
    audit: bool = Field(
        True, description="After each retrain, audit the labels (out-of-fold probabilities and cleanlab) and put the "
        "suspects in the review queue.",
    )
    audit_max: int = Field(50, ge=1, le=10_000, description="At most this many suspects per audit, most suspicious first.")
    weak_start: bool = Field(
        False, description="Before the first labels, order the queue by the strategy on a model trained on the weak "
        "labels of the project's rules (once they are applied), instead of the initializer's order.",
    )
    label_kind: Literal["single", "multi", "number", "spans"] = Field(
        "single", description="What one label is, chosen at creation: single (one class), multi (any number of the "
        "classes), number (a finite number; label_names then only name the field), spans (entity spans over the text's "
        "tokens, label_names being the entity types). The learner retrains single-class projects only.",
    )
    weak_weight: float | None = Field(
        None, ge=0, le=1, description="Train also on the weak labels of the project's rules (once they are applied), "
        "each at this weight (a person's label weighs 1; a record a person labelled trains on that label alone). "
        "Weak labels never count as labels in the budget, the loop's n_labelled or the label counts. null: off. "
        "Needs retrain_mode scratch and a learner whose fit takes sample_weight.",
    )
    auto_label_precision: float | None = Field(
        None, gt=0, lt=1, description="Auto-label at this precision target (e.g. 0.98): after each retrain, pool "
        "records nobody labelled whose predicted class the model is at least as sure of as a threshold get it as an "
        "auto-label (source auto, the model's loop index), the threshold being the lowest at which the precision on "
        "held-out human labels (the test split's gold labels, else out-of-fold over people's labels) is, with 90% "
        "confidence, at least the target. Auto-labels are never counted as people's labels; an admin accepts or "
        "overrides them. null: off.",
    )
    auto_label_weight: float | None = Field(
        1.0, ge=0, le=1, description="Auto-labels train the next models beside people's labels, each at this weight "
        "(as weak labels do; needs retrain_mode scratch and a learner whose fit takes sample_weight). null: they do not train.",
    )
    annotator_rate: float | None = Field(
        None, ge=0, le=1e6, description="What an hour of an annotator's time costs. Set, each loop's label cost is the "
        "annotators' measured time on its labels at this rate (the gap since their previous action, breaks over 5 "
        "minutes imputed); null: cost_per_label per label. The measured seconds are in the loop's ledger either way.",
    )


class ProjectCreate(ProjectSettings):
    learner: str | None = Field(  # type: ignore[assignment]  # None: the task's default, resolved on create
        None,
        description="Built-in learner (see ProjectSettings). Left out or null: minilm for text projects when "
        "the `text` extra is installed, else logreg (TF-IDF features for text).",
    )
    # None: resolved on create (auto where it can run), stored with the project.
    strategy: str | None = Field(None, description="Querying strategy (see ProjectSettings). Left out or null: auto (coverage first, then a bandit over typiclust, covered margin, margin and random, checked by a random-control slice of every batch) for single-class projects whose learner trains on features; margin for the other label kinds, raw-text learners (minilm, tfidf_svd, tfidf_logreg) and weak_start.")  # type: ignore[assignment]
    name: str = Field(min_length=1, max_length=255)
    task: Literal["text", "tabular", "image"]
    label_names: list[str] = Field(min_length=1, max_length=100)
    instructions: str = Field("", max_length=100_000)
    cost_per_label: float = Field(1.0, ge=0)


def _no_null_defaults(schema: dict[str, Any]) -> None:
    """Drop ``default: null`` from fields whose schema does not allow null (it would contradict the type)."""
    for field in schema.get("properties", {}).values():
        if field.get("default", 0) is None and "anyOf" not in field:
            del field["default"]


class ProjectUpdate(BaseModel):
    """Only the fields sent change. ``null`` is refused where it means nothing; it clears ``retrain_every``
    (back to batch_size) and ``stopping`` (no stopping rule)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_null_defaults)
    # `SkipJsonSchema[None]` keeps null out of the document: leaving a field out is how to keep it.
    instructions: Annotated[str, Field(max_length=100_000)] | SkipJsonSchema[None] = None
    status: Literal["active", "stopped"] | SkipJsonSchema[None] = None
    learner: str | SkipJsonSchema[None] = None
    strategy: str | SkipJsonSchema[None] = None
    strategy_params: dict[str, Any] | SkipJsonSchema[None] = None
    batch_size: Annotated[int, Field(ge=1, le=100_000)] | SkipJsonSchema[None] = None
    retrain_every: int | None = Field(None, ge=1, le=100_000)
    labels_per_record: Annotated[int, Field(ge=1, le=20)] | SkipJsonSchema[None] = None
    lease_seconds: Annotated[int, Field(ge=5, le=7 * 24 * 3600)] | SkipJsonSchema[None] = None
    stopping: dict[str, Any] | None = None
    hide_suggestions: bool | SkipJsonSchema[None] = None
    retrain_mode: Literal["scratch", "warm_start", "new_only"] | SkipJsonSchema[None] = None
    initializer: Annotated[str, Field(max_length=64)] | SkipJsonSchema[None] = None
    consensus: Literal["majority", "dawid_skene", "crowdlab"] | SkipJsonSchema[None] = None
    audit: bool | SkipJsonSchema[None] = None
    audit_max: Annotated[int, Field(ge=1, le=10_000)] | SkipJsonSchema[None] = None
    weak_start: bool | SkipJsonSchema[None] = None
    weak_weight: float | None = Field(None, ge=0, le=1, description="null: weak labels stop training.")
    auto_label_precision: float | None = Field(None, gt=0, lt=1, description="null: auto-labelling stops (the auto-labels given stay).")
    auto_label_weight: float | None = Field(None, ge=0, le=1, description="null: auto-labels stop training.")
    annotator_rate: float | None = Field(None, ge=0, le=1e6, description="null: price labels by cost_per_label again.")
    archived: bool | SkipJsonSchema[None] = Field(None, description="Archive (true) or restore (false) the project.")
    cost_per_label: Annotated[float, Field(ge=0, le=1e9)] | SkipJsonSchema[None] = None

    @field_validator(
        "instructions", "status", "learner", "strategy", "strategy_params", "batch_size", "labels_per_record",
        "lease_seconds", "hide_suggestions", "retrain_mode", "initializer", "archived", "cost_per_label", "consensus", "audit",
        "audit_max", "weak_start", mode="before",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Runs only on values sent (defaults are not validated), so only an explicit null lands here.
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value


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
    archived: bool = Field(False, description="Archived: kept, but hidden from annotators and not served.")
    cost_per_label: float = 1.0


class MemberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: int = Field(ge=1, le=MAX_ID)


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
    n_labels: int = Field(0, description="Labels the file carried for its pool records; each is a label event unless its annotator already had one on the record.")
    n_predictions: int = Field(0, description="Model predictions in the file (Label Studio): read and checked, not stored.")


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


class ClassProbability(BaseModel):
    label: str
    probability: float


class SuggestionPublic(BaseModel):
    """The model's prediction for a record, from the retrain that last ranked it."""

    label: str = Field(description="The predicted class.")
    probability: float = Field(description="Its predicted probability.")
    top: list[ClassProbability] = Field(description="The most probable classes, most probable first.")
    loop_index: int = Field(description="The loop (retrain) whose model predicted it.")


class ChosenPublic(BaseModel):
    """Why the queue served this record: the strategy that ranked it, its score and its rank."""

    strategy: str
    score: float | None = Field(description="The strategy's score; null past its batch (random order there).")
    rank: int = Field(description="1-based position in the ranking that retrain wrote.")
    loop_index: int
    summary: str = Field(description="All of it in one line, for people.")


class BrowsedLabelPublic(BaseModel):
    annotator: str
    value: str
    created_at: datetime


class BrowsedRecordPublic(RecordPublic):
    """A record in the admins' browser: also its labels in force and the adjudicated label, if any."""

    labels: list[BrowsedLabelPublic] = Field(default_factory=list)
    adjudicated: str | None = None
    predicted: str | None = Field(None, description="The class the last retrain predicts for the record.")
    confidence: float | None = Field(None, description="That prediction's probability.")


class HistoryEntryPublic(BaseModel):
    """One event of a record: label, skip, flag, undo, or adjudicate (an admin's decision)."""

    id: int
    kind: str
    annotator: str
    value: str | None
    reason: str | None
    created_at: datetime
    undone: bool


class AdjudicationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(min_length=1, max_length=255, description="The class that wins over the annotators' labels.")


class QueueItemPublic(BaseModel):
    """The next record for the annotator, or ``record: null`` with the reason the queue is empty."""

    record: RecordPublic | None
    reason: str | None = None
    suggestion: SuggestionPublic | None = Field(
        None, description="Null before the first retrain, or for annotators when the project hides suggestions."
    )
    chosen: ChosenPublic | None = Field(None, description="Null until a retrain has ranked the record.")
    my_label: str | None = Field(None, description="Your label in force on this record, if any.")
    undone: Literal["label", "skip", "flag"] | None = Field(None, description="After an undo: what was undone.")


class HistoryItemPublic(BaseModel):
    """One of your actions, newest first; ``state`` says whether it still holds."""

    event_id: int
    kind: Literal["label", "skip", "flag"]
    record_id: int
    external_id: str
    value: str | None = Field(description="The label given (labels only).")
    reason: str | None = Field(description="Why it was flagged (flags only).")
    state: Literal["current", "undone", "replaced"]
    created_at: datetime


class SpanCreate(BaseModel):
    """One entity: characters ``start:end`` (end exclusive) of the record's text, on token boundaries, of type ``label``."""

    model_config = ConfigDict(extra="forbid")
    start: int
    end: int
    label: str = Field(min_length=1, max_length=255)


class LabelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: (
        Annotated[str, Field(min_length=1, max_length=255)]
        | Annotated[list[Annotated[str, Field(max_length=255)]], Field(max_length=100)]
        | StrictFloat  # strict: true is not the number 1
        | Annotated[list[SpanCreate], Field(max_length=1000)]
    ) = Field(
        description="By the project's label_kind: single, one class; multi, a list of its classes (may be empty); "
        "number, a finite number; spans, a list of {start, end, label} character spans on token boundaries."
    )


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
    n_auto: int = Field(0, description="Pool records whose auto-label is in force (no person's label yet); in none of "
                        "the other counts (done, labels, per annotator).")


class LoopPublic(BaseModel):
    loop_index: int
    n_labelled: int
    strategy: str
    metrics: dict[str, Any]
    timings: dict[str, Any]
    created_at: datetime
    selection: dict[str, Any] = Field(default_factory=dict, description="What the strategy said about the batch it chose this loop ({} if nothing). auto: arm, reason, values (each arm's estimated value), n_slice (its random-control slice), slice_accuracy, active_losing (true: from labels alone the active picks lose to random; null: no verdict yet), active_vs_random ({diff, low, high, n_active, n_random}: mean reward of active minus random loops, 90% interval), and how the slice fared in the queue (n_slice_labelled, n_past_proposal, n_active_labelled).")


class AgreementPublic(BaseModel):
    n_records: int = Field(description="Records with two or more labels.")
    percent: float | None = Field(description="Mean share of agreeing annotator pairs per record.")
    kappa: float | None = Field(description="Fleiss' kappa over those records (chance from pooled label shares).")


class RetrainErrorPublic(BaseModel):
    """The last retrain that failed, until one succeeds; the queue keeps the last good ranking meanwhile."""

    message: str = Field(description="What went wrong, e.g. the learner's own error.")
    failed_at: datetime
    n_labelled: int = Field(description="Records labelled when it failed.")


class ReviewCountsPublic(BaseModel):
    """The review queue: labels the audits doubted, by what became of them."""

    n_open: int = Field(0, description="Waiting for a reviewer.")
    n_kept: int = Field(0, description="A reviewer kept the label.")
    n_changed: int = Field(0, description="A reviewer changed it (the new label wins in training and export).")
    n_withdrawn: int = Field(0, description="A later audit no longer doubted it.")


class AnnotatorQualityPublic(BaseModel):
    """An annotator's quality as the project's consensus model estimates it (from the last retrain)."""

    annotator: str
    quality: float | None = Field(description="Dawid-Skene: the chance a label of theirs is right; CROWDLAB: its "
                                  "annotator quality; majority: agreement. Null where no record has two labels.")
    agreement: float | None = Field(description="Share of their labels on records with 2+ labels that match the consensus.")
    n_labels: int


class ConsensusPublic(BaseModel):
    method: str | None = Field(description="The consensus model of the last retrain (null before one).")
    loop_index: int | None
    n_records: int = Field(description="Labelled records it gave a training label.")
    n_uncertain: int = Field(description="Of those, with a consensus confidence under 0.8.")
    annotators: list[AnnotatorQualityPublic]


class AutoLabelCountsPublic(BaseModel):
    """The auto-labels (source auto) by what became of them, and how the last retrain that labelled chose its threshold."""

    n_auto: int = Field(0, description="In force: no person has labelled the record.")
    n_accepted: int = Field(0, description="A person accepted the class (their label supersedes the auto-label).")
    n_overridden: int = Field(0, description="A person gave another class (their label supersedes it).")
    n_retired: int = Field(0, description="The record left the auto state otherwise (flagged, or a label imported).")
    last: dict[str, Any] | None = Field(None, description="The latest retrain's auto-labelling: loop_index, "
                                        "n_auto_labelled, threshold (null: none reached the target), calibration (test "
                                        "or out_of_fold), n_calibration, calibration_precision, n_candidates.")


class StatsPublic(BaseModel):
    progress: ProgressPublic
    labels_per_annotator: dict[str, int]
    loops: list[LoopPublic]
    evaluation: str | None
    agreement: AgreementPublic
    training: bool
    last_retrain_error: RetrainErrorPublic | None = Field(
        None, description="Set while the latest retrain has failed; POST .../retrain (admins) tries again."
    )
    review: ReviewCountsPublic = Field(default_factory=ReviewCountsPublic)
    auto_labels: AutoLabelCountsPublic = Field(default_factory=lambda: AutoLabelCountsPublic())
    consensus: ConsensusPublic | None = Field(None, description="Training labels and annotator quality of the last retrain.")
    active_losing: list[int] = Field(default_factory=list, description="Loops whose strategy (auto) said, from labels alone, that its active picks were losing to its random-control slice; the dashboard warns while there are any.")


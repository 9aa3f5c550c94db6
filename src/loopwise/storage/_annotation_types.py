"""What the annotation repository hands out and takes in: plain dataclasses, its errors and name checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from loopwise.errors import ConfigError, LoopwiseError

from ._annotation_import import ImportedLabel
from ._annotation_models import AnnotationRecordRow
from ._models import RecordRow

if TYPE_CHECKING:
    from ._annotation_notes import QueueNote

# The value of the label row that an undo appends: labels are append-only, so taking a label back
# is a new row that supersedes it. It can never be a class name (see check_label_names).
RETRACTED = "<retracted>"
# What a user name may hold: ASCII, so no look-alike letter (a Cyrillic а) passes for another name.
USER_NAME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@+-")


class ConflictError(LoopwiseError, RuntimeError):
    """The request clashes with the current state: the record is held, labelled, or flagged."""


@dataclass(frozen=True)
class NewRecords:
    """Records to import: one entry per record in each list (``gold`` is the label of a test record)."""

    external_ids: Sequence[str]
    payloads: Sequence[dict[str, Any] | None]
    roles: Sequence[str] | None = None
    gold: Sequence[str | None] | None = None
    # Labels the imported file carries (see _annotation_import), written in the same transaction.
    labels: Sequence[ImportedLabel] = ()


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    name: str
    role: str
    created_at: datetime
    has_password: bool
    has_token: bool
    active: bool = True


@dataclass(frozen=True, slots=True)
class AnnotationProjectInfo:
    id: int
    name: str
    task: str
    label_names: list[str]
    instructions: str
    settings: dict[str, Any]
    status: str
    run_id: str
    created_at: datetime
    archived: bool = False
    cost_per_label: float = 1.0

    @property
    def label_kind(self) -> str:
        """What one label is: ``single`` (one class, the stored value is the class name), or ``multi``, ``number``
        and ``spans``, whose values are stored as canonical JSON text checked by the server."""
        return str(self.settings.get("label_kind", "single"))


@dataclass(frozen=True, slots=True)
class QueueRecord:
    """A record as an annotator sees it, with the lease that reserves it for them."""

    record_id: int
    external_id: str
    payload: dict[str, Any] | None
    role: str
    state: str
    n_labels: int
    lease_expires_at: datetime | None
    # The last retrain's note on the record, when it was read with it (a lease reads both in one
    # statement); with ``noted`` False it was not, and NoteQueries.queue_note reads it.
    note: QueueNote | None = None
    noted: bool = False


@dataclass(frozen=True, slots=True)
class LabelAck:
    label_id: int
    event_id: int
    record_id: int
    external_id: str
    value: str
    annotator: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CurrentLabel:
    record_id: int
    external_id: str
    annotator: str
    value: str
    label_id: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Progress:
    n_pool: int
    n_test: int
    n_done: int
    n_open: int
    n_flagged: int
    n_labels: int
    n_skips: int
    n_held: int
    labels_per_annotator: dict[str, int]
    n_auto: int = 0  # pool records whose auto-label is in force (no person's label yet): in none of the counts above


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    record_id: int
    external_id: str
    payload: dict[str, Any] | None
    role: str
    gold: str | None
    state: str
    n_labels: int
    rank: int


@dataclass(frozen=True, slots=True)
class BrowsedRecord:
    """A record in the admin's browser: its queue state, the labels in force, and the adjudicated label if any."""

    record_id: int
    external_id: str
    payload: dict[str, Any] | None
    role: str
    state: str
    n_labels: int
    labels: list[CurrentLabel]
    adjudicated: str | None
    predicted: str | None = None
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One thing that happened to a record: a label, skip, flag, undo, or an admin's adjudication."""

    id: int
    kind: str
    annotator: str
    value: str | None
    reason: str | None
    created_at: datetime
    undone: bool


def check_label_names(label_names: Sequence[str]) -> list[str]:
    if isinstance(label_names, str) or not isinstance(label_names, Sequence) or not label_names:
        raise ConfigError(f"label_names must be a non-empty list of class names, got {label_names!r}")
    names = [str(name).strip() for name in label_names]
    for index, name in enumerate(names):
        if not name or len(name) > 255:
            raise ConfigError(f"label_names[{index}] must be 1 to 255 characters, got {label_names[index]!r}")
        if name == RETRACTED:
            raise ConfigError(f"{RETRACTED!r} is reserved (it marks an undone label); choose another class name")
    if len(set(names)) != len(names):
        raise ConfigError(f"label_names lists a class more than once: {names}")
    return names


def queue_record(record: RecordRow, state: AnnotationRecordRow, expires: datetime | None) -> QueueRecord:
    """A record and its queue row as an annotator sees them, with the lease that expires at ``expires``."""
    return QueueRecord(
        record_id=record.id, external_id=record.external_id, payload=record.payload, role=state.role,
        state=state.state, n_labels=state.n_labels, lease_expires_at=expires,
    )


"""Labels that arrive with imported records (another tool's export, loopwise's own): written as label events.

An imported label is a label like any other (a label row plus a 'label' event, so the history,
undo, agreement and training all see it), marked by its event's reason ``import``. Its
annotator becomes a user of that name if none exists: an annotator without a password or token,
who cannot sign in until an admin gives them one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from loopwise.errors import DataError

from ._annotation_models import AnnotationEventRow, AnnotationRecordRow, not_undone
from ._models import AnnotatorRow, LabelRow, RecordRow

_CHUNK = 500
# The reason of an imported label's event: what tells it from one given in this server.
IMPORT_REASON = "import"
_NAME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@+-")


@dataclass(frozen=True)
class ImportedLabel:
    """A label found in an imported file, given by ``annotator`` (a user name) at ``created_at``."""

    external_id: str
    value: str
    annotator: str
    created_at: datetime | None = None


def insert_imported_labels(
    session: Session, project_id: int, run_id: str, labels: Sequence[ImportedLabel], *, k: int,
    label_names: Sequence[str], reason: str, now: datetime, single: bool = True,
) -> int:
    """Write ``labels`` onto the project's pool records in this transaction; returns how many were new.

    A label its annotator already has in force on the record is skipped, so importing the same
    file twice adds nothing. Refused (DataError, nothing written) when a label names a record the
    project lacks or a class it does not have.
    """
    if not labels:
        return 0
    for label in labels:
        if single and label.value not in label_names:  # other label kinds come checked by the server
            raise DataError(f"record {label.external_id!r}: label {label.value!r} is not one of {list(label_names)}")
        if not label.annotator or len(label.annotator) > 255 or set(label.annotator) - _NAME_CHARACTERS:
            raise DataError(f"record {label.external_id!r}: annotator {label.annotator!r} cannot be a user name")
    records = _records(session, project_id, sorted({label.external_id for label in labels}))
    users = _users(session, sorted({label.annotator for label in labels}), now)
    in_force = _in_force(session, project_id, [rid for rid, _, _ in records.values()])
    before = {rid: n for rid, n, _ in records.values()}
    counts = dict(before)
    written = 0
    for label in labels:
        found = records.get(label.external_id)
        if found is None:
            raise DataError(f"record {label.external_id!r}: the project has no such record to label")
        record_id, _, role = found
        if role != "pool":
            continue
        user_id = users[label.annotator]
        if (record_id, user_id) in in_force:
            continue
        head = session.scalar(
            select(func.max(LabelRow.id)).where(
                LabelRow.record_id == record_id, LabelRow.run_id == run_id, LabelRow.annotator == label.annotator
            )
        )
        created = label.created_at.astimezone(UTC) if label.created_at else now
        label_id = session.execute(
            insert(LabelRow).returning(LabelRow.id),
            [{"record_id": record_id, "run_id": run_id, "value": label.value, "source": "human",
              "annotator": label.annotator, "created_at": created, "supersedes_id": head}],
        ).scalar_one()
        session.execute(
            insert(AnnotationEventRow),
            [{"project_id": project_id, "record_id": record_id, "annotator_id": user_id, "kind": "label",
              "label_id": label_id, "reason": reason, "created_at": created}],
        )
        in_force.add((record_id, user_id))
        counts[record_id] += 1
        written += 1
    for record_id, n_labels in counts.items():
        if n_labels != before[record_id]:
            session.execute(
                update(AnnotationRecordRow)
                .where(AnnotationRecordRow.record_id == record_id, AnnotationRecordRow.state != "flagged")
                .values(n_labels=n_labels, state="done" if n_labels >= k else "open")
            )
    return written


def _records(session: Session, project_id: int, external_ids: list[str]) -> dict[str, tuple[int, int, str]]:
    """external id -> (record id, labels it has, role) for those of the project's records."""
    found: dict[str, tuple[int, int, str]] = {}
    for start in range(0, len(external_ids), _CHUNK):
        rows = session.execute(
            select(RecordRow.external_id, RecordRow.id, AnnotationRecordRow.n_labels, AnnotationRecordRow.role)
            .join(AnnotationRecordRow, AnnotationRecordRow.record_id == RecordRow.id)
            .where(RecordRow.project_id == project_id, RecordRow.external_id.in_(external_ids[start:start + _CHUNK]))
        )
        found.update({str(e): (int(i), int(n), str(r)) for e, i, n, r in rows})
    return found


def _users(session: Session, names: list[str], now: datetime) -> dict[str, int]:
    """name -> user id, creating an annotator (no password, no token) for each name not yet a user."""
    query = select(AnnotatorRow.name, AnnotatorRow.id).where(AnnotatorRow.name.in_(names))
    existing = {str(name): int(user_id) for name, user_id in session.execute(query)}
    missing = [name for name in names if name not in existing]
    if missing:
        session.execute(
            insert(AnnotatorRow), [{"name": name, "role": "annotator", "token_hash": None, "created_at": now} for name in missing]
        )
        existing = {str(name): int(user_id) for name, user_id in session.execute(query)}
    return existing


def _in_force(session: Session, project_id: int, record_ids: list[int]) -> set[tuple[int, int]]:
    """(record id, user id) of every label in force (not undone) on these records."""
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(record_ids), _CHUNK):
        rows = session.execute(
            select(AnnotationEventRow.record_id, AnnotationEventRow.annotator_id).where(
                AnnotationEventRow.project_id == project_id,
                AnnotationEventRow.kind == "label",
                AnnotationEventRow.record_id.in_(record_ids[start:start + _CHUNK]),
                not_undone(),
            )
        )
        pairs.update((int(r), int(u)) for r, u in rows)
    return pairs

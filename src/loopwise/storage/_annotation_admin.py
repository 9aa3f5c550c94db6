"""The admin console's database work: deactivating users, archiving, the record browser, history, adjudication."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Text, cast, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from loopwise.errors import DataError, NotFoundError

from ._annotation_base import AnnotationBase
from ._annotation_models import (
    AdjudicationRow,
    AnnotationEventRow,
    AnnotationProjectRow,
    AnnotationRecordRow,
    not_undone,
)
from ._annotation_types import BrowsedRecord, ConflictError, CurrentLabel, HistoryEntry
from ._models import AnnotatorRow, AssignmentRow, LabelRow, ProjectRow, RecordRow
from ._util import as_utc as _utc
from ._util import utc_now as _now

RecordStatus = Literal["labelled", "unlabelled", "flagged", "disagreed", "adjudicated"]
RECORD_STATUSES: tuple[str, ...] = ("labelled", "unlabelled", "flagged", "disagreed", "adjudicated")


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """What the record browser asks for; every field left at None matches every record."""

    query: str | None = None
    status: str | None = None
    label: str | None = None
    annotator: str | None = None
    predicted: str | None = None  # the class the last retrain predicts for the record
    max_confidence: float | None = None  # the prediction's probability is at most this ("where the model is unsure")


class AdminQueries(AnnotationBase):
    """What the admin console reads and changes."""

    # -- users and projects ----------------------------------------------------------------------

    def set_user_active(self, user_id: int, active: bool) -> None:
        """Deactivate (revoking the token and freeing the user's leases) or reactivate a user."""
        with self._write() as session:
            row = session.get(AnnotatorRow, user_id)
            if row is None:
                raise NotFoundError(f"no user with id {user_id}")
            if active:
                row.deactivated_at = None
            else:
                row.deactivated_at = row.deactivated_at or _now()
                row.token_hash = None
                session.execute(delete(AssignmentRow).where(AssignmentRow.annotator_id == user_id))

    def set_project_admin_fields(
        self, project_id: int, *, archived: bool | None = None, cost_per_label: float | None = None
    ) -> None:
        """Archive or unarchive a project, and set what one label costs."""
        with self._write(project_id) as session:
            row = session.get(AnnotationProjectRow, project_id)
            project = session.get(ProjectRow, project_id)
            if row is None or project is None:
                raise NotFoundError(f"no project with id {project_id}")
            if archived is not None:
                row.archived_at = (row.archived_at or _now()) if archived else None
            if cost_per_label is not None:
                project.cost_per_label = float(cost_per_label)

    # -- the record browser ----------------------------------------------------------------------

    def browse_records(
        self, project_id: int, where: RecordFilter, offset: int = 0, limit: int = 50
    ) -> tuple[list[BrowsedRecord], int]:
        """One page of the project's records that match ``where``, in record id order, and how many match."""
        if where.status is not None and where.status not in RECORD_STATUSES:
            raise DataError(f"status must be one of {', '.join(RECORD_STATUSES)}; got {where.status!r}")
        labels = _in_force(project_id).subquery()
        conditions: list[Any] = [AnnotationRecordRow.project_id == project_id]
        if where.query:
            needle = where.query.lower()
            payload = func.lower(cast(RecordRow.payload, Text))
            # Payloads are stored as JSON text with non-ASCII letters escaped (\u00e9): match that spelling too.
            escaped = json.dumps(needle)[1:-1]
            conditions.append(
                or_(
                    func.lower(RecordRow.external_id).contains(needle, autoescape=True),
                    payload.contains(needle, autoescape=True),
                    payload.contains(escaped, autoescape=True),
                )
            )
        has_label = exists().where(labels.c.record_id == AnnotationRecordRow.record_id)
        adjudicated = exists().where(
            AdjudicationRow.record_id == AnnotationRecordRow.record_id, AdjudicationRow.project_id == project_id
        )
        distinct_values = (
            select(func.count(func.distinct(labels.c.value)))
            .where(labels.c.record_id == AnnotationRecordRow.record_id)
            .scalar_subquery()
        )
        if where.status == "labelled":
            conditions += [AnnotationRecordRow.role == "pool", has_label]
        elif where.status == "unlabelled":
            conditions += [AnnotationRecordRow.role == "pool", AnnotationRecordRow.state != "flagged", ~has_label]
        elif where.status == "flagged":
            conditions.append(AnnotationRecordRow.state == "flagged")
        elif where.status == "disagreed":
            conditions.append(distinct_values > 1)
        elif where.status == "adjudicated":
            conditions.append(adjudicated)
        # With both, one label must match both: "records ann labelled neg".
        by_label = [labels.c.value == where.label] if where.label is not None else []
        by_annotator = [labels.c.annotator == where.annotator] if where.annotator is not None else []
        if by_label or by_annotator:
            conditions.append(exists().where(labels.c.record_id == AnnotationRecordRow.record_id, *by_label, *by_annotator))
        if where.max_confidence is not None:
            conditions.append(AnnotationRecordRow.confidence <= where.max_confidence)
        with self._sessions() as session:
            project = session.get(ProjectRow, project_id)
            if project is None:
                raise NotFoundError(f"no project with id {project_id}")
            label_names = list(project.label_names)
            if where.predicted is not None:
                if where.predicted not in label_names:
                    raise DataError(f"predicted must be one of the project's classes ({', '.join(label_names)}); got {where.predicted!r}")
                conditions.append(AnnotationRecordRow.predicted == label_names.index(where.predicted))
            base = (
                select(RecordRow, AnnotationRecordRow)
                .join(AnnotationRecordRow, AnnotationRecordRow.record_id == RecordRow.id)
                .where(*conditions)
            )
            count = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
            rows = session.execute(base.order_by(RecordRow.id).offset(offset).limit(limit)).all()
            external = {record.id: record.external_id for record, _ in rows}
            ids = list(external)
            by_record: dict[int, list[CurrentLabel]] = {}
            if ids:
                found = session.execute(
                    _in_force(project_id).where(AnnotationEventRow.record_id.in_(ids)).order_by(AnnotationEventRow.id)
                )
                for record_id, annotator, value, label_id, created_at in found:
                    by_record.setdefault(int(record_id), []).append(
                        CurrentLabel(int(record_id), external[int(record_id)], str(annotator), str(value), int(label_id), _utc(created_at))
                    )
            decided = {record_id: label.value for record_id, label in latest_adjudications(session, project_id, ids).items()}
        return [
            BrowsedRecord(
                record.id, record.external_id, record.payload, state.role, state.state, state.n_labels,
                by_record.get(record.id, []), decided.get(record.id),
                None if state.predicted is None else label_names[state.predicted], state.confidence,
            )
            for record, state in rows
        ], count

    def record_history(self, project_id: int, record_id: int) -> list[HistoryEntry]:
        """Everything that happened to one record, oldest first (undone events are kept, marked undone)."""
        with self._sessions() as session:
            state = session.get(AnnotationRecordRow, record_id)
            if state is None or state.project_id != project_id:
                raise NotFoundError(f"project {project_id} has no record {record_id}")
            events = session.execute(
                select(
                    AnnotationEventRow.id, AnnotationEventRow.kind, AnnotatorRow.name, LabelRow.value,
                    AnnotationEventRow.reason, AnnotationEventRow.created_at,
                    (~not_undone()).label("undone"),
                )
                .join(AnnotatorRow, AnnotatorRow.id == AnnotationEventRow.annotator_id)
                .outerjoin(LabelRow, LabelRow.id == AnnotationEventRow.label_id)
                .where(AnnotationEventRow.record_id == record_id)
            ).all()
            decisions = session.execute(
                select(AdjudicationRow.id, AnnotatorRow.name, LabelRow.value, AdjudicationRow.created_at)
                .join(AnnotatorRow, AnnotatorRow.id == AdjudicationRow.annotator_id)
                .join(LabelRow, LabelRow.id == AdjudicationRow.label_id)
                .where(AdjudicationRow.record_id == record_id)
            ).all()
        entries = [
            HistoryEntry(int(i), str(kind), str(name), None if value is None else str(value), reason, _utc(at), bool(gone))
            for i, kind, name, value, reason, at, gone in events
        ]
        entries += [
            HistoryEntry(int(i), "adjudicate", str(name), str(value), None, _utc(at), False)
            for i, name, value, at in decisions
        ]
        return sorted(entries, key=lambda entry: (entry.created_at, entry.kind == "adjudicate", entry.id))

    # -- adjudication ----------------------------------------------------------------------------

    def adjudicate(self, project_id: int, record_id: int, admin_id: int, admin_name: str, value: str) -> HistoryEntry:
        """Decide a record's label: a new label row (the admin's) that wins over the annotators' in training and export."""
        now = _now()
        with self._write(project_id) as session:
            project = session.get(ProjectRow, project_id)
            settings = session.get(AnnotationProjectRow, project_id)
            if project is None or settings is None:
                raise NotFoundError(f"no project with id {project_id}")
            if value not in project.label_names:
                raise DataError(f"label {value!r} is not a class of this project; classes: {list(project.label_names)}")
            state = session.get(AnnotationRecordRow, record_id)
            if state is None or state.project_id != project_id:
                raise NotFoundError(f"project {project_id} has no record {record_id}")
            if session.scalar(select(func.count()).select_from(_in_force(project_id).where(
                AnnotationEventRow.record_id == record_id
            ).subquery())) == 0:
                raise ConflictError(f"record {record_id} has no labels to adjudicate; label it instead")
            head = session.scalar(
                select(func.max(LabelRow.id)).where(
                    LabelRow.record_id == record_id, LabelRow.run_id == settings.run_id, LabelRow.annotator == admin_name
                )
            )
            label = LabelRow(
                record_id=record_id, run_id=settings.run_id, value=value, source="human", annotator=admin_name,
                created_at=now, supersedes_id=head,
            )
            session.add(label)
            session.flush()
            decision = AdjudicationRow(
                project_id=project_id, record_id=record_id, annotator_id=admin_id, label_id=label.id, created_at=now
            )
            session.add(decision)
            session.flush()
            entry = HistoryEntry(int(decision.id), "adjudicate", admin_name, value, None, now, False)
        self.sync()
        return entry


def latest_adjudications(
    session: Session, project_id: int, record_ids: Sequence[int] | None = None
) -> dict[int, CurrentLabel]:
    """The latest adjudication of each adjudicated record of the project (of ``record_ids`` only, if given)."""
    latest = (
        select(func.max(AdjudicationRow.id))
        .where(AdjudicationRow.project_id == project_id)
        .group_by(AdjudicationRow.record_id)
    )
    if record_ids is not None:
        if not record_ids:
            return {}
        latest = latest.where(AdjudicationRow.record_id.in_(record_ids))
    rows = session.execute(
        select(
            AdjudicationRow.record_id, RecordRow.external_id, AnnotatorRow.name, LabelRow.value, LabelRow.id,
            LabelRow.created_at,
        )
        .join(RecordRow, RecordRow.id == AdjudicationRow.record_id)
        .join(AnnotatorRow, AnnotatorRow.id == AdjudicationRow.annotator_id)
        .join(LabelRow, LabelRow.id == AdjudicationRow.label_id)
        .where(AdjudicationRow.id.in_(latest))
    )
    return {
        int(r): CurrentLabel(int(r), str(e), str(a), str(v), int(i), _utc(c)) for r, e, a, v, i, c in rows
    }


def apply_adjudications(labels: Sequence[CurrentLabel], decided: dict[int, CurrentLabel]) -> list[CurrentLabel]:
    """The labels in force with each adjudicated record's annotator labels replaced by its one decided label.

    ``labels`` are oldest first; the decided label takes the place of the record's first one, so the
    order stays by first label.
    """
    if not decided:
        return list(labels)
    out: list[CurrentLabel] = []
    placed: set[int] = set()
    for label in labels:
        decision = decided.get(label.record_id)
        if decision is None:
            out.append(label)
        elif label.record_id not in placed:
            placed.add(label.record_id)
            out.append(decision)
    return out


def _in_force(project_id: int) -> Any:
    """(record id, annotator, value, label id, created at) of every annotator label in force in the project."""
    return (
        select(
            AnnotationEventRow.record_id.label("record_id"), AnnotatorRow.name.label("annotator"),
            LabelRow.value.label("value"), LabelRow.id.label("label_id"), LabelRow.created_at.label("created_at"),
        )
        .join(LabelRow, LabelRow.id == AnnotationEventRow.label_id)
        .join(AnnotatorRow, AnnotatorRow.id == AnnotationEventRow.annotator_id)
        .where(
            AnnotationEventRow.project_id == project_id,
            AnnotationEventRow.kind == "label",
            not_undone(),
        )
    )


__all__ = [
    "RECORD_STATUSES", "AdminQueries", "RecordFilter", "apply_adjudications", "latest_adjudications",
]

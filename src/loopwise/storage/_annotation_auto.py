"""Auto-labels: label rows a confident model gave to pool records nobody labelled, and people's review of them.

An auto-label is a label row with source ``auto``, no annotator, the loop index of the run's model that gave
it (``model_version``, its ``model_versions`` row) and that model's probability of the value (``confidence``).
It has no annotation event, so it is in none of the counts read from events (labels per annotator, label
time, undo) nor in the records' ``n_labels`` (the done counts, the label budget, the retrain trigger). Its
record moves to state ``auto``, out of the queue's walk. A person's decision on it (accept: the same class,
override: another) is that person's label, a new row that supersedes the auto one; the record then counts as
labelled by them, and the auto row stays in the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, aliased

from loopwise.errors import DataError, NotFoundError

from ._annotation_base import AnnotationBase
from ._annotation_models import AnnotationEventRow, AnnotationProjectRow, AnnotationRecordRow
from ._annotation_types import ConflictError, UserInfo
from ._models import AssignmentRow, LabelRow, ProjectRow, RecordRow
from ._util import as_utc, utc_now

AUTO = "auto"
# What became of an auto-label: in force, a person accepted it or overrode it, or the record left the auto
# state another way (flagged, or a label imported onto it).
AUTO_STATUSES = ("auto", "accepted", "overridden", "retired")


@dataclass(frozen=True, slots=True)
class AutoLabel:
    """An auto-label row and what became of it (``decided``/``reviewer``: the person's label that superseded it)."""

    label_id: int
    record_id: int
    external_id: str
    payload: dict[str, Any] | None
    value: str
    confidence: float | None
    model_version: int | None
    created_at: datetime
    status: str
    reviewer: str | None
    decided: str | None


class AutoLabelQueries(AnnotationBase):
    """The auto-labels' database work: a retrain's labels in, the review list and people's decisions out."""

    def store_auto_labels(self, project_id: int, loop_index: int, labels: Sequence[tuple[int, str, float]]) -> int:
        """Write ``(record id, value, confidence)`` auto-labels of the model of loop ``loop_index``; returns how many.

        Only records still open with no label and no live lease take one (what an annotator holds or labelled
        since the retrain read the pool keeps going to people); each moves to state ``auto``.
        """
        if not labels:
            return 0
        now = utc_now()
        with self._write(project_id) as session:
            settings = session.get(AnnotationProjectRow, project_id)
            if settings is None:
                raise NotFoundError(f"no annotation project with id {project_id}")
            wanted = {int(r): (str(v), float(c)) for r, v, c in labels}
            held = select(AssignmentRow.record_id).where(AssignmentRow.expires_at > now)
            free = [int(r) for r in session.scalars(
                select(AnnotationRecordRow.record_id).where(
                    AnnotationRecordRow.project_id == project_id, AnnotationRecordRow.record_id.in_(list(wanted)),
                    AnnotationRecordRow.role == "pool", AnnotationRecordRow.state == "open",
                    AnnotationRecordRow.n_labels == 0, AnnotationRecordRow.record_id.not_in(held),
                )
            )]
            if not free:
                return 0
            heads = _unsuperseded_auto(session, settings.run_id, free)
            session.execute(insert(LabelRow), [
                {"record_id": r, "run_id": settings.run_id, "value": wanted[r][0], "source": AUTO, "annotator": None,
                 "created_at": now, "supersedes_id": heads.get(r), "model_version": int(loop_index),
                 "confidence": wanted[r][1]}
                for r in free
            ])
            session.execute(
                update(AnnotationRecordRow).where(AnnotationRecordRow.record_id.in_(free)).values(state=AUTO)
            )
        self.sync()
        return len(free)

    def auto_labels_in_force(self, project_id: int) -> dict[int, str]:
        """Record id -> the value of its auto-label in force (records in state ``auto``): what the next model trains on."""
        with self._sessions() as session:
            settings = session.get(AnnotationProjectRow, project_id)
            if settings is None:
                raise NotFoundError(f"no annotation project with id {project_id}")
            rows = session.execute(_latest_auto(project_id, settings.run_id, in_force=True)).all()
            return {int(row.record_id): str(row.value) for row in rows}

    def auto_labels(
        self, project_id: int, status: str | None = AUTO, offset: int = 0, limit: int = 50
    ) -> tuple[list[AutoLabel], int]:
        """One page of the project's auto-label rows of ``status`` (None: all), least confident first, and how many match."""
        if status is not None and status not in AUTO_STATUSES:
            raise DataError(f"status must be one of {', '.join(AUTO_STATUSES)}; got {status!r}")
        with self._sessions() as session:
            settings = session.get(AnnotationProjectRow, project_id)
            if settings is None:
                raise NotFoundError(f"no annotation project with id {project_id}")
            rows = [_auto_label(row) for row in session.execute(_listing(project_id, settings.run_id))]
        found = [row for row in rows if status is None or row.status == status]
        found.sort(key=lambda row: (row.confidence if row.confidence is not None else 0.0, row.label_id))
        return found[offset: offset + limit], len(found)

    def auto_label_counts(self, project_id: int) -> dict[str, int]:
        """How many auto-label rows of the project are in each of :data:`AUTO_STATUSES` (no payloads read: the dashboard polls it)."""
        counts = dict.fromkeys(AUTO_STATUSES, 0)
        with self._sessions() as session:
            settings = session.get(AnnotationProjectRow, project_id)
            if settings is None:
                raise NotFoundError(f"no annotation project with id {project_id}")
            for row in session.execute(_listing(project_id, settings.run_id, with_records=False)):
                counts[_status(row.value, row.state, row.decided, row.decided_source, row.latest)] += 1
        return counts

    def review_auto_label(
        self, project_id: int, record_id: int, reviewer: UserInfo, value: str | None, k: int
    ) -> AutoLabel:
        """Accept a record's auto-label (``value`` None or the same class) or override it with ``value``.

        Either way the reviewer's label row supersedes the auto one, with an annotation event of theirs: a
        person's label from then on, in training, exports and the counts.
        """
        now = utc_now()
        with self._write(project_id) as session:
            settings = session.get(AnnotationProjectRow, project_id)
            project = session.get(ProjectRow, project_id)
            state = session.get(AnnotationRecordRow, record_id)
            if settings is None or project is None or state is None or state.project_id != project_id:
                raise NotFoundError(f"project {project_id} has no record {record_id}")
            if value is not None and value not in project.label_names:
                raise DataError(f"label {value!r} is not a class of this project; classes: {list(project.label_names)}")
            if state.state != AUTO:
                raise ConflictError(f"record {record_id} has no auto-label in force; nothing to review")
            auto = session.execute(_latest_auto(project_id, settings.run_id, in_force=True, record_id=record_id)).first()
            assert auto is not None
            label_id = session.execute(insert(LabelRow).returning(LabelRow.id), [{
                "record_id": record_id, "run_id": settings.run_id, "value": auto.value if value is None else value,
                "source": "human", "annotator": reviewer.name, "created_at": now, "supersedes_id": int(auto.label_id),
            }]).scalar_one()
            session.execute(insert(AnnotationEventRow), [{
                "project_id": project_id, "record_id": record_id, "annotator_id": reviewer.id, "kind": "label",
                "label_id": label_id, "created_at": now,
            }])
            state.n_labels = 1
            state.state = "done" if k <= 1 else "open"
            session.flush()
            found = [_auto_label(row) for row in session.execute(
                _listing(project_id, settings.run_id).where(LabelRow.id == int(auto.label_id))
            )]
        self.sync()
        return found[0]


def _unsuperseded_auto(session: Session, run_id: str, record_ids: list[int]) -> dict[int, int]:
    """Record id -> its latest auto-label row that nothing supersedes yet (a new auto-label of it chains after it)."""
    later = aliased(LabelRow)
    rows = session.execute(
        select(LabelRow.record_id, func.max(LabelRow.id)).where(
            LabelRow.run_id == run_id, LabelRow.source == AUTO, LabelRow.record_id.in_(record_ids),
            ~select(later.id).where(later.supersedes_id == LabelRow.id).exists(),
        ).group_by(LabelRow.record_id)
    )
    return {int(r): int(i) for r, i in rows}


def _latest_auto(project_id: int, run_id: str, *, in_force: bool, record_id: int | None = None) -> Any:
    """(record id, label id, value) of each record's latest auto-label row (of records in state auto, with ``in_force``)."""
    latest = select(func.max(LabelRow.id)).where(LabelRow.run_id == run_id, LabelRow.source == AUTO)
    if record_id is not None:
        latest = latest.where(LabelRow.record_id == record_id)
    query = (
        select(LabelRow.record_id, LabelRow.id.label("label_id"), LabelRow.value)
        .join(AnnotationRecordRow, AnnotationRecordRow.record_id == LabelRow.record_id)
        .where(AnnotationRecordRow.project_id == project_id, LabelRow.id.in_(latest.group_by(LabelRow.record_id)))
    )
    return query.where(AnnotationRecordRow.state == AUTO) if in_force else query


def _listing(project_id: int, run_id: str, *, with_records: bool = True) -> Any:
    """Every auto-label row of the run with its record (``with_records``; else its value only), its record's state
    and the label row superseding it."""
    later = aliased(LabelRow)
    latest = (
        select(func.max(LabelRow.id)).where(LabelRow.run_id == run_id, LabelRow.source == AUTO).group_by(LabelRow.record_id)
    )
    decided = (
        AnnotationRecordRow.state, later.value.label("decided"), later.annotator.label("reviewer"),
        later.source.label("decided_source"), LabelRow.id.in_(latest).label("latest"),
    )
    if not with_records:
        return (
            select(LabelRow.value, *decided)
            .join(AnnotationRecordRow, AnnotationRecordRow.record_id == LabelRow.record_id)
            .outerjoin(later, later.supersedes_id == LabelRow.id)
            .where(LabelRow.run_id == run_id, LabelRow.source == AUTO, AnnotationRecordRow.project_id == project_id)
        )
    return (
        select(LabelRow, RecordRow.external_id, RecordRow.payload, *decided)
        .join(RecordRow, RecordRow.id == LabelRow.record_id)
        .join(AnnotationRecordRow, AnnotationRecordRow.record_id == LabelRow.record_id)
        .outerjoin(later, later.supersedes_id == LabelRow.id)
        .where(LabelRow.run_id == run_id, LabelRow.source == AUTO, AnnotationRecordRow.project_id == project_id)
    )


def _status(value: str, state: str, decided: str | None, decided_source: str | None, latest: bool) -> str:
    """What became of an auto-label (one of :data:`AUTO_STATUSES`), from its record's state and what superseded it."""
    if decided is not None and decided_source == "human":
        return "accepted" if decided == value else "overridden"
    if state == AUTO and decided is None and latest:
        return AUTO
    return "retired"


def _auto_label(row: Any) -> AutoLabel:
    label: LabelRow = row[0]
    status = _status(label.value, row.state, row.decided, row.decided_source, bool(row.latest))
    person = row.decided_source == "human"
    return AutoLabel(
        label_id=label.id, record_id=label.record_id, external_id=str(row.external_id), payload=row.payload,
        value=label.value, confidence=label.confidence, model_version=label.model_version,
        created_at=as_utc(label.created_at), status=status,
        reviewer=str(row.reviewer) if person else None, decided=str(row.decided) if person else None,
    )


__all__ = ["AUTO_STATUSES", "AutoLabel", "AutoLabelQueries"]

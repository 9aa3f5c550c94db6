"""An annotator's own actions: their history, changing an earlier label, undoing the last action of any kind.

Events stay append-only. A changed label is a new label row that supersedes the old one and a new
'label' event whose ``undoes_id`` names the event it replaces, so "in force" keeps meaning "no later
event undoes it" (not_undone) everywhere. Undo writes an 'undo' event for the latest label, skip or flag in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from loopwise.errors import DataError

from ._annotation_models import AnnotationEventRow, AnnotationRecordRow, not_undone
from ._annotation_queue import QueueQueries
from ._annotation_types import AnnotationProjectInfo, ConflictError, LabelAck, QueueRecord, UserInfo, queue_record
from ._models import AssignmentRow, LabelRow, RecordRow
from ._queue_sql import SQL_LEASE
from ._util import as_utc, utc_now

ACTIONS = ("label", "skip", "flag")


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One action of an annotator; ``state`` is current, undone (by an undo) or replaced (by a newer label)."""

    event_id: int
    kind: str
    record_id: int
    external_id: str
    value: str | None
    reason: str | None
    state: str
    created_at: datetime


class HistoryQueries(QueueQueries):
    """The queue, plus what an annotator does to their own past: history, change, undo of any action."""

    def history(self, project_id: int, user_id: int, limit: int = 20) -> list[HistoryItem]:
        """The annotator's latest labels, skips and flags in the project, newest first."""
        event, later = aliased(AnnotationEventRow), aliased(AnnotationEventRow)
        with self._sessions() as session:
            rows = session.execute(
                select(
                    event.id, event.kind, event.record_id, RecordRow.external_id, LabelRow.value, event.reason,
                    event.created_at, later.kind,
                )
                .join(RecordRow, RecordRow.id == event.record_id)
                .outerjoin(LabelRow, LabelRow.id == event.label_id)
                .outerjoin(later, later.undoes_id == event.id)
                .where(event.project_id == project_id, event.annotator_id == user_id, event.kind.in_(ACTIONS))
                .order_by(event.id.desc())
                .limit(limit)
            ).all()
        return [
            HistoryItem(
                int(i), str(kind), int(r), str(e), v, reason,
                "current" if by is None else "replaced" if by == "label" else "undone", as_utc(at),
            )
            for i, kind, r, e, v, reason, at, by in rows
        ]

    def my_label(self, project_id: int, record_id: int, user_id: int) -> str | None:
        """The annotator's label in force on the record, if any."""
        with self._sessions() as session:
            self._queue_row(session, project_id, record_id)
            found = _label_in_force(session, record_id, user_id)
        return None if found is None else found[2]

    def change_label(self, project: AnnotationProjectInfo, record_id: int, user: UserInfo, value: str) -> LabelAck:
        """Replace the annotator's label in force on a record with ``value`` (a new label row and event)."""
        if project.label_kind == "single" and value not in project.label_names:
            raise DataError(f"label {value!r} is not a class of this project; classes: {project.label_names}")
        now = utc_now()
        with self._write(project.id) as session:
            row = self._queue_row(session, project.id, record_id)
            if row.state == "flagged":
                raise ConflictError(f"record {record_id} is flagged; it takes no labels")
            found = _label_in_force(session, record_id, user.id)
            if found is None:
                raise ConflictError(f"you have no label on record {record_id} to change; label it from the queue")
            event_id, label_id, old = found
            external_id = session.scalar(select(RecordRow.external_id).where(RecordRow.id == record_id))
            if old == value:
                return LabelAck(label_id, event_id, record_id, str(external_id), value, user.name, now)
            head = session.scalar(
                select(func.max(LabelRow.id)).where(
                    LabelRow.record_id == record_id, LabelRow.run_id == project.run_id, LabelRow.annotator == user.name
                )
            )
            new_label = session.execute(
                insert(LabelRow).returning(LabelRow.id),
                [{"record_id": record_id, "run_id": project.run_id, "value": value, "source": "human",
                  "annotator": user.name, "created_at": now, "supersedes_id": head}],
            ).scalar_one()
            new_event = self._event(
                session, project.id, record_id, user.id, "label", now, label_id=new_label, undoes_id=event_id
            )
        self.sync()
        return LabelAck(int(new_label), new_event, record_id, str(external_id), value, user.name, now)

    def undo_last_action(self, project_id: int, user: UserInfo, k: int, lease_seconds: float) -> tuple[str, QueueRecord]:
        """Undo the annotator's latest label, skip or flag in force; returns its kind and its record.

        The record is leased back to them (when it can still take their label), so it is on screen again.
        """
        with self._sessions() as session:
            last = session.execute(
                select(AnnotationEventRow.id, AnnotationEventRow.kind, AnnotationEventRow.record_id)
                .where(
                    AnnotationEventRow.project_id == project_id, AnnotationEventRow.annotator_id == user.id,
                    AnnotationEventRow.kind.in_(ACTIONS), not_undone(),
                )
                .order_by(AnnotationEventRow.id.desc())
                .limit(1)
            ).first()
        if last is None:
            raise ConflictError("you have nothing to undo in this project")
        event_id, kind, record_id = last
        if kind == "label":
            return "label", self.undo_last_label(project_id, user, k, lease_seconds)
        now = utc_now()
        expires = now + timedelta(seconds=lease_seconds)
        try:
            with self._write(project_id) as session:
                row = self._queue_row(session, project_id, record_id)
                self._event(session, project_id, record_id, user.id, "undo", now, undoes_id=event_id)
                if kind == "flag" and row.state == "flagged":
                    session.execute(
                        update(AnnotationRecordRow).where(AnnotationRecordRow.record_id == record_id)
                        .values(state="done" if row.n_labels >= k else "open")
                    )
                leased = self._lease_back(session, project_id, record_id, user.id, k, now, expires)
                record, state = session.execute(
                    select(RecordRow, AnnotationRecordRow)
                    .join(AnnotationRecordRow, AnnotationRecordRow.record_id == RecordRow.id)
                    .where(RecordRow.id == record_id)
                ).one()
                taken_back = queue_record(record, state, expires if leased else None)
        except IntegrityError:
            # Another request undid the same event first (undoes_id is unique).
            raise ConflictError(f"your last {kind} was undone already") from None
        self.sync()
        return str(kind), taken_back

    @staticmethod
    def _lease_back(
        session: Session, project_id: int, record_id: int, user_id: int, k: int, now: datetime, expires: datetime
    ) -> bool:
        """Lease the record to the annotator in place of what they hold, if it still has room for their label."""
        row = session.get(AnnotationRecordRow, record_id)
        assert row is not None
        others = session.scalar(
            select(func.count()).where(
                AssignmentRow.record_id == record_id, AssignmentRow.annotator_id != user_id, AssignmentRow.expires_at > now
            )
        ) or 0
        if row.state != "open" or row.n_labels + others >= k or _label_in_force(session, record_id, user_id) is not None:
            return False
        in_project = select(AnnotationRecordRow.record_id).where(AnnotationRecordRow.project_id == project_id)
        session.execute(
            delete(AssignmentRow).where(AssignmentRow.annotator_id == user_id, AssignmentRow.record_id.in_(in_project))
        )
        session.execute(SQL_LEASE, {"record": record_id, "user": user_id, "expires": expires})
        return True


def _label_in_force(session: Session, record_id: int, user_id: int) -> tuple[int, int, str] | None:
    """(event id, label id, value) of the annotator's label in force on the record."""
    found = session.execute(
        select(AnnotationEventRow.id, LabelRow.id, LabelRow.value)
        .join(LabelRow, LabelRow.id == AnnotationEventRow.label_id)
        .where(
            AnnotationEventRow.record_id == record_id, AnnotationEventRow.annotator_id == user_id,
            AnnotationEventRow.kind == "label", not_undone(),
        )
        .order_by(AnnotationEventRow.id.desc())
        .limit(1)
    ).first()
    return None if found is None else (int(found[0]), int(found[1]), str(found[2]))


__all__ = ["ACTIONS", "HistoryItem", "HistoryQueries"]

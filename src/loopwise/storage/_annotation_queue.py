"""The annotation queue: leasing the next record, labels, skips, flags and undo, under the project lock.

The hot paths (lease_next, submit_label) run prepared statements: on SQLite a few in one serialised
transaction (_queue_sql), on PostgreSQL the project lock and one fused statement (_queue_pg), sent
in pipeline mode (_pg_pipeline) so the lock is held for the database's time only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.orm import Session

from loopwise.errors import DataError, NotFoundError

from ._annotation_base import _SQL_LOCK_PROJECT, AnnotationBase
from ._annotation_models import AnnotationEventRow, AnnotationProjectRow, AnnotationRecordRow, not_undone
from ._annotation_notes import note_from
from ._annotation_types import RETRACTED, AnnotationProjectInfo, ConflictError, LabelAck, QueueRecord, UserInfo, queue_record
from ._models import AssignmentRow, LabelRow, RecordRow
from ._pg_pipeline import pipelined
from ._queue_pg import PG_LEASE_NEXT, PG_WRITE_LABEL
from ._queue_sql import (
    SQL_BUDGET_USED,
    SQL_CANDIDATE,
    SQL_CANDIDATE_SKIPPED,
    SQL_CANDIDATE_STARTED,
    SQL_COUNT_LABEL,
    SQL_DROP_LEASE,
    SQL_EXTEND_LEASE,
    SQL_INSERT_EVENT,
    SQL_INSERT_LABEL,
    SQL_LABEL_STATE,
    SQL_LEASE,
    SQL_MY_LEASES,
    SQL_QUEUE_RECORD,
    SQL_RELEASE,
)
from ._queue_sqlite import RawSqlite, raw_write
from ._util import as_utc, utc_now


class QueueQueries(AnnotationBase):
    """What annotators do to the queue: take the next record, label, skip, flag, unflag, undo."""

    def lease_next(
        self, project_id: int, user_id: int, k: int, lease_seconds: float, budget: int | None = None
    ) -> QueueRecord | None:
        """The annotator's current lease, else the best-ranked record they may take, leased to them.

        With a ``budget``, a record nobody has labelled or holds is leased only while fewer than
        ``budget`` records are labelled or held (:meth:`budget_used`), so the queue never hands out
        more records than the budget pays for. The hot path of the server: on SQLite three prepared
        statements in one serialised transaction (four with a budget); on PostgreSQL BEGIN, the project
        lock, one statement (storage/_queue_pg.py) and COMMIT in one round trip.
        """
        now = utc_now()
        expires = now + timedelta(seconds=lease_seconds)
        if not self._sqlite:
            # BEGIN, the lock, one statement (see _queue_pg) and COMMIT in one round trip.
            params = {"project": project_id, "user": user_id, "k": k, "now": now, "expires": expires, "budget": budget}
            with self._locked(project_id, PG_LEASE_NEXT, params, commit=True) as (_, found):
                pass
            if found is None:
                # Past the end of the queue (rare): the records this annotator skipped, in a transaction
                # of its own under the lock.
                with self._write_conn(project_id) as conn:
                    found = self._lease_skipped(conn, project_id, user_id, k, now, expires, budget)
            if found is None:
                return None
            return QueueRecord(
                record_id=found.record_id, external_id=found.external_id, payload=_payload(found.payload),
                role=found.role, state=found.state, n_labels=found.n_labels, lease_expires_at=expires,
                note=note_from(found.score, found.suggestion), noted=True,
            )
        with self._raw_write(project_id) as conn:
            mine = conn.execute(SQL_MY_LEASES, {"user": user_id, "project": project_id}).all()
            live = [row for row in mine if as_utc(conn.read_time(row.expires_at)) > now]
            for row in mine:
                if row not in live:
                    conn.execute(SQL_DROP_LEASE, {"id": row.id})  # lapsed
            if live:
                conn.execute(SQL_EXTEND_LEASE, {"id": live[0].id, "expires": expires})
                found = conn.execute(SQL_QUEUE_RECORD, {"record": live[0].record_id}).first()
            else:
                spent = budget is not None and _budget_used(conn, project_id, now) >= budget
                found = conn.execute(
                    SQL_CANDIDATE_STARTED if spent else SQL_CANDIDATE,
                    {"project": project_id, "user": user_id, "k": k, "now": now},
                ).first()
                if found is not None:
                    conn.execute(SQL_LEASE, {"record": found.record_id, "user": user_id, "expires": expires})
                else:
                    found = self._lease_skipped(conn, project_id, user_id, k, now, expires, budget)
                if found is None:
                    return None
            assert found is not None
            return QueueRecord(
                record_id=found.record_id, external_id=found.external_id, payload=_payload(found.payload),
                role=found.role, state=found.state, n_labels=found.n_labels, lease_expires_at=expires,
                note=note_from(found.score, found.suggestion), noted=True,
            )

    @contextmanager
    def _raw_write(self, project_id: int) -> Iterator[RawSqlite]:
        """A SQLite queue transaction on the driver's connection (_queue_sqlite), serialised, the project locked."""
        with self._write_lock, raw_write(self._engine) as conn:
            if conn.execute(_SQL_LOCK_PROJECT, {"project": project_id}).rowcount == 0:
                raise NotFoundError(f"no annotation project with id {project_id}")
            yield conn

    @staticmethod
    def _lease_skipped(
        conn: Connection | RawSqlite, project_id: int, user_id: int, k: int, now: datetime, expires: datetime, budget: int | None
    ) -> Any:
        """Past the end of the queue: the record this annotator skipped longest ago that has room, leased to them.

        The walk above never serves a record back to whoever skipped it, so skipped records come back
        only once nothing else waits for them. Driven from the annotator's own skip events (index
        project_id, annotator_id, kind), so it is cheap, and it runs only at the end of their queue.
        """
        spent = budget is not None and _budget_used(conn, project_id, now) >= budget
        found = conn.execute(
            SQL_CANDIDATE_SKIPPED, {"project": project_id, "user": user_id, "k": k, "now": now, "spent": int(spent)}
        ).first()
        if found is not None:
            conn.execute(SQL_LEASE, {"record": found.record_id, "user": user_id, "expires": expires})
        return found

    def submit_label(
        self, project: AnnotationProjectInfo, record_id: int, user: UserInfo, value: str, k: int,
        *, sync: bool = True, budget: int | None = None,
    ) -> LabelAck:
        """Append a human label; refused if another annotator holds the record or it has its k labels.

        With a ``budget``, a label that would start a record beyond it (one nobody labelled or holds)
        is refused too.

        When this returns, the label is committed and, unless ``sync=False`` (the caller then calls
        :meth:`sync` before acknowledging), synced to disk on a SQLite file.
        """
        if project.label_kind == "single" and value not in project.label_names:
            raise DataError(f"label {value!r} is not a class of this project; classes: {project.label_names}")
        now = utc_now()
        # On PostgreSQL BEGIN, the lock and the state read go in one round trip, the writes and COMMIT in another.
        params = {"record": record_id, "project": project.id, "user": user.id, "name": user.name,
                  "run": project.run_id, "now": now}
        with self._label_state(project.id, params) as (conn, state):
            if state is None:
                raise NotFoundError(f"project {project.id} has no record {record_id}")
            if state.role != "pool":
                raise ConflictError(f"record {record_id} is a test record; it is not labelled here")
            if state.state == "flagged":
                raise ConflictError(f"record {record_id} is flagged; it takes no labels")
            if state.state == "auto":
                raise ConflictError(f"record {record_id} carries an auto-label; an admin accepts or overrides it in review")
            if state.labelled:
                raise ConflictError(f"you have already labelled record {record_id}; undo it to change it")
            if state.my_lease is None or as_utc(_as_datetime(state.my_lease)) <= now:
                # No live lease: take the label only if the record still has room for it.
                if state.n_labels + state.others >= k:
                    raise ConflictError(
                        f"record {record_id} is held by another annotator or has its labels; ask for the next record"
                    )
                if (
                    budget is not None and state.n_labels + state.others == 0
                    and _budget_used(conn, project.id, now) >= budget
                ):
                    raise ConflictError(
                        f"the label budget of {budget} records is spent; record {record_id} takes no label"
                    )
            elif state.n_labels >= k:
                raise ConflictError(f"record {record_id} already has its {k} label(s)")
            n_labels = state.n_labels + 1
            if not self._sqlite:
                # The four writes as one statement (see _queue_pg), sent with COMMIT: one round trip.
                (written,) = pipelined(
                    conn,
                    [(PG_WRITE_LABEL,
                      {"record": record_id, "run": project.run_id, "value": value, "name": user.name, "now": now,
                       "head": state.head, "project": project.id, "user": user.id, "n": n_labels,
                       "state": "done" if n_labels >= k else "open"})],
                    commit=True,
                )
                label_id, event_id = written.rows[0].label_id, written.rows[0].event_id
            else:
                label_id, event_id = self._write_label_sqlite(
                    conn, project, record_id, user, value, state.head, n_labels, k, now
                )
        if sync:
            self.sync()
        return LabelAck(int(label_id), int(event_id), record_id, str(state.external_id), value, user.name, now)

    @contextmanager
    def _label_state(self, project_id: int, params: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
        """The label's transaction under the project lock, and the record's state read first in it."""
        if not self._sqlite:
            with self._locked(project_id, SQL_LABEL_STATE, params) as found:
                yield found
            return
        with self._raw_write(project_id) as conn:
            yield conn, conn.execute(SQL_LABEL_STATE, params).first()

    @staticmethod
    def _write_label_sqlite(
        conn: RawSqlite, project: AnnotationProjectInfo, record_id: int, user: UserInfo, value: str,
        head: int | None, n_labels: int, k: int, now: datetime,
    ) -> tuple[int, int]:
        """A label's writes on SQLite, one statement each (it has no data-modifying CTEs; no round trips)."""
        label_id = conn.execute(
            SQL_INSERT_LABEL,
            {"record": record_id, "run": project.run_id, "value": value, "name": user.name, "now": now,
             "head": head},
        ).scalar_one()
        event_id = conn.execute(
            SQL_INSERT_EVENT,
            {"project": project.id, "record": record_id, "user": user.id, "label": label_id, "now": now},
        ).scalar_one()
        conn.execute(
            SQL_COUNT_LABEL, {"record": record_id, "n": n_labels, "state": "done" if n_labels >= k else "open"}
        )
        conn.execute(SQL_RELEASE, {"record": record_id, "user": user.id})
        return int(label_id), int(event_id)

    def budget_used(self, project_id: int) -> int:
        """Pool records that count against a label budget: labelled at least once, or held under a live lease."""
        with self._engine.connect() as conn:
            return _budget_used(conn, project_id, utc_now())

    def cleanup_leases(self) -> int:
        """Delete lapsed leases (the queue ignores them anyway); returns how many."""
        with self._write() as session:
            result = session.execute(delete(AssignmentRow).where(AssignmentRow.expires_at <= utc_now()))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def skip(self, project_id: int, record_id: int, user_id: int) -> None:
        """Give a record back: others are served it, and this annotator again at the end of their queue."""
        now = utc_now()
        with self._write(project_id) as session:
            self._queue_row(session, project_id, record_id)
            self._event(session, project_id, record_id, user_id, "skip", now)
            session.execute(
                delete(AssignmentRow).where(AssignmentRow.record_id == record_id, AssignmentRow.annotator_id == user_id)
            )

    def holds_or_labelled(self, project_id: int, record_id: int, user_id: int) -> bool:
        """Whether the annotator holds the record under a live lease or has a label in force on it."""
        with self._sessions() as session:
            self._queue_row(session, project_id, record_id)
            holds = session.scalar(
                select(func.count()).where(
                    AssignmentRow.record_id == record_id, AssignmentRow.annotator_id == user_id,
                    AssignmentRow.expires_at > utc_now(),
                )
            )
            return bool(holds) or self._current_label_event(session, record_id, user_id) is not None

    def flag(self, project_id: int, record_id: int, user_id: int, reason: str) -> None:
        """Mark a record as not relevant or corrupt: nobody is served it and training leaves it out."""
        now = utc_now()
        with self._write(project_id) as session:
            row = self._queue_row(session, project_id, record_id)
            if row.state == "flagged":
                raise ConflictError(f"record {record_id} is flagged already")
            self._event(session, project_id, record_id, user_id, "flag", now, reason=reason[:255])
            session.execute(
                update(AnnotationRecordRow).where(AnnotationRecordRow.record_id == record_id).values(state="flagged")
            )
            session.execute(delete(AssignmentRow).where(AssignmentRow.record_id == record_id))
        self.sync()

    def unflag(self, project_id: int, record_id: int, user_id: int, k: int) -> None:
        """Take a flag back: the record returns to the queue (or to 'done' with its k labels) and to training.

        Logged as an 'undo' event that undoes the flag event, so the audit trail keeps both.
        """
        now = utc_now()
        with self._write(project_id) as session:
            row = self._queue_row(session, project_id, record_id)
            if row.state != "flagged":
                raise ConflictError(f"record {record_id} is not flagged")
            flag_event = session.scalar(
                select(AnnotationEventRow.id)
                .where(
                    AnnotationEventRow.record_id == record_id, AnnotationEventRow.kind == "flag",
                    not_undone(),
                )
                .order_by(AnnotationEventRow.id.desc())
                .limit(1)
            )
            if flag_event is not None:
                self._event(session, project_id, record_id, user_id, "undo", now, undoes_id=flag_event)
            session.execute(
                update(AnnotationRecordRow)
                .where(AnnotationRecordRow.record_id == record_id)
                .values(state="done" if row.n_labels >= k else "open")
            )
        self.sync()

    def undo_last_label(self, project_id: int, user: UserInfo, k: int, lease_seconds: float) -> QueueRecord:
        """Take back the annotator's latest label and lease its record back to them to label again."""
        now = utc_now()
        expires = now + timedelta(seconds=lease_seconds)
        with self._write(project_id) as session:
            last = session.execute(
                select(AnnotationEventRow.id, AnnotationEventRow.record_id, AnnotationEventRow.label_id)
                .where(
                    AnnotationEventRow.project_id == project_id,
                    AnnotationEventRow.annotator_id == user.id,
                    AnnotationEventRow.kind == "label",
                    not_undone(),
                )
                .order_by(AnnotationEventRow.id.desc())
                .limit(1)
            ).first()
            if last is None:
                raise ConflictError("you have no label to undo in this project")
            event_id, record_id, label_id = last
            settings = session.get(AnnotationProjectRow, project_id)
            assert settings is not None
            retraction = session.execute(
                insert(LabelRow).returning(LabelRow.id),
                [
                    {
                        "record_id": record_id, "run_id": settings.run_id, "value": RETRACTED, "source": "human",
                        "annotator": user.name, "created_at": now, "supersedes_id": label_id,
                    }
                ],
            ).scalar_one()
            self._event(session, project_id, record_id, user.id, "undo", now, label_id=retraction, undoes_id=event_id)
            state = self._queue_row(session, project_id, record_id)
            n_labels = max(0, state.n_labels - 1)
            values: dict[str, Any] = {"n_labels": n_labels}
            if state.state == "done":
                values["state"] = "open" if n_labels < k else "done"
            session.execute(
                update(AnnotationRecordRow).where(AnnotationRecordRow.record_id == record_id).values(**values)
            )
            in_project = select(AnnotationRecordRow.record_id).where(AnnotationRecordRow.project_id == project_id)
            session.execute(
                delete(AssignmentRow).where(
                    AssignmentRow.annotator_id == user.id, AssignmentRow.record_id.in_(in_project)
                )
            )
            session.execute(
                insert(AssignmentRow), [{"record_id": record_id, "annotator_id": user.id, "expires_at": expires}]
            )
            record, state = session.execute(
                select(RecordRow, AnnotationRecordRow)
                .join(AnnotationRecordRow, AnnotationRecordRow.record_id == RecordRow.id)
                .where(RecordRow.id == record_id)
            ).one()
            taken_back = queue_record(record, state, expires)
        self.sync()
        return taken_back

    @staticmethod
    def _queue_row(session: Session, project_id: int, record_id: int) -> AnnotationRecordRow:
        row = session.get(AnnotationRecordRow, record_id)
        if row is None or row.project_id != project_id:
            # Same answer whether the record is missing or in another project: ids are not leaked.
            raise NotFoundError(f"project {project_id} has no record {record_id}")
        return row

    @staticmethod
    def _current_label_event(session: Session, record_id: int, user_id: int) -> int | None:
        return session.scalar(
            select(AnnotationEventRow.id).where(
                AnnotationEventRow.record_id == record_id,
                AnnotationEventRow.annotator_id == user_id,
                AnnotationEventRow.kind == "label",
                not_undone(),
            )
        )

    @staticmethod
    def _event(
        session: Session,
        project_id: int,
        record_id: int,
        user_id: int,
        kind: str,
        now: datetime,
        *,
        label_id: int | None = None,
        undoes_id: int | None = None,
        reason: str | None = None,
    ) -> int:
        return int(
            session.execute(
                insert(AnnotationEventRow).returning(AnnotationEventRow.id),
                [
                    {
                        "project_id": project_id, "record_id": record_id, "annotator_id": user_id, "kind": kind,
                        "label_id": label_id, "undoes_id": undoes_id, "reason": reason, "created_at": now,
                    }
                ],
            ).scalar_one()
        )


def _budget_used(conn: Connection | RawSqlite, project_id: int, now: datetime) -> int:
    return int(conn.execute(SQL_BUDGET_USED, {"project": project_id, "now": now}).scalar_one())


def _payload(value: Any) -> dict[str, Any] | None:
    # A text statement hands JSON back as it is stored: text on SQLite, already parsed on PostgreSQL.
    if value is None or isinstance(value, dict):
        return value
    return json.loads(value)  # type: ignore[no-any-return]


def _as_datetime(value: Any) -> datetime:
    # max() over a timestamp comes back untyped from SQLite: the stored text.
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))

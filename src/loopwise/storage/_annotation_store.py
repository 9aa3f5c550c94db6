"""AnnotationRepository: the database work of the annotation server (users, projects, queue, labels).

Every method runs in its own transaction and returns plain dataclasses. Writes are serialised: on
SQLite by one in-process lock (SQLite has a single writer anyway, and its busy handler sleeps for
milliseconds when writers collide), on PostgreSQL by locking the project's settings row, so two
annotators asking for the next record at the same moment can never be handed the same one.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, DateTime, Integer, bindparam, delete, event, exists, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from loopwise.errors import ConfigError, DataError, LoopwiseError, NotFoundError, StoreError

from ._annotation_models import (
    AnnotationEventRow,
    AnnotationProjectRow,
    AnnotationRecordRow,
    AnnotatorPasswordRow,
    ProjectMemberRow,
)
from ._annotation_import import IMPORT_REASON, ImportedLabel, insert_imported_labels
from ._db import writer
from ._json import to_json
from ._queue_pg import PG_LEASE_NEXT, PG_WRITE_LABEL
from ._models import (
    ROLES,
    TASKS,
    AnnotatorRow,
    AssignmentRow,
    LabelRow,
    LoopRow,
    ModelVersionRow,
    ProjectRow,
    RecordRow,
    RunRow,
)
from ._store import Store, _check_loop
from ._types import LoopWrite

# The value of the label row that an undo appends: labels are append-only, so taking a label back
# is a new row that supersedes it. It can never be a class name (see check_label_names).
RETRACTED = "<retracted>"
_CHUNK = 500
_RANK_CHUNK = 200
_MAX_EXTERNAL_ID = 512
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


class AnnotationRepository:
    """Database work of the annotation server, over a :class:`Store`'s engine.

    The store keeps doing what it does (projects, runs, loops, artifacts); this adds what people
    labelling need. ORM rows stay inside; callers get dataclasses.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._engine = store._engine
        self._sessions = store._sessions
        self._sqlite = self._engine.dialect.name == "sqlite"
        self._write_lock = threading.RLock()
        self._syncer: _WalSyncer | None = None
        url = self._engine.url
        if self._sqlite and url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            # Commits skip their own fsync (synchronous=NORMAL: a killed process loses nothing, since
            # the WAL is written before COMMIT returns); a label is acknowledged only after one shared
            # fsync of the WAL, so it also survives a power cut, at a fraction of the cost.
            self._syncer = _WalSyncer(str(url.database))
            event.listen(self._engine, "checkout", _normal_sync)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    # -- transactions ------------------------------------------------------------------------------

    @contextmanager
    def _write(self, project_id: int | None = None) -> Iterator[Session]:
        """A write transaction; with ``project_id`` it is serialised with every other writer of it.

        It takes the write lock as it begins (BEGIN IMMEDIATE on SQLite, see _db.writer), so a read
        then a write waits for another process's writer instead of failing with 'database is locked'.
        """
        with self._write_lock if self._sqlite else _nolock():
            with self.store._write_sessions.begin() as session:
                if project_id is not None:
                    _lock_project(session.connection(), project_id)
                yield session

    @contextmanager
    def _write_conn(self, project_id: int) -> Iterator[Connection]:
        """Like :meth:`_write`, on a Core connection: the queue's hot paths skip the ORM's overhead."""
        with self._write_lock if self._sqlite else _nolock():
            with writer(self._engine).begin() as conn:
                _lock_project(conn, project_id)
                yield conn

    def sync(self) -> None:
        """Make every transaction committed so far durable (SQLite file: fsync its WAL, shared by callers)."""
        if self._syncer is not None:
            self._syncer.sync()

    @contextmanager
    def serialized(self) -> Iterator[None]:
        """Hold the in-process write lock (SQLite) around a store call such as ``record_loop``."""
        with self._write_lock if self._sqlite else _nolock():
            yield

    # -- users -----------------------------------------------------------------------------------

    def create_user(self, name: str, role: str, password_hash: str | None = None) -> UserInfo:
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ConfigError(f"a user name must be 1 to 255 characters, got {name!r}")
        bad = next((c for c in name.strip() if c not in USER_NAME_CHARACTERS), None)
        if bad is not None:
            raise ConfigError(
                f"a user name may hold only ASCII letters, digits and . _ @ + -; {name!r} has {bad!r} (U+{ord(bad):04X})"
            )
        if role not in ROLES:
            raise ConfigError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
        now = _now()
        try:
            with self._write() as session:
                row = AnnotatorRow(name=name.strip(), role=role, token_hash=None, created_at=now)
                session.add(row)
                session.flush()
                if password_hash is not None:
                    session.add(AnnotatorPasswordRow(annotator_id=row.id, password_hash=password_hash, updated_at=now))
                return UserInfo(row.id, row.name, row.role, _utc(row.created_at), password_hash is not None, False)
        except IntegrityError:
            raise ConflictError(f"a user called {name.strip()!r} already exists") from None

    def get_user(self, user_id: int) -> UserInfo:
        with self._sessions() as session:
            users = self._users(session, AnnotatorRow.id == user_id)
        if not users:
            raise NotFoundError(f"no user with id {user_id}")
        return users[0]

    def list_users(self) -> list[UserInfo]:
        with self._sessions() as session:
            return self._users(session)

    def count_admins(self) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).where(AnnotatorRow.role == "admin")) or 0)

    def user_with_password(self, name: str) -> tuple[UserInfo, str | None] | None:
        with self._sessions() as session:
            found = session.execute(
                select(AnnotatorRow.id, AnnotatorPasswordRow.password_hash)
                .outerjoin(AnnotatorPasswordRow, AnnotatorPasswordRow.annotator_id == AnnotatorRow.id)
                .where(AnnotatorRow.name == name)
            ).first()
            if found is None:
                return None
            return self._users(session, AnnotatorRow.id == found[0])[0], found[1]

    def user_by_token_hash(self, token_hash: str) -> UserInfo | None:
        with self._sessions() as session:
            users = self._users(session, AnnotatorRow.token_hash == token_hash)
        return users[0] if users else None

    def set_token_hash(self, user_id: int, token_hash: str | None) -> None:
        with self._write() as session:
            touched = session.execute(
                update(AnnotatorRow).where(AnnotatorRow.id == user_id).values(token_hash=token_hash)
            )
            if touched.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFoundError(f"no user with id {user_id}")

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self._write() as session:
            if session.get(AnnotatorRow, user_id) is None:
                raise NotFoundError(f"no user with id {user_id}")
            row = session.get(AnnotatorPasswordRow, user_id)
            if row is None:
                session.add(AnnotatorPasswordRow(annotator_id=user_id, password_hash=password_hash, updated_at=_now()))
            else:
                row.password_hash = password_hash
                row.updated_at = _now()

    @staticmethod
    def _users(session: Session, *where: Any) -> list[UserInfo]:
        has_password = (
            exists().where(AnnotatorPasswordRow.annotator_id == AnnotatorRow.id).correlate(AnnotatorRow)
        )
        rows = session.execute(
            select(AnnotatorRow, has_password.label("has_password")).where(*where).order_by(AnnotatorRow.id)
        )
        return [
            UserInfo(row.id, row.name, row.role, _utc(row.created_at), bool(pw), row.token_hash is not None)
            for row, pw in rows
        ]

    # -- projects --------------------------------------------------------------------------------

    def create_project(
        self,
        name: str,
        task: str,
        label_names: Sequence[str],
        instructions: str,
        settings: dict[str, Any],
        cost_per_label: float = 1.0,
        *,
        records: NewRecords | None = None,
        seed: int = 0,
    ) -> AnnotationProjectInfo:
        """A new project with its run (the one its loops and human labels are recorded in).

        With ``records``, they are imported in the same transaction: if they are refused, there is no project.
        """
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ConfigError(f"a project name must be 1 to 255 characters, got {name!r}")
        if task not in TASKS:
            raise ConfigError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
        labels = check_label_names(label_names)
        clean = to_json(dict(settings), "settings")
        batch = None if records is None else _check_records(records, labels)
        now = _now()
        try:
            with self._write() as session:
                if session.scalar(select(ProjectRow.id).where(ProjectRow.name == name)) is not None:
                    raise ConflictError(f"a project called {name!r} already exists")
                project = ProjectRow(
                    name=name, task=task, label_names=labels, cost_per_label=float(cost_per_label), created_at=now
                )
                session.add(project)
                session.flush()
                run_id = uuid.uuid4().hex[:12]
                config = {"kind": "annotation", "project": name, **clean}
                session.add(
                    RunRow(
                        id=run_id, project_id=project.id, name="annotation", config=config,
                        status="running", created_at=now,
                    )
                )
                session.flush()
                session.add(
                    AnnotationProjectRow(
                        project_id=project.id, run_id=run_id, instructions=instructions or "",
                        settings=clean, status="active", created_at=now,
                    )
                )
                if batch is not None and records is not None:
                    session.flush()
                    _insert_records(session, project.id, *batch, seed=seed)
                    insert_imported_labels(
                        session, project.id, run_id, records.labels, k=int(clean.get("labels_per_record", 1)),
                        label_names=labels, reason=IMPORT_REASON, now=now,
                    )
        except IntegrityError:
            raise ConflictError(f"a project called {name!r} already exists") from None
        if batch is not None:
            self._analyze()
        return self.get_project(project.id)

    def get_project(self, project_id: int) -> AnnotationProjectInfo:
        with self._sessions() as session:
            found = self._projects(session, ProjectRow.id == project_id)
        if not found:
            raise NotFoundError(f"no project with id {project_id}")
        return found[0]

    def list_projects(self, member_id: int | None = None) -> list[AnnotationProjectInfo]:
        """Every annotation project, or only those ``member_id`` belongs to."""
        with self._sessions() as session:
            if member_id is None:
                return self._projects(session)
            member = exists().where(
                ProjectMemberRow.project_id == ProjectRow.id, ProjectMemberRow.annotator_id == member_id
            )
            return self._projects(session, member)

    def update_project(
        self,
        project_id: int,
        *,
        instructions: str | None = None,
        settings: dict[str, Any] | None = None,
        status: str | None = None,
    ) -> AnnotationProjectInfo:
        with self._write(project_id) as session:
            row = session.get(AnnotationProjectRow, project_id)
            if row is None:
                raise NotFoundError(f"no project with id {project_id}")
            if instructions is not None:
                row.instructions = instructions
            if settings is not None:
                row.settings = to_json(dict(settings), "settings")
            if status is not None:
                if status not in ("active", "stopped"):
                    raise ConfigError(f"status must be 'active' or 'stopped', got {status!r}")
                row.status = status
        return self.get_project(project_id)

    @staticmethod
    def _projects(session: Session, *where: Any) -> list[AnnotationProjectInfo]:
        rows = session.execute(
            select(ProjectRow, AnnotationProjectRow)
            .join(AnnotationProjectRow, AnnotationProjectRow.project_id == ProjectRow.id)
            .where(*where)
            .order_by(ProjectRow.id)
        )
        return [
            AnnotationProjectInfo(
                id=p.id, name=p.name, task=p.task, label_names=list(p.label_names),
                instructions=a.instructions, settings=dict(a.settings), status=a.status,
                run_id=a.run_id, created_at=_utc(p.created_at),
            )
            for p, a in rows
        ]

    # -- members ---------------------------------------------------------------------------------

    def add_member(self, project_id: int, user_id: int) -> None:
        with self._write(project_id) as session:
            if session.get(AnnotatorRow, user_id) is None:
                raise NotFoundError(f"no user with id {user_id}")
            if session.get(ProjectMemberRow, (project_id, user_id)) is None:
                session.add(ProjectMemberRow(project_id=project_id, annotator_id=user_id, created_at=_now()))

    def remove_member(self, project_id: int, user_id: int) -> None:
        with self._write(project_id) as session:
            session.execute(
                delete(ProjectMemberRow).where(
                    ProjectMemberRow.project_id == project_id, ProjectMemberRow.annotator_id == user_id
                )
            )

    def list_members(self, project_id: int) -> list[UserInfo]:
        with self._sessions() as session:
            member = exists().where(
                ProjectMemberRow.project_id == project_id, ProjectMemberRow.annotator_id == AnnotatorRow.id
            )
            return self._users(session, member)

    def is_member(self, project_id: int, user_id: int) -> bool:
        with self._sessions() as session:
            return session.get(ProjectMemberRow, (project_id, user_id)) is not None

    # -- records ---------------------------------------------------------------------------------

    def add_records(
        self,
        project_id: int,
        external_ids: Sequence[str],
        payloads: Sequence[dict[str, Any] | None],
        *,
        roles: Sequence[str] | None = None,
        gold: Sequence[str | None] | None = None,
        seed: int = 0,
        labels: Sequence[ImportedLabel] = (),
    ) -> int:
        """Add new records to a project's queue (external ids it has are skipped); returns how many.

        New pool records join the end of the queue in a seeded random order until the next retrain
        ranks them; test records (with a ``gold`` label) are kept for evaluation and never queued.
        ``labels`` (from another tool's export) are written in the same transaction, as label events
        whose reason is ``import``: a refused label leaves nothing written.
        """
        records = NewRecords(external_ids, payloads, roles, gold)
        with self._write(project_id) as session:
            project = session.get(ProjectRow, project_id)
            if project is None:
                raise NotFoundError(f"no project with id {project_id}")
            added = _insert_records(session, project_id, *_check_records(records, project.label_names), seed=seed)
            if labels:
                info = self._projects(session, ProjectRow.id == project_id)[0]
                insert_imported_labels(
                    session, project_id, info.run_id, labels, k=int(info.settings.get("labels_per_record", 1)),
                    label_names=info.label_names, reason=IMPORT_REASON, now=_now(),
                )
        if added:
            self._analyze()
        return added

    def _analyze(self) -> None:
        """Refresh PostgreSQL's planner statistics after a bulk import.

        Until autovacuum gets to a freshly loaded table, the planner takes it for nearly empty and
        plans the queue's next-record walk as a scan and sort of every record: 0.4 s a request on
        15,000 records, against 0.2 ms with statistics (measured under the load benchmark).
        """
        if self.dialect == "postgresql":
            with self._engine.begin() as conn:
                conn.execute(text("ANALYZE records, annotation_records, assignments, annotation_events"))

    def delete_project(self, project_id: int) -> str:
        """Delete an annotation project and everything in it (records, labels, queue, loops); returns its name."""
        from ._annotation_delete import delete_project_rows

        with self._write(project_id) as session:
            return delete_project_rows(session, project_id)

    def get_record(self, project_id: int, record_id: int) -> QueueRecord:
        with self._sessions() as session:
            found = session.execute(
                select(RecordRow, AnnotationRecordRow)
                .join(AnnotationRecordRow, AnnotationRecordRow.record_id == RecordRow.id)
                .where(RecordRow.id == record_id, AnnotationRecordRow.project_id == project_id)
            ).first()
        if found is None:
            raise NotFoundError(f"project {project_id} has no record {record_id}")
        record, state = found
        return _queue_record(record, state, None)

    def list_records(self, project_id: int, offset: int = 0, limit: int = 50) -> tuple[list[QueueRecord], int]:
        with self._sessions() as session:
            base = (
                select(RecordRow, AnnotationRecordRow)
                .join(AnnotationRecordRow, AnnotationRecordRow.record_id == RecordRow.id)
                .where(AnnotationRecordRow.project_id == project_id)
            )
            count = session.scalar(select(func.count()).select_from(base.subquery())) or 0
            rows = session.execute(base.order_by(RecordRow.id).offset(offset).limit(limit)).all()
        return [_queue_record(r, s, None) for r, s in rows], int(count)

    # -- the queue -------------------------------------------------------------------------------

    def lease_next(
        self, project_id: int, user_id: int, k: int, lease_seconds: float, budget: int | None = None
    ) -> QueueRecord | None:
        """The annotator's current lease, else the best-ranked record they may take, leased to them.

        With a ``budget``, a record nobody has labelled or holds is leased only while fewer than
        ``budget`` records are labelled or held (:meth:`budget_used`), so the queue never hands out
        more records than the budget pays for. The hot path of the server: on SQLite three prepared
        statements in one serialised transaction (four with a budget); on PostgreSQL the project lock
        and one statement (storage/_queue_pg.py), so the lock is held for one round trip and the commit.
        """
        now = _now()
        expires = now + timedelta(seconds=lease_seconds)
        with self._write_conn(project_id) as conn:
            if not self._sqlite:
                # One statement under the project lock (see _queue_pg): the lock is held one round trip.
                found = conn.execute(
                    PG_LEASE_NEXT,
                    {"project": project_id, "user": user_id, "k": k, "now": now, "expires": expires,
                     "budget": budget},
                ).first()
                if found is None:
                    return None
                return QueueRecord(
                    record_id=found.record_id, external_id=found.external_id, payload=_payload(found.payload),
                    role=found.role, state=found.state, n_labels=found.n_labels, lease_expires_at=expires,
                )
            mine = conn.execute(_SQL_MY_LEASES, {"user": user_id, "project": project_id}).all()
            live = [row for row in mine if _utc(row.expires_at) > now]
            lapsed = [row.id for row in mine if _utc(row.expires_at) <= now]
            if lapsed:
                conn.execute(delete(AssignmentRow).where(AssignmentRow.id.in_(lapsed)))
            if live:
                conn.execute(_SQL_EXTEND_LEASE, {"id": live[0].id, "expires": expires})
                found = conn.execute(_SQL_QUEUE_RECORD, {"record": live[0].record_id}).first()
            else:
                spent = budget is not None and _budget_used(conn, project_id, now) >= budget
                found = conn.execute(
                    _SQL_CANDIDATE_STARTED if spent else _SQL_CANDIDATE,
                    {"project": project_id, "user": user_id, "k": k, "now": now},
                ).first()
                if found is None:
                    return None
                conn.execute(_SQL_LEASE, {"record": found.record_id, "user": user_id, "expires": expires})
            assert found is not None
            return QueueRecord(
                record_id=found.record_id, external_id=found.external_id, payload=_payload(found.payload),
                role=found.role, state=found.state, n_labels=found.n_labels, lease_expires_at=expires,
            )

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
        if value not in project.label_names:
            raise DataError(f"label {value!r} is not a class of this project; classes: {project.label_names}")
        now = _now()
        with self._write_conn(project.id) as conn:
            state = conn.execute(
                _SQL_LABEL_STATE,
                {"record": record_id, "project": project.id, "user": user.id, "name": user.name,
                 "run": project.run_id, "now": now},
            ).first()
            if state is None:
                raise NotFoundError(f"project {project.id} has no record {record_id}")
            if state.role != "pool":
                raise ConflictError(f"record {record_id} is a test record; it is not labelled here")
            if state.state == "flagged":
                raise ConflictError(f"record {record_id} is flagged; it takes no labels")
            if state.labelled:
                raise ConflictError(f"you have already labelled record {record_id}; undo it to change it")
            if state.my_lease is None or _utc(_as_datetime(state.my_lease)) <= now:
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
                # The four writes as one statement (see _queue_pg): one round trip with the lock held.
                ids = conn.execute(
                    PG_WRITE_LABEL,
                    {"record": record_id, "run": project.run_id, "value": value, "name": user.name, "now": now,
                     "head": state.head, "project": project.id, "user": user.id, "n": n_labels,
                     "state": "done" if n_labels >= k else "open"},
                ).one()
                label_id, event_id = ids.label_id, ids.event_id
            else:
                label_id, event_id = self._write_label_sqlite(
                    conn, project, record_id, user, value, state.head, n_labels, k, now
                )
        if sync:
            self.sync()
        return LabelAck(int(label_id), int(event_id), record_id, str(state.external_id), value, user.name, now)

    @staticmethod
    def _write_label_sqlite(
        conn: Connection, project: AnnotationProjectInfo, record_id: int, user: UserInfo, value: str,
        head: int | None, n_labels: int, k: int, now: datetime,
    ) -> tuple[int, int]:
        """A label's writes on SQLite, one statement each (it has no data-modifying CTEs; no round trips)."""
        label_id = conn.execute(
            _SQL_INSERT_LABEL,
            {"record": record_id, "run": project.run_id, "value": value, "name": user.name, "now": now,
             "head": head},
        ).scalar_one()
        event_id = conn.execute(
            _SQL_INSERT_EVENT,
            {"project": project.id, "record": record_id, "user": user.id, "label": label_id, "now": now},
        ).scalar_one()
        conn.execute(
            _SQL_COUNT_LABEL, {"record": record_id, "n": n_labels, "state": "done" if n_labels >= k else "open"}
        )
        conn.execute(_SQL_RELEASE, {"record": record_id, "user": user.id})
        return int(label_id), int(event_id)

    def budget_used(self, project_id: int) -> int:
        """Pool records that count against a label budget: labelled at least once, or held under a live lease."""
        with self._engine.connect() as conn:
            return _budget_used(conn, project_id, _now())

    def cleanup_leases(self) -> int:
        """Delete lapsed leases (the queue ignores them anyway); returns how many."""
        with self._write() as session:
            result = session.execute(delete(AssignmentRow).where(AssignmentRow.expires_at <= _now()))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def skip(self, project_id: int, record_id: int, user_id: int) -> None:
        """Give a record back; this annotator will not be served it again, others will."""
        now = _now()
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
                    AssignmentRow.expires_at > _now(),
                )
            )
            return bool(holds) or self._current_label_event(session, record_id, user_id) is not None

    def flag(self, project_id: int, record_id: int, user_id: int, reason: str) -> None:
        """Mark a record as not relevant or corrupt: nobody is served it and training leaves it out."""
        now = _now()
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
        now = _now()
        undone = aliased(AnnotationEventRow)
        with self._write(project_id) as session:
            row = self._queue_row(session, project_id, record_id)
            if row.state != "flagged":
                raise ConflictError(f"record {record_id} is not flagged")
            flag_event = session.scalar(
                select(AnnotationEventRow.id)
                .where(
                    AnnotationEventRow.record_id == record_id, AnnotationEventRow.kind == "flag",
                    ~exists().where(undone.undoes_id == AnnotationEventRow.id),
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
        now = _now()
        expires = now + timedelta(seconds=lease_seconds)
        undone = aliased(AnnotationEventRow)
        with self._write(project_id) as session:
            last = session.execute(
                select(AnnotationEventRow.id, AnnotationEventRow.record_id, AnnotationEventRow.label_id)
                .where(
                    AnnotationEventRow.project_id == project_id,
                    AnnotationEventRow.annotator_id == user.id,
                    AnnotationEventRow.kind == "label",
                    ~exists().where(undone.undoes_id == AnnotationEventRow.id),
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
            taken_back = _queue_record(record, state, expires)
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
        undone = aliased(AnnotationEventRow)
        return session.scalar(
            select(AnnotationEventRow.id).where(
                AnnotationEventRow.record_id == record_id,
                AnnotationEventRow.annotator_id == user_id,
                AnnotationEventRow.kind == "label",
                ~exists().where(undone.undoes_id == AnnotationEventRow.id),
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

    # -- reading labels and progress -------------------------------------------------------------

    def current_labels(self, project_id: int) -> list[CurrentLabel]:
        """Every label in force (not undone) on the project's records, oldest first."""
        undone = aliased(AnnotationEventRow)
        with self._sessions() as session:
            rows = session.execute(
                select(
                    AnnotationEventRow.record_id, RecordRow.external_id, AnnotatorRow.name, LabelRow.value,
                    LabelRow.id, LabelRow.created_at,
                )
                .join(LabelRow, LabelRow.id == AnnotationEventRow.label_id)
                .join(RecordRow, RecordRow.id == AnnotationEventRow.record_id)
                .join(AnnotatorRow, AnnotatorRow.id == AnnotationEventRow.annotator_id)
                .where(
                    AnnotationEventRow.project_id == project_id,
                    AnnotationEventRow.kind == "label",
                    ~exists().where(undone.undoes_id == AnnotationEventRow.id),
                )
                .order_by(AnnotationEventRow.id)
            )
            return [CurrentLabel(r, str(e), str(a), str(v), int(i), _utc(c)) for r, e, a, v, i, c in rows]

    def label_ids(self, project_id: int) -> list[tuple[int, str, str]]:
        """(label id, value, annotator) of every label row of the project's run: the audit trail."""
        settings = self.get_project(project_id)
        with self._sessions() as session:
            rows = session.execute(
                select(LabelRow.id, LabelRow.value, LabelRow.annotator)
                .where(LabelRow.run_id == settings.run_id)
                .order_by(LabelRow.id)
            )
            return [(int(i), str(v), str(a)) for i, v, a in rows]

    def n_labelled_records(self, project_id: int) -> int:
        """Pool records with at least one label in force: one indexed count, cheap enough to poll."""
        with self._engine.connect() as conn:
            return int(conn.execute(_SQL_N_LABELLED, {"project": project_id}).scalar_one())

    def progress(self, project_id: int) -> Progress:
        now = _now()
        with self._sessions() as session:
            by_state = dict(
                session.execute(
                    select(AnnotationRecordRow.state, func.count())
                    .where(AnnotationRecordRow.project_id == project_id, AnnotationRecordRow.role == "pool")
                    .group_by(AnnotationRecordRow.state)
                ).all()
            )
            n_test = session.scalar(
                select(func.count()).where(
                    AnnotationRecordRow.project_id == project_id, AnnotationRecordRow.role == "test"
                )
            ) or 0
            n_labels = session.scalar(
                select(func.coalesce(func.sum(AnnotationRecordRow.n_labels), 0)).where(
                    AnnotationRecordRow.project_id == project_id
                )
            ) or 0
            n_skips = session.scalar(
                select(func.count()).where(
                    AnnotationEventRow.project_id == project_id, AnnotationEventRow.kind == "skip"
                )
            ) or 0
            n_held = session.scalar(
                select(func.count())
                .select_from(AssignmentRow)
                .join(AnnotationRecordRow, AnnotationRecordRow.record_id == AssignmentRow.record_id)
                .where(AnnotationRecordRow.project_id == project_id, AssignmentRow.expires_at > now)
            ) or 0
            undone = aliased(AnnotationEventRow)
            per_annotator = {
                str(name): int(count)
                for name, count in session.execute(
                    select(AnnotatorRow.name, func.count())
                    .join(AnnotationEventRow, AnnotationEventRow.annotator_id == AnnotatorRow.id)
                    .where(
                        AnnotationEventRow.project_id == project_id,
                        AnnotationEventRow.kind == "label",
                        ~exists().where(undone.undoes_id == AnnotationEventRow.id),
                    )
                    .group_by(AnnotatorRow.name)
                )
            }
        n_pool = sum(int(v) for v in by_state.values())
        return Progress(
            n_pool=n_pool, n_test=int(n_test), n_done=int(by_state.get("done", 0)),
            n_open=int(by_state.get("open", 0)), n_flagged=int(by_state.get("flagged", 0)),
            n_labels=int(n_labels), n_skips=int(n_skips), n_held=int(n_held), labels_per_annotator=per_annotator,
        )

    # -- learning --------------------------------------------------------------------------------

    def snapshot(self, project_id: int) -> list[SnapshotRecord]:
        """Every record of the project with its queue state, in record id order (for training)."""
        with self._sessions() as session:
            rows = session.execute(
                select(RecordRow, AnnotationRecordRow)
                .join(AnnotationRecordRow, AnnotationRecordRow.record_id == RecordRow.id)
                .where(AnnotationRecordRow.project_id == project_id)
                .order_by(RecordRow.id)
            )
            return [
                SnapshotRecord(r.id, r.external_id, r.payload, s.role, s.gold, s.state, s.n_labels, s.rank)
                for r, s in rows
            ]

    def record_loop(self, project_id: int, run_id: str, loop: LoopWrite) -> None:
        """``Store.record_loop`` for a loop without label rows, written so the queue barely waits.

        The artifacts (fsynced files) are written before taking the write lock; the transaction that
        adds the loop's rows is then as short as the queue's own.
        """
        if loop.selected_ids or loop.labels:
            raise DataError("annotation loops carry no label rows: human labels are written as they come")
        values = _check_loop(loop)
        artifact_hash = self.store._artifacts.put_arrays(loop.arrays)
        model_hash = None if loop.model is None else self.store._artifacts.put_bytes(loop.model)
        now = _now()
        with self._write(project_id) as session:
            self.store._lock_running_run(session, run_id)
            last = session.scalar(select(func.max(LoopRow.loop_index)).where(LoopRow.run_id == run_id))
            expected = 0 if last is None else last + 1
            if loop.loop_index != expected:
                raise StoreError(f"run {run_id} expects loop {expected} next, got loop_index {loop.loop_index}")
            session.execute(
                insert(LoopRow),
                [{
                    "run_id": run_id, "loop_index": loop.loop_index, "strategy": loop.strategy, "selected_ids": [],
                    "n_labelled": loop.n_labelled, "metrics": values["metrics"], "timings": values["timings"],
                    "label_cost": values["label_cost"], "artifact_hash": artifact_hash, "created_at": now,
                }],
            )
            if model_hash is not None:
                session.execute(
                    insert(ModelVersionRow),
                    [{"run_id": run_id, "loop_index": loop.loop_index, "artifact_hash": model_hash, "created_at": now}],
                )
        self.sync()

    def apply_ranking(
        self, project_id: int, record_ids: Sequence[int], ranks: Sequence[int], scores: Sequence[float | None]
    ) -> None:
        """Write a new queue order, a chunk per transaction so annotators' requests interleave."""
        rows = [
            {"record_id": int(r), "rank": int(k), "score": None if s is None or not np.isfinite(s) else float(s)}
            for r, k, s in zip(record_ids, ranks, scores, strict=True)
        ]
        # Small chunks, each its own short transaction: the queue waits a millisecond, not a whole update.
        for chunk in _chunks(rows, _RANK_CHUNK):
            with self._write_conn(project_id) as conn:
                conn.execute(_SQL_SET_RANK, list(chunk))


# The queue's hot paths as prepared text statements: building SQLAlchemy expressions per request cost
# ten times more than running them. Datetimes are bound through the column type, so SQLite stores and
# compares them in the same format as the ORM does.
_TS = DateTime(timezone=True)
_SQL_MY_LEASES = text(
    "SELECT a.id, a.record_id, a.expires_at FROM assignments a "
    "JOIN annotation_records q ON q.record_id = a.record_id "
    "WHERE a.annotator_id = :user AND q.project_id = :project ORDER BY a.id"
).columns(id=Integer, record_id=Integer, expires_at=_TS)
_SQL_EXTEND_LEASE = text("UPDATE assignments SET expires_at = :expires WHERE id = :id").bindparams(
    bindparam("expires", type_=_TS)
)
_RECORD_COLUMNS = "q.record_id, r.external_id, r.payload, q.role, q.state, q.n_labels"
_SQL_QUEUE_RECORD = text(
    f"SELECT {_RECORD_COLUMNS} FROM annotation_records q JOIN records r ON r.id = q.record_id "
    "WHERE q.record_id = :record"
)
# Walk the project's open records in rank order (index project_id, state, rank); take the first that
# has room (labels plus live leases under k) and that this annotator has not labelled or skipped.
_SQL_CANDIDATE = text(
    f"SELECT {_RECORD_COLUMNS} FROM annotation_records q JOIN records r ON r.id = q.record_id "
    "WHERE q.project_id = :project AND q.state = 'open' "
    "AND q.n_labels + (SELECT count(*) FROM assignments a WHERE a.record_id = q.record_id "
    "AND a.expires_at > :now) < :k "
    "AND NOT EXISTS (SELECT 1 FROM annotation_events e WHERE e.record_id = q.record_id "
    "AND e.annotator_id = :user AND e.kind IN ('label', 'skip')) "
    "ORDER BY q.rank, q.record_id LIMIT 1"
).bindparams(bindparam("now", type_=_TS))
# The same walk, among records already labelled or held (k > 1): what may still be served once the
# budget is spent.
_SQL_CANDIDATE_STARTED = text(
    f"SELECT {_RECORD_COLUMNS} FROM annotation_records q JOIN records r ON r.id = q.record_id "
    "WHERE q.project_id = :project AND q.state = 'open' "
    "AND q.n_labels + (SELECT count(*) FROM assignments a WHERE a.record_id = q.record_id "
    "AND a.expires_at > :now) < :k "
    "AND (q.n_labels > 0 OR EXISTS (SELECT 1 FROM assignments a WHERE a.record_id = q.record_id "
    "AND a.expires_at > :now)) "
    "AND NOT EXISTS (SELECT 1 FROM annotation_events e WHERE e.record_id = q.record_id "
    "AND e.annotator_id = :user AND e.kind IN ('label', 'skip')) "
    "ORDER BY q.rank, q.record_id LIMIT 1"
).bindparams(bindparam("now", type_=_TS))
# Records a label budget has paid for or promised: labelled (flagged ones too: their labels were
# bought), or leased to someone right now.
_SQL_BUDGET_USED = text(
    "SELECT count(*) FROM annotation_records q WHERE q.project_id = :project AND q.role = 'pool' "
    "AND (q.n_labels > 0 OR EXISTS (SELECT 1 FROM assignments a WHERE a.record_id = q.record_id "
    "AND a.expires_at > :now))"
).bindparams(bindparam("now", type_=_TS))
_SQL_LEASE = text(
    "INSERT INTO assignments (record_id, annotator_id, expires_at) VALUES (:record, :user, :expires)"
).bindparams(bindparam("expires", type_=_TS))
_SQL_LABEL_STATE = text(
    "SELECT q.role, q.state, q.n_labels, r.external_id, "
    "(SELECT max(a.expires_at) FROM assignments a WHERE a.record_id = q.record_id "
    "AND a.annotator_id = :user) AS my_lease, "
    "(SELECT count(*) FROM assignments a WHERE a.record_id = q.record_id AND a.annotator_id != :user "
    "AND a.expires_at > :now) AS others, "
    "(SELECT max(l.id) FROM labels l WHERE l.record_id = q.record_id AND l.run_id = :run "
    "AND l.annotator = :name) AS head, "
    "EXISTS (SELECT 1 FROM annotation_events e WHERE e.record_id = q.record_id AND e.annotator_id = :user "
    "AND e.kind = 'label' AND NOT EXISTS (SELECT 1 FROM annotation_events u WHERE u.undoes_id = e.id)) "
    "AS labelled "
    "FROM annotation_records q JOIN records r ON r.id = q.record_id "
    "WHERE q.record_id = :record AND q.project_id = :project"
).bindparams(bindparam("now", type_=_TS))
_SQL_INSERT_LABEL = text(
    "INSERT INTO labels (record_id, run_id, value, source, annotator, created_at, supersedes_id) "
    "VALUES (:record, :run, :value, 'human', :name, :now, :head) RETURNING id"
).bindparams(bindparam("now", type_=_TS))
_SQL_INSERT_EVENT = text(
    "INSERT INTO annotation_events (project_id, record_id, annotator_id, kind, label_id, created_at) "
    "VALUES (:project, :record, :user, 'label', :label, :now) RETURNING id"
).bindparams(bindparam("now", type_=_TS))
_SQL_COUNT_LABEL = text("UPDATE annotation_records SET n_labels = :n, state = :state WHERE record_id = :record")
_SQL_SET_RANK = text("UPDATE annotation_records SET rank = :rank, score = :score WHERE record_id = :record_id")
_SQL_RELEASE = text("DELETE FROM assignments WHERE record_id = :record AND annotator_id = :user")

_SQL_N_LABELLED = text(
    "SELECT count(*) FROM annotation_records WHERE project_id = :project AND role = 'pool' AND state != 'flagged' AND n_labels > 0"
)

_SQL_LOCK_PROJECT = text("UPDATE annotation_projects SET status = status WHERE project_id = :project")


def _check_records(records: NewRecords, label_names: Sequence[str]) -> tuple[list[str], list[Any], list[str], list[str | None]]:
    """Ids, JSON payloads, roles and gold labels of ``records``, refused (DataError) before anything is written."""
    ids = [str(i) for i in records.external_ids]
    n = len(ids)
    roles, gold = records.roles, records.gold
    if len(records.payloads) != n or (roles is not None and len(roles) != n) or (gold is not None and len(gold) != n):
        raise DataError("external_ids, payloads, roles and gold must have one entry per record")
    for index, external_id in enumerate(ids):
        if not external_id or len(external_id) > _MAX_EXTERNAL_ID:
            raise DataError(f"record {index}: an id must be 1 to {_MAX_EXTERNAL_ID} characters, got {external_id!r}")
    if len(set(ids)) != n:
        raise DataError("the imported records repeat an id; ids must be unique")
    role_list = list(roles) if roles is not None else ["pool"] * n
    gold_list: list[str | None] = list(gold) if gold is not None else [None] * n
    for index, (role, value) in enumerate(zip(role_list, gold_list, strict=True)):
        if role not in ("pool", "test"):
            raise DataError(f"record {ids[index]!r}: role must be 'pool' or 'test', got {role!r}")
        if role == "test" and value not in label_names:
            raise DataError(f"test record {ids[index]!r}: its label {value!r} is not one of {list(label_names)}")
    clean = [to_json(p, f"payloads[{i}]") for i, p in enumerate(records.payloads)]
    return ids, clean, role_list, gold_list


def _insert_records(
    session: Session, project_id: int, ids: list[str], clean: list[Any], role_list: list[str],
    gold_list: list[str | None], *, seed: int,
) -> int:
    """Insert the records the project lacks (by external id) at the end of its queue; returns how many."""
    n = len(ids)
    present: set[str] = set()
    for chunk in _chunks(ids, _CHUNK):
        present.update(
            session.scalars(
                select(RecordRow.external_id).where(
                    RecordRow.project_id == project_id, RecordRow.external_id.in_(chunk)
                )
            )
        )
    new = [i for i in range(n) if ids[i] not in present]
    if not new:
        return 0
    inserted = session.execute(
        insert(RecordRow).returning(RecordRow.id, sort_by_parameter_order=True),
        [{"project_id": project_id, "external_id": ids[i], "payload": clean[i]} for i in new],
    ).scalars().all()
    highest = session.scalar(
        select(func.coalesce(func.max(AnnotationRecordRow.rank), -1)).where(
            AnnotationRecordRow.project_id == project_id
        )
    )
    start = max(int(highest if highest is not None else -1), -1) + 1
    order = np.random.default_rng([seed, project_id, start]).permutation(len(new))
    session.execute(
        insert(AnnotationRecordRow),
        [
            {
                "record_id": record_id,
                "project_id": project_id,
                "role": role_list[i],
                "gold": gold_list[i] if role_list[i] == "test" else None,
                "rank": start + int(position),
                "score": None,
                "n_labels": 0,
                # Test records are never queued: 'done' keeps them out of the queue's walk.
                "state": "open" if role_list[i] == "pool" else "done",
            }
            for record_id, i, position in zip(inserted, new, order, strict=True)
        ],
    )
    return len(new)


def _lock_project(conn: Connection, project_id: int) -> None:
    # A write as the first statement: on PostgreSQL it locks the project's row until commit; on SQLite
    # it takes the database's write lock before anything is read, so another process's commit cannot
    # make this transaction's snapshot stale (which SQLite reports as 'database is locked' at once).
    if conn.execute(_SQL_LOCK_PROJECT, {"project": project_id}).rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError(f"no annotation project with id {project_id}")


def _budget_used(conn: Connection, project_id: int, now: datetime) -> int:
    return int(conn.execute(_SQL_BUDGET_USED, {"project": project_id, "now": now}).scalar_one())


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


@contextmanager
def _nolock() -> Iterator[None]:
    yield


def _normal_sync(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    if not record.info.get("loopwise_sync_normal"):
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()
        record.info["loopwise_sync_normal"] = True


class _WalSyncer:
    """Group commit for SQLite: one fsync of the WAL covers every commit that finished before it began."""

    def __init__(self, database: str) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._count = itertools.count(1)
        self._issued = 0
        self._synced = 0

    def sync(self) -> None:
        ticket = next(self._count)
        self._issued = max(self._issued, ticket)
        with self._lock:
            if self._synced >= ticket:
                return
            covered = self._issued
            # Frames not in the WAL any more were checkpointed into the database file, which SQLite
            # syncs itself; so the WAL is the one file to sync (the database only if there is no WAL).
            for path in (self.database + "-wal", self.database):
                try:
                    fd = os.open(path, os.O_RDONLY)
                except FileNotFoundError:
                    continue
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
                break
            self._synced = covered


def _queue_record(record: RecordRow, state: AnnotationRecordRow, expires: datetime | None) -> QueueRecord:
    return QueueRecord(
        record_id=record.id, external_id=record.external_id, payload=record.payload, role=state.role,
        state=state.state, n_labels=state.n_labels, lease_expires_at=expires,
    )


def _chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


__all__ = [
    "RETRACTED",
    "AnnotationProjectInfo",
    "AnnotationRepository",
    "ConflictError",
    "CurrentLabel",
    "LabelAck",
    "Progress",
    "QueueRecord",
    "SnapshotRecord",
    "UserInfo",
]

"""The Store: the one entry point through which loopwise reads and writes projects, runs and loops."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from loopwise.errors import ConfigError, DataError, NotFoundError, StoreError

from . import _migrate
from ._artifacts import ArtifactStore
from ._checks import check_cost, check_label_list, check_same_project, check_unique
from ._db import is_sqlite_file, make_engine, make_sessionmaker, parse_url, writer
from ._json import to_json
from ._models import TABLES, TASKS, LabelRow, ProjectRow, RecordRow
from ._store_runs import RunQueries, project_row
from ._types import LabelInfo, ProjectInfo
from ._util import as_utc, chunks, utc_now

# Keeps `IN (...)` lists under the bound-parameter limit of old SQLite builds (999).
_IN_CHUNK = 900
_MAX_EXTERNAL_ID = 512
_ANALYZE_AFTER = 1000
# WITH ORDINALITY keeps the input order, so record ids follow the order the caller gave.
_PG_INSERT_RECORDS = text(
    "INSERT INTO records (project_id, external_id, payload) "
    "SELECT :project_id, t.external_id, CAST(t.payload AS JSON) "
    "FROM unnest(CAST(:ids AS TEXT[]), CAST(:payloads AS TEXT[])) "
    "WITH ORDINALITY AS t(external_id, payload, position) "
    "ORDER BY t.position "
    "ON CONFLICT (project_id, external_id) DO NOTHING "
    "RETURNING id"
)


class Store(RunQueries):
    """Projects, records, runs, loops and labels in a database; arrays and models in a folder.

    Open one with :meth:`Store.open`; close it (or use it as a context manager) when done.
    Every method runs in its own transaction and returns plain dataclasses.
    """

    url: str
    artifacts_dir: Path

    def __init__(self, engine: Engine, url: str, artifacts: ArtifactStore) -> None:
        self._engine = engine
        self._sessions = make_sessionmaker(engine)
        # Every write transaction of the store takes the write lock as it begins (see _db.writer).
        self._write_sessions = make_sessionmaker(writer(engine))
        self._artifacts = artifacts
        self.url = url
        self.artifacts_dir = artifacts.root

    # -- lifecycle -------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str | None = None, artifacts_dir: str | Path | None = None) -> Store:
        """Open (and create or upgrade) the store at ``url``.

        ``url`` is any SQLAlchemy URL; ``None`` means ``sqlite:///loopwise.db`` in the working
        directory. Artifacts go to ``artifacts_dir``, by default ``<db stem>.artifacts/`` next to a
        SQLite file; other databases need ``artifacts_dir``.
        """
        parsed = parse_url(url)
        if artifacts_dir is None:
            if not is_sqlite_file(parsed):
                raise ConfigError(
                    f"artifacts_dir is required for the store at {parsed!r}: only a SQLite file "
                    "has a default artifact folder (next to the file)"
                )
            db_path = Path(str(parsed.database))
            artifacts_dir = db_path.with_name(f"{db_path.stem}.artifacts")
        engine = make_engine(parsed)
        try:
            _migrate.ensure_current(engine)
        except OperationalError as exc:
            engine.dispose()
            raise StoreError(f"cannot open the store at {parsed!r}: {exc.orig}") from exc
        except BaseException:
            engine.dispose()
            raise
        artifacts = ArtifactStore(artifacts_dir)
        artifacts.root.mkdir(parents=True, exist_ok=True)
        return cls(engine, parsed.render_as_string(hide_password=False), artifacts)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store(url={self._engine.url!r}, artifacts_dir='{self.artifacts_dir}')"

    # -- projects and records --------------------------------------------------------------------

    def get_or_create_project(
        self, name: str, task: str, label_names: list[str], cost_per_label: float = 1.0
    ) -> ProjectInfo:
        """The project called ``name``, created if new; an existing one must match the arguments."""
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"a project name must be a non-empty string, got {name!r}")
        if task not in TASKS:
            raise ConfigError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
        labels = check_label_list(label_names)
        cost = check_cost(cost_per_label, "cost_per_label")

        existing = self._find_project(name)
        if existing is None:
            try:
                with self._write_sessions.begin() as session:
                    row = ProjectRow(
                        name=name,
                        task=task,
                        label_names=labels,
                        cost_per_label=cost,
                        created_at=utc_now(),
                    )
                    session.add(row)
                    session.flush()
                    return _project_info(row)
            except IntegrityError:
                # Another process created it between our look and our insert: use theirs.
                existing = self._find_project(name)
                if existing is None:
                    raise
        check_same_project(existing, task, labels, cost)
        return existing

    def add_records(
        self,
        project_id: int,
        external_ids: Sequence[str],
        payloads: Sequence[dict[str, Any] | None] | None = None,
    ) -> int:
        """Insert the records whose external ids the project does not have yet; return how many."""
        ids = list(external_ids)
        for index, external_id in enumerate(ids):
            if not isinstance(external_id, str) or not external_id:
                raise DataError(
                    f"external_ids[{index}] must be a non-empty string, got {external_id!r}"
                )
            if len(external_id) > _MAX_EXTERNAL_ID:
                raise DataError(
                    f"external_ids[{index}] is {len(external_id)} characters long; "
                    f"at most {_MAX_EXTERNAL_ID} are allowed"
                )
        check_unique(ids, "external_ids")
        if payloads is not None and len(payloads) != len(ids):
            raise DataError(
                f"payloads has {len(payloads)} items but external_ids has {len(ids)}; "
                "give one payload per record (or none at all)"
            )
        clean_payloads: list[Any] | None = None
        if payloads is not None:
            clean_payloads = []
            for index, payload in enumerate(payloads):
                if payload is not None and not isinstance(payload, Mapping):
                    raise DataError(
                        f"payloads[{index}] must be a dict or None, got {type(payload).__name__}"
                    )
                clean_payloads.append(to_json(payload, f"payloads[{index}]"))

        with self._write_sessions.begin() as session:
            project_row(session, project_id)
            inserted = _insert_new_records(session, project_id, ids, clean_payloads) if ids else 0
        if inserted >= _ANALYZE_AFTER and self._engine.dialect.name == "postgresql":
            # Until autovacuum runs, PostgreSQL plans as if the project had a handful of records
            # and scans them all for every id lookup (seconds per loop at 75k records).
            with self._engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "ANALYZE records"
                )
        return inserted

    # -- artifacts -------------------------------------------------------------------------------

    def load_arrays(self, artifact_hash: str) -> dict[str, np.ndarray]:
        """The arrays of a loop, by its ``LoopInfo.artifact_hash``."""
        return self._artifacts.get_arrays(artifact_hash)

    # -- labels and bookkeeping ------------------------------------------------------------------

    def label_history(self, project_id: int, external_id: str) -> list[LabelInfo]:
        """Every label a record was given, oldest first; a correction names the label it supersedes."""
        with self._sessions() as session:
            record_id = session.scalar(
                select(RecordRow.id).where(
                    RecordRow.project_id == project_id, RecordRow.external_id == external_id
                )
            )
            if record_id is None:
                raise NotFoundError(
                    f"project {project_id} has no record with external id {external_id!r}"
                )
            rows = session.scalars(
                select(LabelRow).where(LabelRow.record_id == record_id).order_by(LabelRow.id)
            )
            return [_label_info(row, external_id) for row in rows]

    def counts(self) -> dict[str, int]:
        """Rows per table, e.g. to check that a failed operation changed nothing."""
        with self._sessions() as session:
            query = select(
                *(
                    select(func.count()).select_from(table).scalar_subquery().label(
                        table.__tablename__
                    )
                    for table in TABLES
                )
            )
            row = session.execute(query).one()
            return {name: int(count) for name, count in row._mapping.items()}

    # -- helpers ---------------------------------------------------------------------------------

    def _find_project(self, name: str) -> ProjectInfo | None:
        with self._sessions() as session:
            row = session.scalar(select(ProjectRow).where(ProjectRow.name == name))
            return None if row is None else _project_info(row)


def _insert_new_records(
    session: Session, project_id: int, ids: list[str], payloads: list[Any] | None
) -> int:
    """Insert the records whose external id is new to the project; return how many were new."""
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        # One statement over two arrays: a third of the time of batched VALUES lists at 75k rows.
        # The database skips the ids it has (race-free, no lookups); RETURNING counts the others.
        if payloads is None:
            texts: list[str | None] = [None] * len(ids)
        else:
            texts = [None if payload is None else json.dumps(payload) for payload in payloads]
        result = connection.execute(
            _PG_INSERT_RECORDS, {"project_id": project_id, "ids": ids, "payloads": texts}
        )
        return len(result.all())
    rows: list[dict[str, Any]] = [
        {"project_id": project_id, "external_id": external_id} for external_id in ids
    ]
    if payloads is not None:
        for row, payload in zip(rows, payloads, strict=True):
            row["payload"] = payload
    if dialect == "sqlite":
        statement = sqlite.insert(RecordRow).on_conflict_do_nothing(
            index_elements=["project_id", "external_id"]
        )
        # executemany in batched VALUES lists, not one ORM object per record.
        return len(connection.execute(statement.returning(RecordRow.id), rows).all())
    present = existing_external_ids(session, project_id, ids)
    new_rows = [row for row in rows if row["external_id"] not in present]
    if new_rows:
        connection.execute(insert(RecordRow), new_rows)
    return len(new_rows)


def existing_external_ids(session: Session, project_id: int, ids: Sequence[str]) -> set[str]:
    """The ones of ``ids`` the project has already, looked up a chunk of ids at a time."""
    present: set[str] = set()
    for chunk in chunks(ids, _IN_CHUNK):
        present.update(
            session.scalars(
                select(RecordRow.external_id).where(
                    RecordRow.project_id == project_id, RecordRow.external_id.in_(chunk)
                )
            )
        )
    return present


def _project_info(row: ProjectRow) -> ProjectInfo:
    return ProjectInfo(
        id=row.id,
        name=row.name,
        task=row.task,
        label_names=list(row.label_names),
        cost_per_label=row.cost_per_label,
        created_at=as_utc(row.created_at),
    )


def _label_info(row: LabelRow, external_id: str) -> LabelInfo:
    return LabelInfo(
        id=row.id,
        external_id=external_id,
        value=row.value,
        source=row.source,
        annotator=row.annotator,
        run_id=row.run_id,
        created_at=as_utc(row.created_at),
        supersedes_id=row.supersedes_id,
        model_version=row.model_version,
        confidence=row.confidence,
    )

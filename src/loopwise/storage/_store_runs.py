"""Runs and loops of the store: creating and finishing runs, recording loops (with their labels), reading them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from loopwise.core.tasks import CLASSIFICATION, check_task, is_label_value
from loopwise.errors import ConfigError, DataError, NotFoundError, StoreError

from ._artifacts import ArtifactStore
from ._checks import check_loop
from ._json import to_json
from ._models import LabelRow, LoopRow, ModelVersionRow, ProjectRow, RecordRow, RunRow
from ._types import LoopInfo, LoopWrite, RunInfo
from ._util import as_utc, chunks, utc_now

# Keeps `IN (...)` lists under the bound-parameter limit of old SQLite builds (999).
_IN_CHUNK = 900
_FINAL_STATUSES = ("finished", "failed")
_LIST_RUNS_HINT = "list the runs with `loopwise runs list`"


class RunQueries:
    """The runs-and-loops half of :class:`Store` (which sets these attributes when it opens)."""

    _engine: Engine
    _sessions: sessionmaker  # type: ignore[type-arg]
    _write_sessions: sessionmaker  # type: ignore[type-arg]
    _artifacts: ArtifactStore

    def create_run(
        self, project_id: int, config: dict[str, Any], name: str | None = None, task: str = CLASSIFICATION
    ) -> str:
        """Start a run (status 'running') of ``task`` (what its labels are) and return its id, a 12-digit hex string."""
        check_task(task, "a run's task")
        if not isinstance(config, Mapping):
            raise ConfigError(f"config must be a dict, got {type(config).__name__}")
        if name is not None and not isinstance(name, str):
            raise ConfigError(f"a run name must be a string or None, got {name!r}")
        clean_config = to_json(config, "config")
        with self._write_sessions.begin() as session:
            project_row(session, project_id)
            # Short enough to type on the command line; 48 random bits make a clash negligible.
            run_id = uuid.uuid4().hex[:12]
            session.add(
                RunRow(
                    id=run_id,
                    project_id=project_id,
                    name=name,
                    config=clean_config,
                    status="running",
                    created_at=utc_now(),
                    task=task,
                )
            )
        return run_id

    def record_loop(self, run_id: str, loop: LoopWrite) -> None:
        """Persist one loop: its row, one label per selected record, and its model if any.

        Arrays and model go to the artifact folder first; then a single transaction writes the rows.
        A failure anywhere leaves the database as it was (at most an unreferenced artifact file).
        """
        values = check_loop(loop)
        artifact_hash = self._artifacts.put_arrays(loop.arrays)
        model_hash = None if loop.model is None else self._artifacts.put_bytes(loop.model)
        now = utc_now()
        try:
            with self._write_sessions.begin() as session:
                run = self._lock_running_run(session, run_id)
                last = session.scalar(
                    select(func.max(LoopRow.loop_index)).where(LoopRow.run_id == run_id)
                )
                expected = 0 if last is None else last + 1
                if last is not None and loop.loop_index == last and _same_loop(
                    session, run_id, loop, values, artifact_hash
                ):
                    # A retry of a write that committed (the caller lost the answer, not the
                    # data): it is already stored, once; storing nothing more is the answer.
                    return
                if loop.loop_index != expected:
                    raise StoreError(
                        f"run {run_id} expects loop {expected} next, got loop_index "
                        f"{loop.loop_index}; loops are recorded in order, once each"
                    )
                project = project_row(session, run.project_id)
                unknown = sorted(v for v in set(loop.labels) if not is_label_value(run.task, v, project.label_names))
                if unknown:
                    kind = "classes" if run.task == CLASSIFICATION else f"{run.task} labels"
                    raise DataError(
                        f"labels {unknown} are not {kind} of project {project.name!r} "
                        f"(classes: {project.label_names})"
                    )
                record_ids = self._record_ids(session, project, loop.selected_ids)
                session.execute(
                    insert(LoopRow),
                    [
                        {
                            "run_id": run_id,
                            "loop_index": loop.loop_index,
                            "strategy": loop.strategy,
                            "selected_ids": list(loop.selected_ids),
                            "n_labelled": loop.n_labelled,
                            "metrics": values["metrics"],
                            "timings": values["timings"],
                            "label_cost": values["label_cost"],
                            "artifact_hash": artifact_hash,
                            "created_at": now,
                        }
                    ],
                )
                if record_ids:
                    heads = self._label_heads(session, run_id, record_ids)
                    session.execute(
                        insert(LabelRow),
                        [
                            {
                                "record_id": record_id,
                                "run_id": run_id,
                                "value": value,
                                "source": loop.label_source,
                                "annotator": loop.annotator,
                                "created_at": now,
                                "supersedes_id": heads.get(record_id),
                            }
                            for record_id, value in zip(record_ids, loop.labels, strict=True)
                        ],
                    )
                if model_hash is not None:
                    session.execute(
                        insert(ModelVersionRow),
                        [
                            {
                                "run_id": run_id,
                                "loop_index": loop.loop_index,
                                "artifact_hash": model_hash,
                                "created_at": now,
                            }
                        ],
                    )
        except IntegrityError as exc:
            raise StoreError(
                f"could not record loop {loop.loop_index} of run {run_id}; nothing was written: "
                f"{exc.orig}"
            ) from exc

    def finish_run(self, run_id: str, status: str = "finished") -> None:
        """Mark a running run 'finished' or 'failed'."""
        if status not in _FINAL_STATUSES:
            raise ConfigError(f"status must be one of {', '.join(_FINAL_STATUSES)}; got {status!r}")
        with self._write_sessions.begin() as session:
            self._lock_running_run(session, run_id)
            session.execute(
                update(RunRow)
                .where(RunRow.id == run_id)
                .values(status=status, finished_at=utc_now())
                .execution_options(synchronize_session=False)
            )

    def reopen_run(self, run_id: str) -> None:
        """Mark a 'failed' run 'running' again so it can be resumed; a running run is left as it is."""
        with self._write_sessions.begin() as session:
            run = session.get(RunRow, run_id, with_for_update=True)
            if run is None:
                raise run_not_found(run_id)
            if run.status == "finished":
                raise StoreError(f"run {run_id} has finished; only a failed or interrupted run can be resumed")
            run.status = "running"
            run.finished_at = None

    def get_run(self, run_id: str) -> RunInfo:
        with self._sessions() as session:
            runs = self._run_infos(session, RunRow.id == run_id)
        if not runs:
            raise run_not_found(run_id)
        return runs[0]

    def list_runs(self, project_id: int | None = None) -> list[RunInfo]:
        """All runs (of one project if given), oldest first."""
        with self._sessions() as session:
            if project_id is None:
                return self._run_infos(session)
            return self._run_infos(session, RunRow.project_id == project_id)

    def loops(self, run_id: str) -> list[LoopInfo]:
        """The recorded loops of a run, by loop_index."""
        with self._sessions() as session:
            if session.get(RunRow, run_id) is None:
                raise run_not_found(run_id)
            rows = session.scalars(
                select(LoopRow).where(LoopRow.run_id == run_id).order_by(LoopRow.loop_index)
            )
            return [_loop_info(row) for row in rows]

    def load_model(self, run_id: str, loop_index: int) -> bytes | None:
        """The model checkpoint saved with a loop, or None if that loop saved none."""
        with self._sessions() as session:
            if session.get(RunRow, run_id) is None:
                raise run_not_found(run_id)
            artifact_hash = session.scalar(
                select(ModelVersionRow.artifact_hash).where(
                    ModelVersionRow.run_id == run_id, ModelVersionRow.loop_index == loop_index
                )
            )
        if artifact_hash is None:
            return None
        return self._artifacts.get_bytes(artifact_hash)

    @staticmethod
    def _lock_running_run(session: Session, run_id: str) -> RunRow:
        # A write as the first statement: on SQLite it takes the database write lock (waiting for
        # other writers) before we read; on PostgreSQL it locks the run's row. Either way two
        # writers of one run cannot both see loop k as the last one.
        touched = session.execute(
            update(RunRow)
            .where(RunRow.id == run_id)
            .values(status=RunRow.status)
            .execution_options(synchronize_session=False)
        )
        if touched.rowcount == 0:  # type: ignore[attr-defined]
            raise run_not_found(run_id)
        run = session.get(RunRow, run_id)
        if run is None:
            raise run_not_found(run_id)
        if run.status != "running":
            raise StoreError(
                f"run {run_id} is {run.status}; only a running run can record loops or finish"
            )
        return run

    @staticmethod
    def _record_ids(session: Session, project: ProjectRow, external_ids: list[str]) -> list[int]:
        by_external: dict[str, int] = {}
        for chunk in chunks(external_ids, _IN_CHUNK):
            found = session.execute(
                select(RecordRow.external_id, RecordRow.id).where(
                    RecordRow.project_id == project.id, RecordRow.external_id.in_(chunk)
                )
            )
            by_external.update({external_id: record_id for external_id, record_id in found})
        missing = [external_id for external_id in external_ids if external_id not in by_external]
        if missing:
            raise NotFoundError(
                f"{len(missing)} selected ids are not records of project {project.name!r}, "
                f"e.g. {missing[:5]}; add them first with Store.add_records"
            )
        return [by_external[external_id] for external_id in external_ids]

    @staticmethod
    def _label_heads(session: Session, run_id: str, record_ids: list[int]) -> dict[int, int]:
        # Labels are only appended, so the newest label of a record in a run is the one with the
        # highest id: the one a new label supersedes.
        heads: dict[int, int] = {}
        for chunk in chunks(record_ids, _IN_CHUNK):
            found = session.execute(
                select(LabelRow.record_id, func.max(LabelRow.id))
                .where(LabelRow.run_id == run_id, LabelRow.record_id.in_(chunk))
                .group_by(LabelRow.record_id)
            )
            heads.update({record_id: head for record_id, head in found})
        return heads

    @staticmethod
    def _run_infos(session: Session, *where: Any) -> list[RunInfo]:
        n_loops = (
            select(func.count(LoopRow.id))
            .where(LoopRow.run_id == RunRow.id)
            .correlate(RunRow)
            .scalar_subquery()
        )
        query = (
            select(RunRow, ProjectRow.name, ProjectRow.label_names, n_loops)
            .join(ProjectRow, ProjectRow.id == RunRow.project_id)
            .where(*where)
            .order_by(RunRow.created_at, RunRow.id)
        )
        return [
            RunInfo(
                id=run.id,
                project_id=run.project_id,
                project_name=project_name,
                config=run.config,
                status=run.status,
                name=run.name,
                created_at=as_utc(run.created_at),
                finished_at=None if run.finished_at is None else as_utc(run.finished_at),
                n_loops=int(count),
                label_names=list(label_names),
                task=run.task,
            )
            for run, project_name, label_names, count in session.execute(query)
        ]


def _same_loop(
    session: Session, run_id: str, loop: LoopWrite, values: dict[str, Any], artifact_hash: str
) -> bool:
    """Whether the stored loop ``loop.loop_index`` of ``run_id`` is exactly ``loop``, labels included."""
    row = session.scalar(
        select(LoopRow).where(LoopRow.run_id == run_id, LoopRow.loop_index == loop.loop_index)
    )
    if row is None or (
        row.strategy,
        list(row.selected_ids),
        row.n_labelled,
        row.metrics,
        row.timings,
        row.label_cost,
        row.artifact_hash,
    ) != (
        loop.strategy,
        list(loop.selected_ids),
        loop.n_labelled,
        values["metrics"],
        values["timings"],
        values["label_cost"],
        artifact_hash,
    ):
        return False
    # The labels this loop wrote are its records' newest labels in the run: it is the last loop.
    newest = select(func.max(LabelRow.id)).where(LabelRow.run_id == run_id).group_by(LabelRow.record_id)
    stored: dict[str, str] = {}
    for chunk in chunks(loop.selected_ids, _IN_CHUNK):
        found = session.execute(
            select(RecordRow.external_id, LabelRow.value)
            .join(RecordRow, RecordRow.id == LabelRow.record_id)
            .where(LabelRow.id.in_(newest), RecordRow.external_id.in_(chunk))
        )
        stored.update({external_id: value for external_id, value in found})
    return stored == dict(zip(loop.selected_ids, loop.labels, strict=True))


def project_row(session: Session, project_id: int) -> ProjectRow:
    """The project's row; NotFoundError if there is none."""
    row = session.get(ProjectRow, project_id)
    if row is None:
        raise NotFoundError(f"no project with id {project_id}")
    return row


def run_not_found(run_id: str) -> NotFoundError:
    """The error for an unknown run id, with how to list the runs."""
    return NotFoundError(f"no run with id {run_id!r}; {_LIST_RUNS_HINT}")


def _loop_info(row: LoopRow) -> LoopInfo:
    return LoopInfo(
        loop_index=row.loop_index,
        strategy=row.strategy,
        selected_ids=list(row.selected_ids),
        n_labelled=row.n_labelled,
        metrics=row.metrics,
        timings=row.timings,
        label_cost=row.label_cost,
        artifact_hash=row.artifact_hash,
        created_at=as_utc(row.created_at),
    )

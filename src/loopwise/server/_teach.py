"""`loopwise teach` without the terminal: one person labels a file's records through the server's queue and learner.

The project, its records, every label and every loop live in the same store the annotation server uses
(``AnnotationRepository``), so a label is committed before the next record is served and a second run of
the same command continues where the first stopped. Retraining is the server's own (``LearningWorker``,
which drives the engine's ``Loop``), run in this process every ``batch`` labels. It sits with the server
because it is a client of the server's parts (import, settings checks, learning worker, failures), in
process; the command line's terminal front end is ``cli/_teach.py``.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from loopwise.errors import ConfigError, DataError
from loopwise.storage import AnnotationRepository, Store
from loopwise.storage._annotation_import import ImportedLabel
from loopwise.storage._annotation_store import AnnotationProjectInfo, NewRecords, QueueRecord, UserInfo

TEACH_USER = "teach"
LEASE_SECONDS = 7 * 24 * 3600  # one person: the record on screen stays theirs
# Keys by class position, as in the web UI: digits for the first nine, then letters that no command uses.
COMMAND_KEYS = frozenset("squ?")
LETTERS = [c for c in "abcdefghijklmnopqrstuvwxyz" if c not in COMMAND_KEYS]
CLASS_KEYS = [str(d) for d in range(1, 10)] + LETTERS


def class_keys(label_names: list[str]) -> dict[str, str]:
    """Key -> class name by position: 1-9, then the letters no command uses; classes past those have no key."""
    return {key: name for key, name in zip(CLASS_KEYS, label_names, strict=False)}


@dataclass(frozen=True)
class Suggestion:
    """The model's prediction for a record: its top classes with their probabilities, best first."""

    top: list[tuple[str, float]]

    @property
    def label(self) -> str:
        return self.top[0][0]

    @property
    def probability(self) -> float:
        return self.top[0][1]


def parse_labels(labels: str) -> list[str]:
    """The class names of ``--labels a,b,c``; empty or repeated names are refused."""
    names = [part.strip() for part in (labels or "").split(",")]
    if not labels or not labels.strip() or any(not name for name in names):
        raise ConfigError(f"--labels takes comma-separated class names such as pos,neg; got {labels!r}")
    if len(set(names)) != len(names):
        raise ConfigError(f"--labels names a class more than once: {names}")
    if len(names) < 2:
        raise ConfigError(f"--labels needs at least two classes; got {names}")
    return names


@dataclass(frozen=True)
class TeachFile:
    """A file's records, read and checked before the store is opened (bad input leaves the store untouched)."""

    path: Path
    task: str
    text_field: str
    labels: list[str]
    records: Any  # _imports.ImportedRecords
    given: list[ImportedLabel]


def read_teach_file(
    path: Path, *, labels: list[str], text_column: str | None, id_column: str | None, label_column: str
) -> TeachFile:
    """The records of a CSV/JSONL/Parquet file; a missing file or column, or a label outside ``labels``, is named."""
    from loopwise.server._imports import read_path

    if not path.is_file():
        raise DataError(f"{path}: no such file")
    task = "text" if text_column else "tabular"
    # The label column stays in the payloads here, to be checked against the classes below.
    records = read_path(
        path, task=task, media_dir=Path(tempfile.gettempdir()), id_column=id_column, label_column="\x00",
        split_column="split", label_names=labels, max_zip_bytes=0, text_field=text_column or "text",
    )
    given = _label_column(records.payloads, records.external_ids, path, label_column, labels)
    return TeachFile(path, task, text_column or "text", labels, records, given)


class TeachSession:
    """One annotator's session on one project: the next record, its suggestion, label, skip, undo, retrain."""

    def __init__(self, repo: AnnotationRepository, project: AnnotationProjectInfo, user: UserInfo, batch: int) -> None:
        from loopwise.server._learning import LearningWorker

        self.repo = repo
        self.project = project
        self.user = user
        self.batch = batch
        # The media folder is read for image projects only; teach makes text and tabular ones.
        self.worker = LearningWorker(repo, Path(tempfile.gettempdir()), subprocess=False)
        self._proba: dict[int, np.ndarray] = {}
        self.last_error: str | None = None  # why the last retrain failed, if it did
        self._load_last_loop()

    @classmethod
    def open(
        cls, store: Store, source: TeachFile, *, project_name: str | None, strategy: str, learner: str, batch: int,
    ) -> TeachSession:
        """The session on the file's project (created on the first run, continued after), its new records added."""
        repo = AnnotationRepository(store)
        name = project_name or f"teach:{source.path.stem}"
        project = next((p for p in repo.list_projects() if p.name == name), None)
        if project is not None and project.label_names != source.labels:
            raise ConfigError(
                f"project {name!r} in this store has classes {project.label_names}; --labels gives {source.labels} "
                "(give the same classes to continue it, or --project NAME for a new project)"
            )
        settings = _settings(source.task, strategy, learner, batch, source.text_field) if project is None else None
        user = next((u for u in repo.list_users() if u.name == TEACH_USER), None) or repo.create_user(TEACH_USER, "admin")
        records = source.records
        if project is None:
            assert settings is not None
            # Labels the file already has are the project's first labels, written with its records.
            new = NewRecords(records.external_ids, records.payloads, records.roles, records.gold, source.given)
            project = repo.create_project(name, source.task, source.labels, "", settings, records=new)
        else:
            repo.add_records(project.id, records.external_ids, records.payloads)
        return cls(repo, repo.get_project(project.id), user, batch)

    # -- the queue -----------------------------------------------------------------------------
    def next_record(self) -> QueueRecord | None:
        """The record to label now (the one on screen when the last run stopped, else the best ranked)."""
        return self.repo.lease_next(self.project.id, self.user.id, 1, LEASE_SECONDS)

    def label(self, record: QueueRecord, value: str) -> None:
        """Commit a label, then retrain when a batch of labels has come in since the last loop."""
        self.repo.submit_label(self.project, record.record_id, self.user, value, 1)
        if self.labels_since_retrain() >= self.batch:
            self.retrain()

    def skip(self, record: QueueRecord) -> None:
        self.repo.skip(self.project.id, record.record_id, self.user.id)

    def undo(self) -> tuple[str, QueueRecord]:
        """Take back the last action (label, skip or flag), as the web page's undo does; its record is served next."""
        return self.repo.undo_last_action(self.project.id, self.user, 1, LEASE_SECONDS)

    def n_labelled(self) -> int:
        return self.repo.n_labelled_records(self.project.id)

    def n_pool(self) -> int:
        return self.repo.progress(self.project.id).n_pool

    def labels_since_retrain(self) -> int:
        loops = self.repo.store.loops(self.project.run_id)
        return self.n_labelled() - (loops[-1].n_labelled if loops else 0)

    # -- the model -----------------------------------------------------------------------------
    def retrain(self) -> None:
        """Fit on every label so far, re-rank the queue and record the loop (the server's retrain, in process).

        A retrain that fails is stored as the server stores it and kept in ``last_error``; the labels stay
        committed and the queue keeps its last ranking, so labelling goes on.
        """
        from loopwise.server._failures import failure_message, remember_failure

        try:
            result = self.worker.retrain(self.project.id)
        except Exception as exc:  # the labels are stored; the person keeps labelling and sees why
            remember_failure(self.repo, self.project.id, exc)
            self.last_error = failure_message(exc)
            return
        self.last_error = None
        if result is not None:
            self._keep(result.arrays)

    def suggestion(self, record: QueueRecord, top: int = 3) -> Suggestion | None:
        """The last model's top classes for ``record``, or None before the first retrain."""
        row = self._proba.get(record.record_id)
        if row is None:
            return None
        order = np.argsort(-row, kind="stable")[:top]
        names = self.project.label_names
        return Suggestion([(names[i], float(row[i])) for i in order if i < len(names)])

    def _load_last_loop(self) -> None:
        loops = self.repo.store.loops(self.project.run_id)
        if loops:
            self._keep(self.repo.store.load_arrays(loops[-1].artifact_hash))

    def _keep(self, arrays: dict[str, np.ndarray]) -> None:
        ids, proba = arrays.get("pool_record_ids"), arrays.get("model_proba", arrays.get("pool_proba"))
        if ids is not None and proba is not None:
            self._proba = {int(i): row for i, row in zip(ids, proba, strict=True)}


def _settings(task: str, strategy: str, learner: str, batch: int, text_field: str) -> dict[str, Any]:
    """The project's settings, checked as the server checks them (unknown strategy or learner, a learner the data cannot feed)."""
    from loopwise.server._project_checks import check_settings
    from loopwise.server._schemas import ProjectSettings

    settings = ProjectSettings(strategy=strategy, learner=learner, batch_size=batch, text_field=text_field,
                               lease_seconds=LEASE_SECONDS)
    check_settings(settings, task)
    return settings.model_dump()


def _label_column(
    payloads: list[dict[str, Any]], ids: list[str], path: Path, column: str, labels: list[str]
) -> list[ImportedLabel]:
    """The labels a file's label column already gives (taken out of the payloads); a value outside the classes is refused."""
    given: list[ImportedLabel] = []
    for external_id, payload in zip(ids, payloads, strict=True):
        value = payload.pop(column, None)
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            continue
        if str(value) not in labels:
            raise DataError(
                f"{path}, record {external_id!r}, column {column!r}: label {value!r} is not one of --labels {labels}; "
                "give the classes the file uses, or drop the column"
            )
        given.append(ImportedLabel(external_id, str(value), TEACH_USER))
    return given

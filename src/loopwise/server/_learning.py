"""Background learning: retrain on the labels so far, re-rank the queue, record a loop in the store.

The worker is a thread that never holds a request up: labelling requests only bump a counter. The
heavy part (featurise, fit, score, evaluate) runs in a child process by default, so it does not
compete with request handling for the GIL; the thread then writes the loop and the new ranking.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from loopwise.core import LoopRecord, Pool
from loopwise.server._failures import remember_failure
from loopwise.server._project_checks import retrain_every as _retrain_every
from loopwise.server._ranking import HEAD_SIZE, predictions_for, rank_rows
from loopwise.stopping import parse_stopping
from loopwise.storage import AnnotationRepository, LoopWrite, Store

log = logging.getLogger("loopwise.server.learning")

IMAGE_SIDE = 16
STOP_SET = 1000
_CV_FOLDS = 5


@dataclass
class RetrainResult:
    """What one retrain produced; plain data, so it crosses from the child process."""

    project_id: int
    strategy: str
    n_labelled: int
    ranking: list[int]  # record ids, best first
    scores: list[float | None]
    front: list[int]  # open records that have labels but need more (k > 1): served first
    metrics: dict[str, Any]
    timings: dict[str, float]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    model: bytes | None = None


# -- features -----------------------------------------------------------------------------------
_feature_cache: dict[tuple[str, int], tuple[tuple[int, ...], Any, Any]] = {}


def _features(
    key: tuple[str, int], task: str, text_field: str, media_dir: Path, pool: list[Any], test: list[Any]
) -> tuple[Any, Any]:
    signature = tuple(r.record_id for r in pool) + (-1,) + tuple(r.record_id for r in test)
    cached = _feature_cache.get(key)
    if cached is not None and cached[0] == signature:
        return cached[1], cached[2]
    import pandas as pd  # here, not at the top: serving requests needs neither pandas nor scikit-learn
    from loopwise.data import Dataset, featurize
    records = pool + test
    if task == "image":
        X = np.stack([_image_vector(media_dir, r.payload) for r in records]) if records else np.zeros((0, IMAGE_SIDE**2))
        X_pool, X_test = X[: len(pool)], X[len(pool) :]
    else:
        frame = pd.DataFrame.from_records([dict(r.payload or {}) for r in records])
        if task == "text":
            if text_field not in frame.columns:
                frame[text_field] = ""
            frame = frame[[text_field]].fillna("").astype(str)
            roles: dict[str, list[str]] = {"text_columns": [text_field]}
        else:
            numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
            categorical = [c for c in frame.columns if c not in numeric]
            for column in categorical:
                frame[column] = frame[column].astype(str)
            roles = {"numeric_columns": numeric, "categorical_columns": categorical}
        dataset = Dataset(
            name=key[0], source="annotation", task=task, ids=np.arange(len(records)).astype(str), frame=frame,
            images=None, y=np.zeros(len(records), dtype=np.int64), label_names=["?"], split=None, **roles,
        )
        X_pool, X_test = featurize(dataset, np.arange(len(pool)), np.arange(len(pool), len(records)))
    if len(_feature_cache) > 8:
        _feature_cache.clear()
    _feature_cache[key] = (signature, X_pool, X_test)
    return X_pool, X_test


def _image_vector(media_dir: Path, payload: dict[str, Any] | None) -> np.ndarray:
    from PIL import Image

    name = (payload or {}).get("image")
    try:
        with Image.open(media_dir / str(name)) as image:
            small = image.convert("L").resize((IMAGE_SIDE, IMAGE_SIDE))
            return np.asarray(small, dtype=np.float32).reshape(-1) / np.float32(255.0)
    except (OSError, ValueError):
        return np.zeros(IMAGE_SIDE * IMAGE_SIDE, dtype=np.float32)


# -- one retrain ----------------------------------------------------------------------------------


def compute_retrain(repo: AnnotationRepository, project_id: int, media_dir: Path) -> RetrainResult | None:
    """Fit the project's learner on its labels, rank the unlabelled pool with its strategy."""
    from loopwise.evaluation import evaluate
    from loopwise.learners import as_learner, make_estimator
    from loopwise.loop import FixedSchedule, Loop
    from loopwise.strategies import make_strategy, ranks_candidates
    project = repo.get_project(project_id)
    settings = project.settings
    names = project.label_names
    index = {name: i for i, name in enumerate(names)}
    snapshot = repo.snapshot(project_id)
    votes: dict[int, list[str]] = {}
    for label in repo.current_labels(project_id):
        votes.setdefault(label.record_id, []).append(label.value)
    pool = [r for r in snapshot if r.role == "pool" and r.state != "flagged"]
    test = [r for r in snapshot if r.role == "test"]
    labelled = [i for i, r in enumerate(pool) if votes.get(r.record_id)]
    if not labelled or not pool:
        return None
    start = time.perf_counter()
    X_pool, X_test = _features(
        (repo.store.url, project_id), project.task, settings.get("text_field", "text"), media_dir, pool, test
    )
    timings = {"featurize": time.perf_counter() - start}
    # Majority vote; a tie goes to the label given first.
    y = np.asarray([index[Counter(votes[pool[i].record_id]).most_common(1)[0][0]] for i in labelled], dtype=np.int64)
    learner: Any = as_learner(make_estimator(settings.get("learner", "logreg"), seed=int(settings.get("seed", 0))), len(names))
    strategy = make_strategy(settings.get("strategy", "margin"), **settings.get("strategy_params", {}))
    n_candidates = len(pool) - len(labelled)
    # A strategy that only scores (no select of its own) ranks the whole pool at the cost of a sort.
    ranks_all = ranks_candidates(strategy)
    batch = max(1, n_candidates if ranks_all else min(int(settings.get("batch_size", 20)), n_candidates))
    ids = np.asarray([str(r.record_id) for r in pool])
    y_test = np.asarray([index[str(r.gold)] for r in test], dtype=np.int64) if test else None
    loop = Loop(
        Pool.new(ids, X_pool), learner, strategy,
        FixedSchedule(len(labelled), batch, len(pool)),
        seed=int(settings.get("seed", 0)),
        X_test=X_test if test else None, y_test=y_test, evaluate=evaluate if test else None,
        stop_set_size=STOP_SET,
    )
    seen = np.asarray(labelled, dtype=np.int64)
    start = time.perf_counter()
    loop.restore(
        [LoopRecord(0, "annotation", seen, ids[seen], y, len(labelled), {}, {}, np.zeros(0, dtype=np.int64))],
        None,
    )
    timings["train"] = time.perf_counter() - start
    ranking: list[int] = []
    scores: list[float | None] = []
    if n_candidates > 0:
        start = time.perf_counter()
        query = loop.propose()
        timings["select"] = time.perf_counter() - start
        chosen = [int(ids[p]) for p in query.positions]
        ranking = chosen
        scores = [float(s) for s in np.asarray(query.scores, dtype=np.float64)]
        rest = np.setdiff1d(loop.pool.unlabelled_positions, query.positions)
        rng = np.random.default_rng([int(settings.get("seed", 0)), project_id, len(labelled)])
        ranking += [int(ids[p]) for p in rng.permutation(rest)]
        scores += [None] * len(rest)
    model = loop.model
    assert model is not None
    start = time.perf_counter()
    if test:
        metrics = evaluate(y_test, model.predict_proba(X_test))  # type: ignore[arg-type]
        metrics["evaluation"] = "test"
    else:
        metrics = _cross_validate(learner, loop.pool.rows(seen), y, len(names))
    pool_proba = model.predict_proba(X_pool).astype(np.float32)
    stop_predictions = pool_proba[loop.stop_set].argmax(axis=1).astype(np.int64)
    timings["evaluate"] = time.perf_counter() - start
    k = int(settings.get("labels_per_record", 1))
    front = [r.record_id for r in pool if r.state == "open" and 0 < r.n_labels < k]
    try:
        checkpoint: bytes | None = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):
        checkpoint = None
    return RetrainResult(
        project_id=project_id, strategy=strategy.name, n_labelled=len(labelled), ranking=ranking, scores=scores,
        front=front, metrics=metrics, timings=timings, model=checkpoint,
        arrays={
            "ranking": np.asarray(ranking, dtype=np.int64),
            "labelled_record_ids": np.asarray([pool[i].record_id for i in labelled], dtype=np.int64),
            "labels": y,
            "pool_record_ids": ids.astype(np.int64),
            "pool_proba": pool_proba,
            "stop_predictions": stop_predictions,
        },
    )


def _cross_validate(learner: Any, X: Any, y: np.ndarray, n_classes: int) -> dict[str, Any]:
    """Out-of-fold probabilities scored like a test set; empty when the labels are too few to split."""
    from sklearn.model_selection import StratifiedKFold
    from loopwise.evaluation import evaluate

    counts = np.bincount(y, minlength=n_classes)
    present = counts[counts > 0]
    if len(present) < 2 or present.min() < 2:
        return {"evaluation": "cv", "note": "too few labels per class for cross-validation"}
    folds = StratifiedKFold(n_splits=int(min(_CV_FOLDS, present.min())), shuffle=True, random_state=0)
    proba = np.zeros((len(y), n_classes))
    for train, held in folds.split(np.zeros(len(y)), y):
        member = learner.clone()
        member.fit(X[train], y[train])
        proba[held] = member.predict_proba(X[held])
    metrics = evaluate(y, proba)
    metrics["evaluation"] = "cv"
    return metrics


# -- the child process ----------------------------------------------------------------------------

_child_repos: dict[tuple[str, str], AnnotationRepository] = {}


def retrain_in_child(url: str, artifacts_dir: str, project_id: int, media_dir: str) -> RetrainResult | None:
    repo = _child_repos.get((url, artifacts_dir))
    if repo is None:
        repo = AnnotationRepository(Store.open(url, artifacts_dir=artifacts_dir))
        _child_repos[(url, artifacts_dir)] = repo
    return compute_retrain(repo, project_id, Path(media_dir))


# -- the worker -----------------------------------------------------------------------------------


class LearningWorker:
    """Retrains a project after every ``retrain_every`` new labels, one project at a time, in the background."""

    def __init__(
        self, repo: AnnotationRepository, media_dir: Path, *, subprocess: bool = True, poll_seconds: float | None = None
    ) -> None:
        self.repo = repo
        self.media_dir = media_dir
        self.subprocess = subprocess
        # Set when labels arrive through other processes (``serve --workers N``): the store is then
        # polled for projects with ``retrain_every`` new labels, instead of counting them here.
        self.poll_seconds = poll_seconds
        self._poller: threading.Thread | None = None
        self._since: dict[int, int] = {}
        self._pending: list[int] = []
        self._busy: set[int] = set()
        self._cond = threading.Condition()
        self._stopping = False
        self._executor: ProcessPoolExecutor | None = None
        self._thread = threading.Thread(target=self._run, name="loopwise-learning", daemon=True)
        self.errors: list[str] = []
        self.on_change: Callable[[], None] | None = None
        # A passive worker (one of several server processes) leaves learning to another process.
        self.passive = False
        self.head_size = HEAD_SIZE

    def start(self) -> None:
        self._thread.start()
        if self.subprocess:
            # Start the child now: spawning it and importing scikit-learn takes seconds, which the
            # first retrain should not have to wait for.
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=get_context("spawn"), initializer=_background_priority
            )
            self._executor.submit(_background_priority)
        # A server that stopped with labels not yet learned from catches up now.
        self.catch_up()
        if self.poll_seconds is not None:
            self._poller = threading.Thread(target=self._poll, name="loopwise-learning-poll", daemon=True)
            self._poller.start()

    def catch_up(self) -> None:
        """Schedule every active project with ``retrain_every`` labels or more since its last loop."""
        for project in self.repo.list_projects():
            if project.status == "active" and not self.training(project.id) and (
                self._labels_since_last_loop(project.id) >= _retrain_every(project.settings)
            ):
                self.schedule(project.id)

    def _poll(self) -> None:
        assert self.poll_seconds is not None
        while True:
            with self._cond:
                if self._stopping or self._cond.wait_for(lambda: self._stopping, timeout=self.poll_seconds):
                    return
            try:
                self.catch_up()
            except Exception:  # a failed look at the store must not end polling; the next one may work
                log.exception("polling the store for new labels failed")

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        executor, self._executor = self._executor, None
        if executor is not None:  # killed, not awaited: it only computes (this thread writes) and may be slow
            for process in list((getattr(executor, "_processes", None) or {}).values()):
                process.kill()
            executor.shutdown(wait=True, cancel_futures=True)
        self._thread.join(timeout=30)
        if self._poller is not None:
            self._poller.join(timeout=30)

    def training(self, project_id: int) -> bool:
        with self._cond:
            return project_id in self._busy or project_id in self._pending

    def label_added(self, project_id: int, retrain_every: int) -> None:
        """Called after each acknowledged label; cheap, never blocks on training."""
        if self.passive:
            return
        with self._cond:
            self._since[project_id] = self._since.get(project_id, 0) + 1
            if self._since[project_id] >= retrain_every and project_id not in self._pending:
                self._pending.append(project_id)
                self._cond.notify()

    def schedule(self, project_id: int) -> None:
        """Retrain the project soon (a passive worker leaves it to the polling learner)."""
        if self.passive:
            return
        with self._cond:
            if project_id not in self._pending:
                self._pending.append(project_id)
                self._cond.notify()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                if not self._pending and not self._busy:
                    return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                project_id = self._pending.pop(0)
                self._busy.add(project_id)
                self._since[project_id] = 0
            try:
                self.retrain(project_id)
            except Exception as exc:  # a failed retrain must not kill the worker; it is reported
                if self._stopping:  # the child was ended by stop(): not a failure
                    return
                log.exception("retraining project %s failed", project_id)
                self.errors.append(f"project {project_id}: {exc}")
                remember_failure(self.repo, project_id, exc)
            finally:
                with self._cond:
                    self._busy.discard(project_id)

    def retrain(self, project_id: int) -> RetrainResult | None:
        """Retrain now (in the calling thread's turn): compute, then record the loop and the ranking."""
        project = self.repo.get_project(project_id)
        if project.status != "active":
            return None
        if self.subprocess:
            if self._executor is None:
                # spawn, not fork: forking a process that runs threads can copy a held lock into the child.
                self._executor = ProcessPoolExecutor(
                    max_workers=1, mp_context=get_context("spawn"), initializer=_background_priority
                )
            store = self.repo.store
            result = self._executor.submit(
                retrain_in_child, store.url, str(store.artifacts_dir), project_id, str(self.media_dir)
            ).result()
        else:
            result = compute_retrain(self.repo, project_id, self.media_dir)
        if result is None:
            return None
        self._record(project.run_id, result)
        return result

    def _record(self, run_id: str, result: RetrainResult) -> None:
        store = self.repo.store
        start = time.perf_counter()
        loops = store.loops(run_id)
        self.repo.record_loop(
            result.project_id,
            run_id,
            LoopWrite(
                loop_index=len(loops), strategy=result.strategy, selected_ids=[], labels=[],
                n_labelled=result.n_labelled, metrics=result.metrics, timings=result.timings,
                arrays=result.arrays, model=result.model, label_source="human",
            ),
        )
        ranked = set(result.ranking)
        front = [r for r in result.front if r not in ranked]
        record_ids, ranks, scores = rank_rows(len(loops), front, result.ranking, result.scores, self.head_size)
        predictions = predictions_for(result.arrays, record_ids)  # the model's top classes, for the annotate page
        self.repo.apply_ranking(result.project_id, record_ids, ranks, scores, predictions, result.strategy, len(loops))
        self.repo.clear_retrain_failure(result.project_id)  # the ranking is fresh again
        result.timings["write"] = time.perf_counter() - start
        self._check_stopping(result.project_id, run_id)

    def _check_stopping(self, project_id: int, run_id: str) -> None:
        project = self.repo.get_project(project_id)
        spec = project.settings.get("stopping")
        if not spec:
            return
        criterion = parse_stopping(spec)
        store = self.repo.store
        records = []
        for info in store.loops(run_id):
            arrays = store.load_arrays(info.artifact_hash)
            records.append(
                LoopRecord(
                    info.loop_index, info.strategy, np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64),
                    info.n_labelled, info.metrics, info.timings,
                    arrays.get("stop_predictions", np.zeros(0, dtype=np.int64)),
                )
            )
        if criterion.should_stop(records):
            log.info("project %s: stopping rule %s fired; the queue is closed", project_id, spec)
            self.repo.update_project(project_id, status="stopped")
            if self.on_change is not None:
                self.on_change()

    def _labels_since_last_loop(self, project_id: int) -> int:
        project = self.repo.get_project(project_id)
        loops = self.repo.store.loops(project.run_id)
        last = loops[-1].n_labelled if loops else 0
        return max(0, self.repo.n_labelled_records(project_id) - last)


def _background_priority() -> None:
    """Run the child at a lower CPU priority: on a busy machine, requests come before retraining.

    It also makes the child die with the server (see :func:`_die_with_parent`).
    """
    _die_with_parent()
    try:
        os.nice(10)
    except OSError:
        pass
    for name in ("loopwise.data", "loopwise.evaluation", "loopwise.learners", "loopwise.loop", "loopwise.strategies"):
        __import__(name)  # now, so that the first retrain does not wait for them


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with_parent() -> None:
    """Have Linux SIGKILL this child the moment the server dies, kill -9 included.

    A retrain outliving its server would hold the store and, through its copy of the pipe, keep
    multiprocessing's resource tracker alive too (both reparented to PID 1, forever). With the
    child gone, the tracker reads end-of-file on its pipe and exits by itself.
    """
    import ctypes
    import multiprocessing
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        os._exit(1)  # the server died before the request above was made: nobody will kill us


"""Background learning: feed the labels so far to the project's Loop, re-rank the queue, record the loop.

The worker is a thread that never holds a request up: labelling requests only bump a counter. The
heavy part (the Loop's TRAIN, EVALUATE, INFER and SELECT; see ``_driver``) runs in a niced child
process by default, which keeps each project's Loop between retrains, so it does not compete with
request handling for the GIL; the thread then writes the loop record and the new ranking.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from loopwise.server._driver import RetrainResult, compute_retrain
from loopwise.server._failures import remember_failure
from loopwise.server._label_quality import record_label_quality
from loopwise.server._project_checks import retrain_every as _retrain_every
from loopwise.server._ranking import HEAD_SIZE, predictions_for, rank_rows
from loopwise.storage import AnnotationRepository, Store

log = logging.getLogger("loopwise.server.learning")



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
        start = time.perf_counter()
        if result.write is not None:  # None: a cold-start order, before any label
            self.repo.record_loop(result.project_id, run_id, result.write)
        if result.auto is not None and result.auto.labels:  # source auto, the model of this loop; out of the queue
            self.repo.store_auto_labels(result.project_id, result.loop_index, result.auto.labels)
        ranked = set(result.ranking)
        front = [r for r in result.front if r not in ranked]
        # A cold-start order is written whole from rank 0 (as a loop "-1"), so loop 0's ranking, in the band below, comes first.
        band = -1 if result.write is None else result.loop_index
        record_ids, ranks, scores = rank_rows(band, front, result.ranking, result.scores, self.head_size)
        predictions = predictions_for(result.model_arrays, record_ids)  # the model's top classes, for the annotate page
        self.repo.apply_ranking(result.project_id, record_ids, ranks, scores, predictions, result.ranked_by, result.loop_index)
        record_label_quality(self.repo, result.project_id, result.loop_index, result.consensus, result.suspects)
        self.repo.clear_retrain_failure(result.project_id)  # the ranking is fresh again
        result.timings["write"] = time.perf_counter() - start
        if result.stop:
            log.info("project %s: its stopping rule fired; the queue is closed", result.project_id)
            self.repo.update_project(result.project_id, status="stopped")
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
    for name in ("loopwise.data", "loopwise.evaluation", "loopwise.experiments", "loopwise.learners", "loopwise.loop", "loopwise.strategies"):
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

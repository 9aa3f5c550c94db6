"""The Loop state machine: ``propose()`` a query, ``record()`` its labels, until ``should_stop()``."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from loopwise.core.pool import Pool
from loopwise.core.protocols import Learner
from loopwise.core.records import LoopRecord, Query
from loopwise.core.tasks import CLASSIFICATION, check_labels, check_task, hard_predictions
from loopwise.errors import ConfigError, LoopwiseError
from loopwise.loop._clock import cuda_seconds, process_cpu_seconds
from loopwise.loop._infer import predict_proba_pool
from loopwise.loop._initial import Initializer, RandomInit
from loopwise.loop._retrain import ProxySelection, SEALSCandidates
from loopwise.loop._schedules import Schedule
from loopwise.loop._weak import WeakTraining
from loopwise.stopping import StoppingCriterion
from loopwise.strategies import (
    COMMITTEE, EMBEDDINGS, FEATURES, HISTORY, KNOWN_REQUIREMENTS, LABELS, MC_SAMPLES, PROBA, History, Strategy, StrategyInputs,
)

RETRAIN_MODES = ("scratch", "warm_start", "new_only")

# Streams of the per-run random tree: every loop draws from its own child, so a
# resumed run draws exactly what an uninterrupted one would.
_SELECT, _COMMITTEE, _STOP_SET = 0, 1, 2
_CANDIDATE_GRAPH = 4  # after 3, the MC-dropout stream


def loop_rng(seed: int, loop_index: int, stream: int = _SELECT) -> np.random.Generator:
    """The generator of one loop and purpose, derived from the run seed alone."""
    return np.random.default_rng([seed, stream, loop_index])


class Loop:
    """One active-learning run over a pool, driven one loop at a time.

    ``propose()`` runs INFER and SELECT and returns a :class:`Query`;
    ``record(labels)`` runs LABEL bookkeeping, TRAIN and EVALUATE and returns a
    :class:`LoopRecord`. A script, a simulation or a web queue can drive it.
    ``evaluate(y_true, proba) -> dict`` is injected so this layer stays free of
    metric libraries; without a test set, ``evaluate_labelled(learner, X, y) -> dict``
    (cross-validation on the labelled set, as the annotation server does) is used instead.
    ``clock`` is injected so timings can be controlled in tests.
    ``executor`` (for instance ``loopwise.distributed.RayExecutor()``) runs
    INFER and SELECT on partitions of the pool; its selection equals the
    in-process one. ``proxy`` (:class:`ProxySelection`) runs INFER and SELECT on a
    cheap proxy model and trains the learner only at checkpoints; ``candidate_pool``
    (:class:`SEALSCandidates`) restricts SELECT to the labelled set's neighbourhood.
    ``task`` (:data:`loopwise.core.tasks.TASKS`) is what the pool's labels
    are; the strategy and learner must serve it, and the learner's ``predict_proba`` gives
    the task's output (class probabilities, label marginals, or mean and standard deviation).
    """

    def __init__(
        self,
        pool: Pool,
        learner: Learner,
        strategy: Strategy,
        schedule: Schedule,
        *,
        seed: int,
        initializer: Initializer | None = None,
        stopping: StoppingCriterion | None = None,
        retrain: str = "scratch",
        X_test: Any = None,
        y_test: np.ndarray | None = None,
        evaluate: Callable[[np.ndarray, np.ndarray], dict[str, Any]] | None = None,
        evaluate_labelled: Callable[[Learner, Any, np.ndarray], dict[str, Any]] | None = None,
        stop_set_size: int = 1000,
        committee_size: int | None = None,
        clock: Callable[[], float] = time.perf_counter,
        executor: Any = None,
        cpu_clock: Callable[[], float] = process_cpu_seconds,
        gpu_clock: Callable[[], float | None] = cuda_seconds,
        proxy: ProxySelection | None = None,
        candidate_pool: SEALSCandidates | None = None,
        task: str = CLASSIFICATION,
    ) -> None:
        task = check_task(task)
        served = getattr(strategy, "capabilities", None)
        if served is not None and task not in served.tasks:
            raise ConfigError(
                f"strategy {strategy.name!r} does not serve {task} pools (it serves {', '.join(sorted(served.tasks))})"
            )
        learner_task = getattr(learner, "task", CLASSIFICATION)
        if learner_task != task:
            raise ConfigError(f"the learner is for {learner_task} and the pool is {task}; give a {task} learner")
        if retrain not in RETRAIN_MODES:
            raise ConfigError(f"retrain mode must be one of {', '.join(RETRAIN_MODES)}; got {retrain!r}")
        unknown = set(strategy.requires) - KNOWN_REQUIREMENTS
        if unknown:
            raise ConfigError(f"strategy {strategy.name!r} requires unknown inputs {sorted(unknown)}")
        if schedule.initial_size > len(pool):
            raise ConfigError(f"initial sample ({schedule.initial_size}) is larger than the pool ({len(pool)} records)")
        if schedule.budget > len(pool):
            raise ConfigError(
                f"budget of {schedule.budget} labels is larger than the pool ({len(pool)} records); "
                f"lower --budget to at most {len(pool)}"
            )
        if (X_test is None) != (y_test is None):
            raise ConfigError("give both X_test and y_test, or neither")
        self.task = task
        self.pool = pool
        self.learner = learner
        self.strategy = strategy
        self.schedule = schedule
        self.seed = seed
        self.initializer = initializer or RandomInit()
        self.stopping = stopping
        self.retrain = retrain
        self.X_test = X_test
        self.y_test = None if y_test is None else np.asarray(y_test)
        if self.y_test is not None and task == CLASSIFICATION:
            self.y_test = self.y_test.astype(np.int64)
            _check_test_labels(self.y_test, X_test, getattr(learner, "n_classes", None))
        self.evaluate = evaluate
        self.evaluate_labelled = evaluate_labelled
        self.committee_size = committee_size or int(getattr(strategy, "n_members", 5))
        self.clock = clock
        # The cost ledger's compute: process CPU seconds (and CUDA seconds) of each step, injectable like clock.
        self.cpu_clock = cpu_clock
        self.gpu_clock = gpu_clock
        # Runs INFER + SELECT on partitions of the pool (loopwise.distributed.RayExecutor); None: in process.
        self.executor = executor
        self.records: list[LoopRecord] = []
        self.history = History(task=task)
        self.model: Learner | None = None
        self.proxy = proxy
        self.candidate_pool = candidate_pool
        self.proxy_model: Learner | None = None  # what INFER and SELECT read under selection via proxy
        self._pending: tuple[Query, dict[str, float], np.ndarray | None] | None = None
        self._selection_info: dict[str, Any] = {}  # what the strategy said about its choice: LoopRecord.extra["selection"]
        self.weak: WeakTraining | None = None  # weak labels that train beside people's at a lower weight (set_weak_labels)
        stop_rng = loop_rng(seed, 0, _STOP_SET)
        n_stop = min(stop_set_size, len(pool))
        self.stop_set = np.sort(stop_rng.choice(len(pool), size=n_stop, replace=False))

    # -- state ---------------------------------------------------------------
    @property
    def loop_index(self) -> int:
        """Index of the next loop to propose."""
        return len(self.records)

    @property
    def proposed(self) -> Query | None:
        """The query :meth:`propose` returned and :meth:`record` has not taken yet, if any."""
        return None if self._pending is None else self._pending[0]

    @property
    def proposed_proba(self) -> np.ndarray | None:
        """The pool probabilities (float32) the pending proposal was selected from: the current model's view."""
        return None if self._pending is None else self._pending[2]

    @property
    def proposed_selection(self) -> dict[str, Any]:
        """What the strategy said of the pending proposal, ``{}`` if none (auto's ``n_slice``: its first are the slice)."""
        return {} if self._pending is None else dict(self._selection_info)

    def should_stop(self) -> bool:
        """True when the budget is spent, the pool is exhausted, or the stopping criterion fires."""
        if self._pending is not None:
            return False
        n_unlabelled = len(self.pool) - self.pool.n_labelled
        if self.schedule.size_for(self.loop_index, self.pool.n_labelled, n_unlabelled, self.records) == 0:
            return True
        return self.stopping is not None and self.stopping.should_stop(self.records)

    def set_weak_labels(self, positions: np.ndarray, labels: np.ndarray, weight: float, row_weights: Any = None) -> None:
        """Train from now on also on weak ``labels`` of pool ``positions``, each row at ``weight`` (people's: 1),
        or at its own entry of ``row_weights`` (one per position, each in [0, 1]) when given.

        Weak labels (from labelling functions) never enter the pool: not in the budget nor ``n_labelled``, and a
        record a person labelled trains on that label alone. The learner's ``fit`` must take ``sample_weight``;
        weight 0 trains the model of no weak labels. Scratch retraining only; empty ``positions`` turn it off.
        """
        weak = WeakTraining.checked(positions, labels, weight, self, row_weights)
        self.weak = weak if len(weak.positions) else None

    def _fit_fresh(self) -> Learner:
        """A fresh model on the labelled set, plus the weak labels at their weight when there are any."""
        model = self.learner.clone()
        labelled = self.pool.labelled_positions
        if self.weak is None:
            model.fit(self.pool.rows(labelled), self.pool.labels[labelled])
            return model
        positions, y, weights = self.weak.training_set(labelled, self.pool.labels[labelled], self.pool.labelled_mask)
        model.fit(self.pool.rows(positions), y, sample_weight=weights)  # type: ignore[call-arg]
        return model

    # -- SELECT ---------------------------------------------------------------
    def propose(self) -> Query:
        """INFER on the pool and SELECT the next batch; call :meth:`record` with its labels next."""
        if self._pending is not None:
            raise LoopwiseError(f"loop {self.loop_index} already proposed; record its labels first")
        if self.should_stop():
            raise LoopwiseError("the run has stopped; nothing left to propose")
        index = self.loop_index
        rng = loop_rng(self.seed, index)
        n_unlabelled = len(self.pool) - self.pool.n_labelled
        size = self.schedule.size_for(index, self.pool.n_labelled, n_unlabelled, self.records)
        timings = {"infer": 0.0, "select": 0.0, "infer_cpu": 0.0, "select_cpu": 0.0}
        pool_proba: np.ndarray | None = None
        self._selection_info = {}
        if index == 0:
            start = self._start()
            positions = self.initializer.select(self.pool.X, self.pool.ids, size, rng)
            scores = np.zeros(len(positions))
            self._stop(timings, "select", start)
        elif self.executor is not None:
            # INFER and scoring happen where the partitions live, so they are timed as one step.
            candidates = self._candidates(size)
            start = self._start()
            selection, pool_proba = self.executor.propose(
                self.strategy, self._selector(), self.pool.X, candidates, self.pool.labelled_positions, size, rng
            )
            self._stop(timings, "select", start)
            self._check_selection(selection.positions, len(candidates), size)
            self._selection_info = dict(selection.info)
            positions = candidates[selection.positions]
            scores = np.asarray(selection.scores, dtype=np.float64)
            self.history.append(index, pool_proba)
        else:
            start = self._start()
            inputs, pool_proba = self._strategy_inputs(index, size)
            self._stop(timings, "infer", start)
            start = self._start()
            selection = self.strategy.select(inputs, size, rng)
            self._stop(timings, "select", start)
            self._check_selection(selection.positions, len(inputs.candidates), size)
            self._selection_info = dict(selection.info)
            positions = inputs.candidates[selection.positions]
            scores = np.asarray(selection.scores, dtype=np.float64)
            self.history.append(index, pool_proba)
        query = Query(loop_index=index, positions=np.asarray(positions, dtype=np.int64), ids=self.pool.ids[positions], scores=scores)
        self._pending = (query, timings, pool_proba)
        return query

    def _selector(self) -> Learner:
        """The model INFER and SELECT read: the proxy under selection via proxy, else the trained learner."""
        model = self.proxy_model if self.proxy is not None else self.model
        assert model is not None
        return model

    def _candidates(self, size: int) -> np.ndarray:
        """The unlabelled positions SELECT may pick from: all of them, or the SEALS neighbourhood."""
        unlabelled = self.pool.unlabelled_positions
        if self.candidate_pool is None:
            return unlabelled
        rng = loop_rng(self.seed, 0, _CANDIDATE_GRAPH)
        return self.candidate_pool.candidates(self.pool.X, self.pool.labelled_positions, unlabelled, size, rng)

    def _strategy_inputs(self, index: int, size: int) -> tuple[StrategyInputs, np.ndarray]:
        """INFER exactly what the strategy declared, plus the pool probabilities kept as history."""
        model = self._selector()
        candidates = self._candidates(size)
        requires = self.strategy.requires
        # Probabilities over the whole pool are the loop's own record (the history), so they
        # are computed every loop; float32 is the stored form, so a resumed run sees the same values.
        # Chunked, so the model's own (often float64) output never exceeds a chunk of the pool.
        pool_proba = predict_proba_pool(model, self.pool.X)
        fields: dict[str, Any] = {"candidates": candidates}
        if PROBA in requires:
            fields["proba"] = pool_proba[candidates]
        if FEATURES in requires:
            fields["features"] = self.pool.rows(candidates)
            fields["labelled_features"] = self.pool.rows(self.pool.labelled_positions)
        if EMBEDDINGS in requires:
            embed = getattr(model, "embed", None)
            if embed is None:
                raise ConfigError(f"strategy {self.strategy.name!r} needs embeddings; the learner has no embed()")
            embeddings = np.asarray(embed(self.pool.X), dtype=np.float32)
            fields["embeddings"] = embeddings[candidates]
            fields["labelled_embeddings"] = embeddings[self.pool.labelled_positions]
        if COMMITTEE in requires:
            fields["committee"] = self._committee(index, candidates)
        if MC_SAMPLES in requires:
            # Learners without their own posterior sampler fall back to the bagged committee: bootstrap
            # replicas approximate draws from the posterior (Lakshminarayanan et al. 2017), one draw per member.
            sampler = getattr(model, "predict_proba_samples", None)
            if sampler is not None:
                n_samples = int(getattr(self.strategy, "n_samples", self.committee_size))
                mc_rng = loop_rng(self.seed, index, 3)  # stream 3: the next after _SELECT, _COMMITTEE, _STOP_SET
                samples = sampler(self.pool.rows(candidates), n_samples, mc_rng)
                fields["mc_samples"] = np.asarray(samples, dtype=np.float32)
            else:
                fields["mc_samples"] = fields["committee"] if "committee" in fields else self._committee(index, candidates)
        if HISTORY in requires:
            fields["history"] = self.history
        if LABELS in requires:
            labelled = self.pool.labelled_positions
            fields["labelled_labels"] = self.pool.labels[labelled]
            fields["labelled_proba"] = pool_proba[labelled]
        return StrategyInputs(**fields), pool_proba

    def _committee(self, index: int, candidates: np.ndarray) -> np.ndarray:
        """Bagged committee: members trained on bootstrap samples of the labelled set."""
        rng = loop_rng(self.seed, index, _COMMITTEE)
        labelled = self.pool.labelled_positions
        X_candidates = self.pool.rows(candidates)
        members = []
        for _ in range(self.committee_size):
            boot = labelled[rng.integers(0, len(labelled), len(labelled))]
            member = self.learner.clone()
            member.fit(self.pool.rows(boot), self.pool.labels[boot])
            members.append(member.predict_proba(X_candidates).astype(np.float32))
        return np.stack(members)

    def _start(self) -> tuple[float, float, float | None]:
        return self.clock(), self.cpu_clock(), self.gpu_clock()

    def _stop(self, timings: dict[str, float], step: str, start: tuple[float, float, float | None]) -> None:
        """Wall seconds as ``step``, CPU seconds as ``step_cpu``, and ``step_gpu`` only when CUDA was in use."""
        wall, cpu, gpu = start
        timings[step] = self.clock() - wall
        timings[f"{step}_cpu"] = self.cpu_clock() - cpu
        gpu_end = self.gpu_clock()
        if gpu is not None and gpu_end is not None:
            timings[f"{step}_gpu"] = gpu_end - gpu

    @staticmethod
    def _check_selection(positions: np.ndarray, n_candidates: int, size: int) -> None:
        positions = np.asarray(positions)
        if positions.shape != (size,) or len(np.unique(positions)) != size:
            raise LoopwiseError(f"strategy returned {positions.shape} positions with repeats; expected {size} distinct")
        if size and (positions.min() < 0 or positions.max() >= n_candidates):
            raise LoopwiseError("strategy returned positions outside the candidate set")

    # -- LABEL, TRAIN, EVALUATE ----------------------------------------------
    def record(self, labels: Sequence[int] | np.ndarray, positions: Sequence[int] | np.ndarray | None = None) -> LoopRecord:
        """Take the labels of the pending query, retrain, evaluate, and return the loop's record.

        ``positions``, when given, are the records that were actually labelled, which people
        choose from the proposal's ranking and may differ from it (the annotation queue); their
        scores are the proposal's where it scored them, NaN elsewhere. Loop 0 may be recorded
        this way without a proposal: people labelled before there was a model.
        """
        if self._pending is None and (positions is None or self.loop_index > 0):
            raise LoopwiseError("nothing to record: call propose() first")
        if positions is not None:
            self._pending = self._labelled_query(np.asarray(positions, dtype=np.int64))
        assert self._pending is not None
        query, timings, pool_proba = self._pending
        if self.task == CLASSIFICATION:
            labels = np.asarray(labels, dtype=np.int64)
            if labels.shape != query.positions.shape:
                raise LoopwiseError(f"got {labels.shape[0]} labels for a query of {len(query.positions)} records")
        labels = check_labels(self.task, labels, self.learner.n_classes, query.ids)
        self.pool.label(query.positions, labels, query.loop_index)
        strategy_name = "initial:" + self.initializer.name if query.loop_index == 0 else self.strategy.name
        self.history.add_labels(query.loop_index, query.positions, labels, strategy_name)
        start = self._start()
        trained_full = self._train_loop(query.loop_index, query.positions)
        self._stop(timings, "train", start)
        start = self._start()
        metrics = self._evaluate()
        stop_predictions = hard_predictions(self.task, self.model.predict_proba(self.pool.rows(self.stop_set)))  # type: ignore[union-attr]
        self._stop(timings, "evaluate", start)
        record = LoopRecord(
            loop_index=query.loop_index,
            strategy="initial:" + self.initializer.name if query.loop_index == 0 else self.strategy.name,
            positions=query.positions,
            ids=query.ids,
            labels=labels,
            n_labelled=self.pool.n_labelled,
            metrics=metrics,
            timings=timings,
            stop_predictions=stop_predictions,
            pool_proba=pool_proba,
            scores=query.scores,
        )
        if self._selection_info:
            record.extra["selection"] = self._selection_info
        if self.proxy is not None:
            record.extra["proxy"] = {"full_model_trained": trained_full}
        if self.weak is not None:  # the weak rows it trained on, apart from n_labelled (people's labels only)
            record.extra["weak"] = self.weak.summary(self.pool.labelled_mask)
        self.records.append(record)
        self._pending = None
        return record

    def _labelled_query(self, positions: np.ndarray) -> tuple[Query, dict[str, float], np.ndarray | None]:
        """The pending query with ``positions`` as the labelled records (see :meth:`record`)."""
        if positions.ndim != 1 or len(np.unique(positions)) != len(positions) or not len(positions):
            raise LoopwiseError(f"positions must be distinct pool positions, one per label; got {positions.tolist()[:5]}")
        if positions.min() < 0 or positions.max() >= len(self.pool):
            raise LoopwiseError(f"positions must lie in 0..{len(self.pool) - 1}")
        if self._pending is None:
            timings = {"infer": 0.0, "select": 0.0, "infer_cpu": 0.0, "select_cpu": 0.0}
            return Query(self.loop_index, positions, self.pool.ids[positions], np.full(len(positions), np.nan)), timings, None
        query, timings, pool_proba = self._pending
        score_of = dict(zip(query.positions.tolist(), np.asarray(query.scores, dtype=np.float64).tolist(), strict=True))
        scores = np.asarray([score_of.get(int(p), np.nan) for p in positions], dtype=np.float64)
        return Query(query.loop_index, positions, self.pool.ids[positions], scores), timings, pool_proba

    def _train_loop(self, loop_index: int, new_positions: np.ndarray) -> bool:
        """TRAIN of one loop: the proxy (if any) every loop, the learner unless the proxy skips it; True if it trained."""
        if self.proxy is None:
            self._train(new_positions)
            return True
        labelled = self.pool.labelled_positions
        self.proxy_model = self.proxy.fit_proxy(self.pool.rows(labelled), self.pool.labels[labelled], self.proxy_model)
        last = self.pool.n_labelled >= self.schedule.budget or self.pool.n_labelled >= len(self.pool)
        if not self.proxy.is_checkpoint(loop_index, last):
            return False
        self._train(new_positions)
        return True

    def _train(self, new_positions: np.ndarray) -> None:
        labelled = self.pool.labelled_positions
        if self.retrain == "scratch" or self.model is None and self.retrain == "warm_start":
            self.model = self._fit_fresh()
            return
        if self.model is None:
            self.model = self.learner.clone()
        fit_more = getattr(self.model, "fit_more", None)
        if fit_more is None:
            raise ConfigError(f"retrain mode {self.retrain!r} needs a learner that can continue training")
        if self.retrain == "new_only":
            fit_more(self.pool.rows(new_positions), self.pool.labels[new_positions], new_only=True)
        else:
            fit_more(self.pool.rows(labelled), self.pool.labels[labelled], new_only=False)

    def _evaluate(self) -> dict[str, Any]:
        if self.X_test is None and self.evaluate_labelled is not None:
            labelled = self.pool.labelled_positions
            return self.evaluate_labelled(self.learner, self.pool.rows(labelled), self.pool.labels[labelled])
        if self.X_test is None or self.evaluate is None:
            return {}
        proba = self.model.predict_proba(self.X_test)  # type: ignore[union-attr]
        return self.evaluate(self.y_test, proba)  # type: ignore[arg-type]

    # -- resume ----------------------------------------------------------------
    def restore(self, records: Sequence[LoopRecord], model: Learner | None, *, start_over: bool = False) -> None:
        """Put the loop back in the state after ``records`` (loaded from a store).

        ``model`` is the checkpoint of the last loop; when it is ``None`` (a
        model that could not be saved) the model is retrained from scratch on
        the restored labels, which only reproduces ``scratch`` runs; a
        continuing retrain mode is refused then, unless ``start_over`` says
        that a fresh model is meant (the server, after its learner or its records changed).
        """
        if self.records or self._pending is not None:
            raise LoopwiseError("restore() needs a fresh Loop")
        for record in records:
            self.pool.label(record.positions, record.labels, record.loop_index)
            if record.loop_index > 0:
                if record.pool_proba is None:
                    raise LoopwiseError(f"loop {record.loop_index} has no stored pool probabilities")
                self.history.append(record.loop_index, record.pool_proba)
            self.history.add_labels(record.loop_index, record.positions, record.labels, record.strategy)
            self.records.append(record)
        if model is None and records:
            if self.retrain != "scratch" and not start_over:
                raise LoopwiseError(f"cannot resume a {self.retrain!r} run without the last model checkpoint")
            model = self._fit_fresh()
        self.model = model
        if self.proxy is not None and records:
            labelled = self.pool.labelled_positions
            self.proxy_model = self.proxy.fit_proxy(self.pool.rows(labelled), self.pool.labels[labelled])


def run_simulation(
    loop: Loop,
    oracle: Any,
    on_record: Callable[[LoopRecord], None] | None = None,
) -> list[LoopRecord]:
    """Drive ``loop`` with ``oracle`` until it stops; ``on_record`` sees each loop (e.g. to persist it)."""
    while not loop.should_stop():
        query = loop.propose()
        record = loop.record(oracle.collect(query))
        if on_record is not None:
            on_record(record)
    return loop.records


def _check_test_labels(y_test: np.ndarray, X_test: Any, n_classes: int | None) -> None:
    """Refuse test labels outside the label set, or a count that differs from the test rows, naming the row."""
    shape = getattr(X_test, "shape", None)
    n_rows = int(shape[0]) if shape is not None and len(shape) else (len(X_test) if hasattr(X_test, "__len__") else None)
    if n_rows is not None and n_rows != len(y_test):
        raise ConfigError(f"y_test has {len(y_test)} labels for {n_rows} X_test rows; give one label per test row")
    if n_classes is not None and len(y_test):
        bad = (y_test < 0) | (y_test >= n_classes)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ConfigError(
                f"y_test row {row}: label {int(y_test[row])} is not in the label set (classes are 0..{n_classes - 1}); "
                f"{int(bad.sum())} test labels are out of range"
            )

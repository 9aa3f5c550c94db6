"""The sequence loop: ``propose()`` sentences from per-token marginals, ``record()`` their tags, as the pool Loop does for classes.

The pool :class:`loopwise.loop.Loop` carries one class per record and an ``n x k``
probability matrix from INFER to the store; a sentence has one tag per token and a
ragged ``n_tokens x n_tags`` block of marginals, so it gets this loop. What it shares
with the pool loop is everything else: the per-loop random tree (``loop_rng``), the
schedules, the loop-0 initialisers, the strategies (through ``StrategyInputs``), the
``Query`` and ``LoopRecord`` records, and so the store mapping and resume.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from loopwise.core.pool import Pool
from loopwise.core.records import LoopRecord, Query
from loopwise.errors import ConfigError, LoopwiseError
from loopwise.learners._crf import SequenceLearner
from loopwise.loop import Schedule, loop_rng
from loopwise.loop._initial import Initializer, RandomInit
from loopwise.strategies import FEATURES, TOKEN_MARGINALS, Strategy, StrategyInputs, serves_task
from loopwise.strategies._capabilities import TOKEN_CLASSIFICATION

Evaluate = Callable[[Sequence[Sequence[str]], Sequence[Sequence[str]]], dict[str, Any]]
_SERVED = frozenset({TOKEN_MARGINALS, FEATURES})


class SequenceLoop:
    """One active-learning run over a pool of sentences; the cost of a sentence is its tokens.

    ``tokens`` are the pool's sentences, ``ids`` their record ids, ``features``
    one row per sentence (TF-IDF) for strategies and initialisers that measure
    distances. Each loop's metrics (``evaluate(true tags, predicted tags)`` on
    ``test_tokens``) carry ``labelled_tokens``, the tokens labelled so far: the
    x-axis of the learning curve. The schedule counts sentences; ``token_budget``
    also stops the run once that many tokens are labelled (the last batch may
    pass it), so strategies that prefer short or long sentences spend alike.
    """

    def __init__(
        self,
        tokens: Sequence[Sequence[str]],
        ids: np.ndarray,
        learner: SequenceLearner,
        strategy: Strategy,
        schedule: Schedule,
        *,
        seed: int,
        features: Any = None,
        initializer: Initializer | None = None,
        test_tokens: Sequence[Sequence[str]] | None = None,
        test_tags: Sequence[Sequence[str]] | None = None,
        evaluate: Evaluate | None = None,
        token_budget: int | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not serves_task(strategy, TOKEN_CLASSIFICATION):
            raise ConfigError(f"strategy {strategy.name!r} does not serve token classification; sentence strategies: {', '.join(token_strategies())}")
        unserved = set(strategy.requires) - _SERVED
        if unserved:
            raise ConfigError(f"strategy {strategy.name!r} needs {sorted(unserved)}, which the sequence loop does not compute")
        if FEATURES in strategy.requires and features is None:
            raise ConfigError(f"strategy {strategy.name!r} needs sentence features; give the loop features")
        if len(ids) != len(tokens) or len(np.unique(np.asarray(ids))) != len(ids):
            raise ConfigError(f"give one distinct record id per sentence: {len(ids)} ids for {len(tokens)} sentences")
        if schedule.budget > len(tokens):
            raise ConfigError(f"budget of {schedule.budget} sentences is larger than the pool ({len(tokens)} sentences); lower --budget")
        if (test_tokens is None) != (test_tags is None):
            raise ConfigError("give both test_tokens and test_tags, or neither")
        if token_budget is not None and (not isinstance(token_budget, int) or token_budget < 1):
            raise ConfigError(f"the token budget must be a whole number of tokens >= 1, got {token_budget!r}")
        self.tokens = [list(t) for t in tokens]
        self.ids = np.asarray(ids).astype(str)
        self.learner = learner
        self.strategy = strategy
        self.schedule = schedule
        self.seed = seed
        self.features = features
        self.initializer = initializer or RandomInit()
        self.test_tokens = test_tokens
        self.test_tags = test_tags
        self.evaluate = evaluate
        self.token_budget = token_budget
        self.clock = clock
        self.lengths = np.asarray([len(t) for t in self.tokens], dtype=np.int64)
        # Which loop labelled each sentence, in what order, and its tag-index array (an object array of the pool's task).
        self.pool = Pool.new(self.ids, features, task=TOKEN_CLASSIFICATION)
        self.records: list[LoopRecord] = []
        self.model: SequenceLearner | None = None
        self._pending: tuple[Query, dict[str, float]] | None = None

    @property
    def loop_index(self) -> int:
        return len(self.records)

    @property
    def n_labelled(self) -> int:
        return self.pool.n_labelled

    @property
    def labelled_tokens(self) -> int:
        """Tokens labelled so far: what the run has spent."""
        return int(self.lengths[self.pool.labelled_positions].sum())

    def _size(self) -> int:
        if self.token_budget is not None and self.labelled_tokens >= self.token_budget:
            return 0
        return self.schedule.size_for(self.loop_index, self.n_labelled, len(self.tokens) - self.n_labelled, self.records)

    def should_stop(self) -> bool:
        return self._pending is None and self._size() == 0

    def propose(self) -> Query:
        """INFER marginals over the pool and SELECT the next sentences; :meth:`record` takes their tags."""
        if self._pending is not None:
            raise LoopwiseError(f"loop {self.loop_index} already proposed; record its tags first")
        if self.should_stop():
            raise LoopwiseError("the run has stopped; nothing left to propose")
        index, size = self.loop_index, self._size()
        rng = loop_rng(self.seed, index)
        timings = {"infer": 0.0, "select": 0.0}
        start = self.clock()
        if index == 0:
            positions = self.initializer.select(self.features, self.ids, size, rng)
            scores = np.zeros(len(positions))
            timings["select"] = self.clock() - start
        else:
            assert self.model is not None
            candidates = self.pool.unlabelled_positions
            fields: dict[str, Any] = {"candidates": candidates}
            if TOKEN_MARGINALS in self.strategy.requires:
                fields["token_marginals"] = self.model.predict_marginals([self.tokens[i] for i in candidates])
            if FEATURES in self.strategy.requires:
                fields["features"] = self.features[candidates]
                fields["labelled_features"] = self.features[self.pool.labelled_positions]
            timings["infer"] = self.clock() - start
            start = self.clock()
            selection = self.strategy.select(StrategyInputs(**fields), size, rng)
            timings["select"] = self.clock() - start
            chosen = np.asarray(selection.positions, dtype=np.int64)
            if chosen.shape != (size,) or len(np.unique(chosen)) != size or (size and (chosen.min() < 0 or chosen.max() >= len(candidates))):
                raise LoopwiseError(f"strategy {self.strategy.name!r} returned {chosen.shape} positions; expected {size} distinct candidates")
            positions = candidates[chosen]
            scores = np.asarray(selection.scores, dtype=np.float64)
        positions = np.asarray(positions, dtype=np.int64)
        query = Query(loop_index=index, positions=positions, ids=self.ids[positions], scores=scores)
        self._pending = (query, timings)
        return query

    def record(self, tags: Sequence[np.ndarray] | np.ndarray) -> LoopRecord:
        """Take the tag-index arrays of the pending query, retrain from scratch, evaluate, and return the loop's record."""
        if self._pending is None:
            raise LoopwiseError("nothing to record: call propose() first")
        query, timings = self._pending
        if len(tags) != len(query.positions):
            raise LoopwiseError(f"got {len(tags)} tag sequences for a query of {len(query.positions)} sentences")
        checked = [self._checked(p, t) for p, t in zip(query.positions.tolist(), tags, strict=True)]
        self._label(query.positions, checked, query.loop_index)
        start = self.clock()
        self.model = self._fit()
        timings["train"] = self.clock() - start
        start = self.clock()
        metrics: dict[str, Any] = {}
        if self.test_tokens is not None and self.evaluate is not None:
            metrics = dict(self.evaluate(self.test_tags, self.model.predict(self.test_tokens)))  # type: ignore[arg-type]
        metrics["labelled_tokens"] = self.labelled_tokens
        timings["evaluate"] = self.clock() - start
        labels = np.empty(len(checked), dtype=object)
        labels[:] = checked
        record = LoopRecord(
            loop_index=query.loop_index,
            strategy="initial:" + self.initializer.name if query.loop_index == 0 else self.strategy.name,
            positions=query.positions,
            ids=query.ids,
            labels=labels,
            n_labelled=self.n_labelled,
            metrics=metrics,
            timings=timings,
            stop_predictions=np.empty(0, dtype=np.int64),
            scores=query.scores,
        )
        self.records.append(record)
        self._pending = None
        return record

    def _checked(self, position: int, tags: Any) -> np.ndarray:
        arr = np.asarray(tags, dtype=np.int64)
        n_tags = len(self.learner.tag_names)
        if arr.shape != (self.lengths[position],):
            raise LoopwiseError(f"record id {str(self.ids[position])!r}: {arr.shape[0] if arr.ndim else 0} tags for {self.lengths[position]} tokens")
        if arr.size and (arr.min() < 0 or arr.max() >= n_tags):
            raise LoopwiseError(f"record id {str(self.ids[position])!r}: tag indices must lie in 0..{n_tags - 1}")
        return arr

    def _label(self, positions: np.ndarray, tags: list[np.ndarray], loop_index: int) -> None:
        labels = np.empty(len(tags), dtype=object)
        labels[:] = tags
        self.pool.label(positions, labels, loop_index)

    def _fit(self) -> SequenceLearner:
        names = self.learner.tag_names
        order = self.pool.labelled_positions.tolist()
        model = self.learner.clone()
        model.fit([self.tokens[p] for p in order], [[names[int(t)] for t in self.pool.labels[p]] for p in order])
        return model

    def restore(self, records: Sequence[LoopRecord], model: SequenceLearner | None) -> None:
        """Put the loop back in the state after ``records`` (from a store); without a model checkpoint it is retrained."""
        if self.records or self._pending is not None:
            raise LoopwiseError("restore() needs a fresh SequenceLoop")
        for record in records:
            self._label(record.positions, [self._checked(int(p), t) for p, t in zip(record.positions, record.labels, strict=True)], record.loop_index)
            self.records.append(record)
        self.model = model if model is not None or not records else self._fit()


def token_strategies() -> list[str]:
    """The registered strategies that serve token classification (what ``--strategy`` takes for sentences)."""
    from loopwise.strategies import available, strategy_class

    return [name for name in available() if serves_task(strategy_class(name), TOKEN_CLASSIFICATION)]

"""Selection over model output that arrives in chunks: the same batch as the whole, in memory of a chunk."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from loopwise.core.records import Selection
from loopwise.core.topk import StreamingTopK
from loopwise.strategies._base import Strategy, StrategyInputs
from loopwise.strategies._capabilities import is_row_local
from loopwise.strategies._registry import make_strategy, registered_classes


def row_local_names() -> list[str]:
    """The registered strategies that declare row-local scores (so they can stream)."""
    return [cls.name for cls in registered_classes() if cls.capabilities.row_local]


ScoreFn = Callable[[Any], np.ndarray]


def _scorer(score: ScoreFn | Strategy) -> Callable[[Any], np.ndarray]:
    if isinstance(score, Strategy):
        if not is_row_local(score):
            raise ValueError(
                f"strategy {score.name!r} does not score records one by one, so it cannot stream; "
                f"row-local strategies: {', '.join(row_local_names())}"
            )
        strategy = score

        def by_strategy(chunk: Any) -> np.ndarray:
            if not isinstance(chunk, StrategyInputs):
                chunk = StrategyInputs(candidates=np.arange(np.shape(chunk)[0]), proba=chunk)
            return np.asarray(strategy.score(chunk))

        return by_strategy
    if not callable(score):
        raise ValueError(f"score must be a scoring function or a Strategy, got {score!r}")
    return lambda chunk: np.asarray(score(chunk))


def select_streaming(
    score: ScoreFn | Strategy,
    proba_chunks: Iterable[Any],
    batch_size: int,
    rng: np.random.Generator,
) -> Selection:
    """Score chunks of model output as they come and keep only the running top ``batch_size``.

    ``score`` is a row-wise scoring function (``least_confidence``,
    ``margin``, ``entropy``, or your own) applied to each chunk, or a
    row-local :class:`Strategy` (chunks may then be :class:`StrategyInputs`,
    e.g. with a committee). ``proba_chunks`` yields consecutive row blocks of
    the pool (for instance :func:`loopwise.loop.iter_proba`). The result is
    exactly ``Strategy.select`` on the concatenated output: the same
    positions, scores and tie-breaking, with ``rng`` moved on the same way.
    Memory is one chunk plus O(batch_size), whatever the pool.
    """
    fn = _scorer(score)
    stream = StreamingTopK(batch_size, rng)
    for chunk in proba_chunks:
        scores = fn(chunk)
        if scores.ndim != 1:
            raise ValueError(f"the score function returned shape {scores.shape}; expected one score per row")
        stream.push(scores)
    positions, values = stream.result()
    return Selection(positions=positions, scores=values.astype(np.float64))


class ChunkedScorer:
    """A row-local strategy turned into a streaming selector: ``select(proba_chunks, batch_size, rng)``.

    A convenience over :func:`select_streaming` that keeps the strategy, so a
    caller holding chunks of a huge pool (a generator over a memory-mapped
    array, a database cursor, a model serving batches) selects exactly what
    the strategy would select from the whole.
    """

    def __init__(self, strategy: Strategy | str) -> None:
        if isinstance(strategy, str):
            strategy = make_strategy(strategy)
        _scorer(strategy)  # refuses strategies that are not row-local
        self.strategy = strategy

    def select(self, proba_chunks: Iterable[Any], batch_size: int, rng: np.random.Generator) -> Selection:
        return select_streaming(self.strategy, proba_chunks, batch_size, rng)

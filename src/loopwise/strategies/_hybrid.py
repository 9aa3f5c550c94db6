"""Weighted hybrid: a rank-normalised blend of two score-based strategies."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from loopwise.strategies._capabilities import Capabilities, ranks_candidates
from loopwise.strategies._base import Strategy, StrategyInputs
from loopwise.strategies._registry import make_strategy


def rank_normalise(scores: np.ndarray) -> np.ndarray:
    """Scores mapped to their rank divided by ``n`` (ties share the average rank), so scales never matter."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return scores
    return rankdata(scores, method="average") / scores.size


def _build(param: str, spec: str | Strategy) -> Strategy:
    strategy = make_strategy(spec) if isinstance(spec, str) else spec
    if not isinstance(strategy, Strategy):
        raise ValueError(f"{param} must be a strategy name or a Strategy, got {spec!r}")
    if not ranks_candidates(strategy):
        raise ValueError(f"{param}={strategy.name!r} selects whole batches and has no per-record score to blend")
    return strategy


class WeightedHybrid(Strategy):
    """``weight * rank(first) + (1 - weight) * rank(second)``, ranks divided by the number of candidates.

    A weighted blend of an informativeness and a representativeness score, in
    the spirit of dual-strategy active learning (Donmez, Carbonell & Bennett
    2007); ranks make the two scores comparable whatever their scales.
    ``first`` and ``second`` are registered names (built with their default
    parameters) or strategy instances. ``requires`` is the union of what both
    need.
    """

    name = "hybrid"
    # Ranks are divided by the number of candidates: a pool-wide term, so not row-local.
    capabilities = Capabilities(ranks=True)

    def __init__(self, first: str | Strategy = "margin", second: str | Strategy = "information_density", weight: float = 0.5) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight must be in [0, 1], got {weight!r}")
        self.first = first
        self.second = second
        self.weight = weight
        self.first_ = _build("first", first)
        self.second_ = _build("second", second)

    @property
    def requires(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset(self.first_.requires) | frozenset(self.second_.requires)

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        a = rank_normalise(self.first_.score(inputs))
        b = rank_normalise(self.second_.score(inputs))
        return self.weight * a + (1.0 - self.weight) * b

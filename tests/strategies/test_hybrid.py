"""Weighted hybrid: rank normalisation, weights at the ends, the union of requirements."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.errors import ConfigError
from loopwise.strategies import (
    FEATURES,
    PROBA,
    StrategyInputs,
    WeightedHybrid,
    make_strategy,
    margin,
    rank_normalise,
)


def _inputs(seed: int = 0) -> StrategyInputs:
    rng = np.random.default_rng(seed)
    return StrategyInputs(candidates=np.arange(40), proba=rng.dirichlet(np.ones(3), size=40), features=rng.normal(size=(40, 5)))


def test_rank_normalise_ignores_scale_and_shares_ties() -> None:
    assert rank_normalise(np.array([10.0, -3.0, 10.0, 0.5])).tolist() == [0.875, 0.25, 0.875, 0.5]
    assert np.array_equal(rank_normalise(np.array([1.0, 2.0, 3.0])), rank_normalise(np.array([1e-9, 5.0, 1e9])))


def test_weights_at_the_ends_give_each_strategy_alone() -> None:
    inputs = _inputs()
    only_first = WeightedHybrid(weight=1.0).score(inputs)
    only_second = WeightedHybrid(weight=0.0).score(inputs)
    assert np.array_equal(np.argsort(only_first, kind="stable"), np.argsort(margin(inputs.proba), kind="stable"))
    assert np.array_equal(only_second, rank_normalise(make_strategy("information_density").score(inputs)))
    half = WeightedHybrid().score(inputs)
    assert np.allclose(half, (only_first + only_second) / 2)


def test_requires_the_union_and_refuses_batch_strategies() -> None:
    assert WeightedHybrid().requires == frozenset({PROBA, FEATURES})
    assert WeightedHybrid(first="bald", second="margin").requires == frozenset({"mc_samples", PROBA})
    with pytest.raises(ValueError, match="second='kcenter' selects whole batches"):
        WeightedHybrid(second="kcenter")
    with pytest.raises(ConfigError, match="weight must be in"):
        make_strategy("hybrid", weight=2.0)
    assert WeightedHybrid(first="entropy").get_params() == {"first": "entropy", "second": "information_density", "weight": 0.5}

"""Regression strategies: scores by hand, and greedy sampling equal to scikit-activeml's on tie-free data."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.strategies import StrategyInputs, make_strategy
from loopwise.strategies._regression import committee_variance, expected_model_change


def test_max_std_and_committee_variance_read_the_spread() -> None:
    out = np.array([[1.0, 0.2], [5.0, 3.0], [2.0, 1.0]])
    inputs = StrategyInputs(candidates=np.arange(3), proba=out)
    assert make_strategy("max_std").select(inputs, 2, np.random.default_rng(0)).positions.tolist() == [1, 2]
    committee = np.array([[[1.0, 0], [2.0, 0]], [[3.0, 0], [2.0, 0]]])  # members' means: [1, 2] and [3, 2]
    assert committee_variance(committee).tolist() == [1.0, 0.0]


def test_emcm_is_the_mean_member_deviation_times_the_feature_norm() -> None:
    committee = np.array([[[1.0, 0], [0.0, 0]], [[3.0, 0], [0.0, 0]]])
    out = np.array([[2.0, 1.0], [1.0, 1.0]])
    X = np.array([[3.0, 4.0], [1.0, 0.0]])
    assert expected_model_change(committee, out, X).tolist() == [5.0, 1.0]  # |1-2|,|3-2| -> 1 * 5; |0-1| -> 1 * 1


def test_gsy_without_labels_still_picks_a_distinct_batch() -> None:
    inputs = StrategyInputs(candidates=np.arange(5), proba=np.column_stack([np.arange(5.0), np.ones(5)]),
                            labelled_labels=np.array([]))
    picks = make_strategy("gsy").select(inputs, 3, np.random.default_rng(0)).positions
    assert len(set(picks.tolist())) == 3


@pytest.mark.parametrize(("ours", "theirs"), [("gsx", "GSx"), ("gsy", "GSy"), ("igs", "GSi")])
def test_greedy_sampling_picks_what_scikit_activeml_picks(ours: str, theirs: str) -> None:
    pytest.importorskip("skactiveml")
    from loopwise.bench.peers._tasks import skactiveml_greedy

    rng = np.random.default_rng(0)
    X, L = rng.normal(size=(200, 4)), rng.normal(size=(15, 4))
    inputs = StrategyInputs(
        candidates=np.arange(200), proba=np.column_stack([rng.normal(size=200), np.ones(200)]),
        features=X, labelled_features=L, labelled_labels=rng.normal(size=15),
    )
    mine = make_strategy(ours).select(inputs, 12, np.random.default_rng(1)).positions
    assert mine.tolist() == skactiveml_greedy(theirs, inputs, 12, seed=1).tolist()

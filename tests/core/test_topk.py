from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from loopwise.core import top_k


@given(
    scores=arrays(np.float64, st.integers(1, 200), elements=st.floats(-5, 5, allow_nan=False)),
    k=st.integers(0, 250),
    seed=st.integers(0, 2**16),
)
def test_top_k_returns_k_best_distinct_positions(scores: np.ndarray, k: int, seed: int) -> None:
    chosen = top_k(scores, k, np.random.default_rng(seed))
    expected = min(k, len(scores))
    assert len(chosen) == expected == len(set(chosen.tolist()))
    if 0 < expected < len(scores):
        rest = np.setdiff1d(np.arange(len(scores)), chosen)
        assert scores[chosen].min() >= scores[rest].max()
    # best first
    assert np.all(np.diff(scores[chosen]) <= 0)


def test_ties_are_broken_by_the_generator_reproducibly() -> None:
    scores = np.ones(100)
    a = top_k(scores, 10, np.random.default_rng(1))
    b = top_k(scores, 10, np.random.default_rng(1))
    c = top_k(scores, 10, np.random.default_rng(2))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # not simply the first positions (an index-order bias)
    assert not np.array_equal(np.sort(a), np.arange(10))

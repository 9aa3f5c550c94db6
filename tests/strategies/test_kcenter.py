"""Greedy k-center: agrees with a brute-force O(n²) reference, chunks, sparse rows, radii."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from loopwise.strategies import FEATURES, EMBEDDINGS, KCenterGreedy, StrategyInputs, k_center_greedy


def _brute_force(X: np.ndarray, L: np.ndarray, k: int, first: int | None = None) -> list[int]:
    """The textbook greedy on a full float64 distance matrix."""
    D = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    if len(L):
        nearest = np.sqrt(((X[:, None, :] - L[None, :, :]) ** 2).sum(-1)).min(axis=1)
    else:
        nearest = D[first].copy()
    picks = [] if len(L) else [first]
    while len(picks) < k:
        gap = nearest.copy()
        gap[picks] = -1
        c = int(np.argmax(gap))
        picks.append(c)
        nearest = np.minimum(nearest, D[c])
    return picks


@pytest.mark.parametrize("n_labelled", [0, 1, 25])
def test_matches_brute_force_greedy(n_labelled: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 6))
    L = rng.normal(size=(n_labelled, 6))
    first = int(np.random.default_rng(5).integers(150))
    picks = k_center_greedy(X, L, 20, rng=np.random.default_rng(5))
    assert picks.tolist() == _brute_force(X, L, 20, first)


def test_each_pick_maximises_the_min_distance() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3)).astype(np.float32)
    L = rng.normal(size=(10, 3)).astype(np.float32)
    picks = k_center_greedy(X, L, 15)
    centres = list(L.astype(np.float64))
    for c in picks:
        # Earlier picks are centres themselves, so their gap is already 0.
        gaps = np.min([np.linalg.norm(X - z, axis=1) for z in centres], axis=0)
        assert gaps[c] >= gaps.max() - 1e-5
        centres.append(X[c].astype(np.float64))


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 60), st.integers(0, 12), st.integers(1, 60), st.integers(1, 9), st.integers(0, 2**16))
def test_chunked_equals_whole_and_radii_shrink(n: int, n_labelled: int, k: int, chunk: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    L = rng.normal(size=(n_labelled, 4)).astype(np.float32)
    inputs = StrategyInputs(candidates=np.arange(n), features=X, labelled_features=L)
    whole = KCenterGreedy().select(inputs, k, np.random.default_rng(seed))
    chunked = KCenterGreedy(chunk_size=chunk).select(inputs, k, np.random.default_rng(seed))
    assert np.array_equal(whole.positions, chunked.positions)
    assert np.allclose(whole.scores, chunked.scores, atol=1e-5)
    assert len(np.unique(whole.positions)) == min(k, n)
    # Greedy k-center closes ever smaller gaps (after the first pick of a cold start).
    radii = whole.scores[1:] if n_labelled == 0 else whole.scores
    assert np.all(np.diff(radii) <= 1e-4)


def test_sparse_rows_give_the_dense_answer() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 12)) * (rng.random((80, 12)) < 0.3)
    L = rng.normal(size=(5, 12)) * (rng.random((5, 12)) < 0.3)
    dense = k_center_greedy(X, L, 10)
    assert np.array_equal(k_center_greedy(sp.csr_matrix(X), sp.csr_matrix(L), 10, chunk_size=9), dense)
    assert np.array_equal(k_center_greedy(sp.csr_matrix(X), L, 10), dense)


def test_cold_start_needs_a_generator_and_is_seeded() -> None:
    X = np.random.default_rng(3).normal(size=(40, 2))
    with pytest.raises(ValueError, match="needs rng"):
        k_center_greedy(X, np.empty((0, 2)), 3)
    a = k_center_greedy(X, None, 5, rng=np.random.default_rng(9))
    assert np.array_equal(a, k_center_greedy(X, None, 5, rng=np.random.default_rng(9)))


def test_use_picks_the_space_and_its_requirement() -> None:
    assert KCenterGreedy().requires == frozenset({FEATURES})
    assert KCenterGreedy(use="embeddings").requires == frozenset({EMBEDDINGS})
    with pytest.raises(ValueError, match="use must be 'features' or 'embeddings', got 'pixels'"):
        KCenterGreedy(use="pixels")
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        KCenterGreedy(chunk_size=0)


def test_normalized_kcenter_is_kcenter_on_unit_rows_dense_and_sparse() -> None:
    from loopwise.strategies import NormalizedKCenterGreedy, unit_rows

    rng = np.random.default_rng(3)
    X = (rng.random((200, 12)) * (rng.random((200, 12)) < 0.4)).astype(np.float32)
    X[7] = 0.0  # an empty row stays at the origin
    X[:40] *= 50.0  # the largest norms: plain k-center goes for them first
    L = X[150:155]
    U = unit_rows(X)
    assert np.allclose(np.linalg.norm(U[np.any(X != 0, axis=1)], axis=1), 1.0, atol=1e-6) and not U[7].any()
    inputs = StrategyInputs(candidates=np.arange(150), features=X[:150], labelled_features=L)
    plain = KCenterGreedy().select(inputs, 15, np.random.default_rng(0)).positions
    normalized = NormalizedKCenterGreedy().select(inputs, 15, np.random.default_rng(0)).positions
    assert normalized.tolist() == _brute_force(U[:150].astype(np.float64), U[150:155].astype(np.float64), 15)
    assert (plain < 40).sum() > (normalized < 40).sum()  # magnitude no longer decides
    sparse = StrategyInputs(candidates=np.arange(150), features=sp.csr_matrix(X[:150]), labelled_features=sp.csr_matrix(L))
    assert NormalizedKCenterGreedy().select(sparse, 15, np.random.default_rng(0)).positions.tolist() == normalized.tolist()

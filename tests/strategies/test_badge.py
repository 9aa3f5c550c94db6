"""BADGE: implicit gradient distances equal explicit ones; seeding matches an explicit reference."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from loopwise.strategies import EMBEDDINGS, FEATURES, PROBA, Badge, StrategyInputs, badge, gradient_embedding
from loopwise.strategies._badge import _GradientSpace


def _data(n: int = 60, k: int = 4, d: int = 7, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(k) * 0.7, size=n), rng.normal(size=(n, d))


def _explicit_badge(proba: np.ndarray, X: np.ndarray, k: int, rng: np.random.Generator) -> list[int]:
    """k-means++ seeding on the materialised gradient embeddings, in float64."""
    G = gradient_embedding(proba, X).astype(np.float64)
    picks = [int(np.argmax((G**2).sum(1)))]
    nearest = ((G - G[picks[0]]) ** 2).sum(1)
    while len(picks) < k:
        weights = np.cumsum(nearest)
        picks.append(int(np.searchsorted(weights, rng.random() * weights[-1], side="right")))
        nearest = np.minimum(nearest, ((G - G[picks[-1]]) ** 2).sum(1))
        nearest[picks] = 0.0
    return picks


def test_gradient_embedding_is_the_softmax_gradient() -> None:
    proba, X = _data(n=5, k=3, d=2)
    G = gradient_embedding(proba, X).reshape(5, 3, 3)
    y_hat = proba.argmax(1)
    for i in range(5):
        residual = proba[i] - np.eye(3)[y_hat[i]]
        assert np.allclose(G[i], np.outer(residual, np.append(X[i], 1.0)), atol=1e-6)


@pytest.mark.parametrize("chunk_size", [None, 1, 7, 1000])
@pytest.mark.parametrize("sparse", [False, True])
def test_implicit_distances_equal_explicit(chunk_size: int | None, sparse: bool) -> None:
    proba, X = _data()
    X = X * (np.random.default_rng(1).random(X.shape) < 0.4)
    G = gradient_embedding(proba, X).astype(np.float64)
    space = _GradientSpace(proba, sp.csr_matrix(X) if sparse else X, chunk_size)
    for c in (0, 13, 59):
        assert np.allclose(space.sq_distances_to(c), ((G - G[c]) ** 2).sum(1), atol=1e-4)


def test_seeding_matches_the_explicit_reference() -> None:
    proba, X = _data(n=80)
    assert badge(proba, X, 12, np.random.default_rng(4)).tolist() == _explicit_badge(proba, X, 12, np.random.default_rng(4))


def test_chunked_sparse_and_dense_agree() -> None:
    proba, X = _data(n=70)
    whole = badge(proba, X, 15, np.random.default_rng(2))
    assert np.array_equal(badge(proba, X, 15, np.random.default_rng(2), chunk_size=8), whole)
    assert np.array_equal(badge(proba, sp.csr_matrix(X), 15, np.random.default_rng(2), chunk_size=8), whole)


def test_identical_gradients_still_give_a_full_distinct_batch() -> None:
    proba = np.full((30, 3), 1 / 3)
    X = np.ones((30, 4))
    picks = badge(proba, X, 30, np.random.default_rng(0))
    assert sorted(picks.tolist()) == list(range(30))


def test_strategy_scores_and_requirements() -> None:
    proba, X = _data(n=40)
    inputs = StrategyInputs(candidates=np.arange(40), proba=proba, features=X, embeddings=X.astype(np.float32))
    sel = Badge().select(inputs, 10, np.random.default_rng(0))
    norms = np.sqrt((gradient_embedding(proba, X).astype(np.float64) ** 2).sum(1))
    assert np.isclose(sel.scores[0], norms.max(), rtol=1e-5)  # the first centre is the largest gradient
    assert np.all(sel.scores[1:] > 0)
    assert np.array_equal(Badge(use="embeddings").select(inputs, 10, np.random.default_rng(0)).positions, sel.positions)
    assert Badge().requires == frozenset({PROBA, FEATURES})
    assert Badge(use="embeddings").requires == frozenset({PROBA, EMBEDDINGS})


def test_weighted_draw_follows_the_weights_and_skips_zero_weights() -> None:
    from loopwise.strategies._pairwise import weighted_draw

    rng = np.random.default_rng(0)
    weights = np.zeros(10_000, dtype=np.float32)
    weights[[3, 4095, 4096, 9999]] = [1.0, 2.0, 3.0, 4.0]  # on both sides of a block boundary and at the end
    draws = np.bincount([weighted_draw(weights, rng) for _ in range(4000)], minlength=len(weights))
    assert set(np.flatnonzero(draws)) == {3, 4095, 4096, 9999}
    assert np.allclose(draws[[3, 4095, 4096, 9999]] / 4000, [0.1, 0.2, 0.3, 0.4], atol=0.03)

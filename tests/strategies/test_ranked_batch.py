"""Ranked batch-mode: agrees with an explicit O(n²) reference; alpha moves from diversity to uncertainty."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from loopwise.strategies import RankedBatch, StrategyInputs, least_confidence, ranked_batch


def _reference(u: np.ndarray, X: np.ndarray, L: np.ndarray, k: int) -> list[int]:
    n, n_l = len(X), len(L)
    sim_x = 1 / (1 + np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1)))
    best = (1 / (1 + np.sqrt(((X[:, None] - L[None]) ** 2).sum(-1)))).max(1) if n_l else np.zeros(n)
    picks: list[int] = []
    for t in range(k):
        alpha = (n - t) / (n + n_l)
        score = u.copy() if (t == 0 and n_l == 0) else alpha * (1 - best) + (1 - alpha) * u
        score[picks] = -np.inf
        picks.append(int(np.argmax(score)))
        best = np.maximum(best, sim_x[picks[-1]])
    return picks


@pytest.mark.parametrize("n_labelled", [0, 3, 40])
def test_matches_the_explicit_reference(n_labelled: int) -> None:
    rng = np.random.default_rng(n_labelled)
    X, L = rng.normal(size=(70, 4)), rng.normal(size=(n_labelled, 4))
    u = least_confidence(rng.dirichlet(np.ones(3), size=70))
    picks, scores = ranked_batch(u, X, L, 15)
    assert picks.tolist() == _reference(u, X, L, 15)
    assert np.all(np.isfinite(scores)) and np.all(scores >= 0) and np.all(scores <= 1)


def test_alpha_trades_diversity_for_uncertainty() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    u = np.zeros(50)
    u[7] = 1.0
    # Few labelled: alpha near 1, the far-away record wins over the uncertain one.
    far = np.array([[40.0, 40.0]])
    X_far = np.vstack([X, far])
    u_far = np.append(u, 0.0)
    assert ranked_batch(u_far, X_far, X[:1], 1)[0][0] == 50
    # Many labelled: alpha near 0, uncertainty wins.
    assert ranked_batch(u_far, X_far, np.repeat(X[:1], 5000, axis=0), 1)[0][0] == 7


def test_chunked_sparse_and_dense_agree() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 9)) * (rng.random((60, 9)) < 0.5)
    L = rng.normal(size=(4, 9))
    proba = rng.dirichlet(np.ones(3), size=60)
    inputs = StrategyInputs(candidates=np.arange(60), proba=proba, features=X, labelled_features=L)
    whole = RankedBatch().select(inputs, 12, np.random.default_rng(0))
    chunked = RankedBatch(chunk_size=7).select(inputs, 12, np.random.default_rng(0))
    sparse = RankedBatch(chunk_size=7).select(
        StrategyInputs(candidates=np.arange(60), proba=proba, features=sp.csr_matrix(X), labelled_features=L), 12, np.random.default_rng(0)
    )
    assert np.array_equal(whole.positions, chunked.positions) and np.array_equal(whole.positions, sparse.positions)
    assert np.allclose(whole.scores, chunked.scores)
    with pytest.raises(ValueError, match="uncertainty must be one of"):
        RankedBatch(uncertainty="bald")

"""TypiClust: typicality values, one pick per uncovered cluster, the most typical member."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import pytest

from loopwise.strategies import EMBEDDINGS, FEATURES, StrategyInputs, TypiClust, typicality, typiclust


def _blobs(n_per: int = 30, n_blobs: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_blobs, 4)) * 30
    truth = np.repeat(np.arange(n_blobs), n_per)
    return centres[truth] + rng.normal(size=(len(truth), 4)), truth


def test_typicality_known_values_and_chunks() -> None:
    Z = np.array([[0.0], [1.0], [2.0], [10.0]])
    expected = [1 / 1.5, 1.0, 1 / 1.5, 1 / 8.5]  # K = min(20, 4 // 2) = 2 nearest others
    assert np.allclose(typicality(Z), expected)
    assert np.allclose(typicality(Z, chunk_size=1), expected)
    assert np.allclose(typicality(Z, n_neighbors=1), [1.0, 1.0, 1.0, 1 / 8])
    assert typicality(np.zeros((1, 3))).tolist() == [0.0]


def test_one_pick_per_cluster_and_it_is_the_most_typical() -> None:
    X, truth = _blobs()
    picks = typiclust(X, None, 5, np.random.default_rng(0))
    assert sorted(truth[picks].tolist()) == [0, 1, 2, 3, 4]
    for p in picks:
        members = np.flatnonzero(truth == truth[p])
        assert p == members[np.argmax(typicality(X[members]))]


def test_labelled_clusters_are_covered_already() -> None:
    X, truth = _blobs()
    labelled = np.vstack([X[truth == 0][0], X[truth == 1][0]])
    picks = typiclust(X, labelled, 3, np.random.default_rng(1))
    assert sorted(truth[picks].tolist()) == [2, 3, 4]


def test_batches_larger_than_the_clusters_and_subsampled_pools() -> None:
    X, truth = _blobs(n_per=20, n_blobs=3)
    picks = typiclust(X, None, 60, np.random.default_rng(2))
    assert sorted(picks.tolist()) == list(range(60))
    sub = typiclust(X, None, 6, np.random.default_rng(2), max_points=25, chunk_size=4)
    assert len(set(sub.tolist())) == 6 and sorted(np.bincount(truth[sub], minlength=3).tolist()) == [2, 2, 2]


def test_strategy_chunks_and_requirements() -> None:
    X, _ = _blobs()
    L = X[:3] + 0.5
    inputs = StrategyInputs(candidates=np.arange(len(X)), features=X, labelled_features=L, embeddings=X, labelled_embeddings=L)
    whole = TypiClust().select(inputs, 7, np.random.default_rng(3))
    chunked = TypiClust(chunk_size=5).select(inputs, 7, np.random.default_rng(3))
    assert np.array_equal(whole.positions, chunked.positions) and np.allclose(whole.scores, chunked.scores)
    assert TypiClust().requires == frozenset({FEATURES})
    assert TypiClust(use="embeddings").requires == frozenset({EMBEDDINGS})
    with pytest.raises(ValueError, match="n_neighbors must be at least 1"):
        TypiClust(n_neighbors=0)


def test_the_last_sparse_candidate_is_picked_not_refused() -> None:
    # A server project's pool down to one unlabelled TF-IDF row: ARPACK's svds refuses k >= min(A.shape),
    # which failed every retrain of a default (auto) project with one record left.
    X = sp.csr_matrix(np.random.default_rng(0).uniform(size=(1, 30)) * (np.arange(30) % 3 == 0))
    labelled = sp.csr_matrix(np.random.default_rng(1).uniform(size=(6, 30)))
    assert list(typiclust(X, labelled, 1, np.random.default_rng(0))) == [0]
    assert list(typiclust(X, None, 1, np.random.default_rng(0))) == [0]

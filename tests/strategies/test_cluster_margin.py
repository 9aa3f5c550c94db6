"""Cluster-Margin: round-robin order, low-margin pool, cluster coverage, subsampled clustering."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from loopwise.strategies import ClusterMargin, StrategyInputs, average_linkage_labels, cluster_margin, margin, round_robin


def _blobs(n_per: int = 40, n_blobs: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_blobs, 8)) * 20
    truth = np.repeat(np.arange(n_blobs), n_per)
    return centres[truth] + rng.normal(size=(len(truth), 8)), truth


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a[:, None] == a[None, :], b[:, None] == b[None, :]))


def test_round_robin_takes_the_smallest_cluster_first_and_cycles() -> None:
    clusters = np.array([0, 0, 0, 1, 2, 2])
    picks = round_robin(clusters, 6, np.random.default_rng(0))
    assert clusters[picks].tolist() == [1, 2, 0, 2, 0, 0]
    assert sorted(picks.tolist()) == list(range(6))
    assert len(round_robin(clusters, 2, np.random.default_rng(0))) == 2


def test_average_linkage_recovers_blobs_and_assigns_the_rest_by_centroid() -> None:
    X, truth = _blobs()
    rows = np.arange(len(X))
    full = average_linkage_labels(X, rows, 5, np.random.default_rng(0))
    assert _same_partition(full, truth)
    sub = average_linkage_labels(X, rows, 5, np.random.default_rng(0), max_points=30, chunk_size=7)
    assert _same_partition(sub, truth)
    assert np.array_equal(average_linkage_labels(X, rows, 5, np.random.default_rng(0), max_points=30), sub)
    assert _same_partition(average_linkage_labels(sp.csr_matrix(X), rows, 5, np.random.default_rng(0)), truth)


def test_picks_come_from_the_low_margin_pool_and_cover_clusters() -> None:
    X, truth = _blobs()
    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(3), size=len(X))
    picks = cluster_margin(proba, X, 5, np.random.default_rng(2), margin_pool_factor=8)
    low = np.argsort(-margin(proba))[:40]
    assert set(picks.tolist()) <= set(low.tolist())
    assert len(set(truth[picks].tolist())) == len(set(truth[low].tolist()))  # one pick per blob in the pool


def test_factor_one_is_plain_margin_sampling_in_some_order() -> None:
    X, _ = _blobs()
    proba = np.random.default_rng(3).dirichlet(np.ones(3), size=len(X))
    picks = cluster_margin(proba, X, 10, np.random.default_rng(0), margin_pool_factor=1)
    assert set(picks.tolist()) == set(np.argsort(-margin(proba))[:10].tolist())


def test_chunked_equals_whole_on_a_subsampled_pool() -> None:
    X, _ = _blobs(n_per=60)
    proba = np.random.default_rng(4).dirichlet(np.ones(3), size=len(X))
    inputs = StrategyInputs(candidates=np.arange(len(X)), proba=proba, features=X)
    whole = ClusterMargin(max_cluster_points=50).select(inputs, 12, np.random.default_rng(5))
    chunked = ClusterMargin(max_cluster_points=50, chunk_size=7).select(inputs, 12, np.random.default_rng(5))
    assert np.array_equal(whole.positions, chunked.positions)
    assert np.allclose(whole.scores, margin(proba)[whole.positions])


def test_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="margin_pool_factor must be at least 1, got 0.5"):
        ClusterMargin(margin_pool_factor=0.5)
    with pytest.raises(ValueError, match="n_clusters"):
        ClusterMargin(n_clusters=0)

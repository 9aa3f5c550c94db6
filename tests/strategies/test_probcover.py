"""ProbCover: the purity radius, coverage of every point, labelled balls, greedy gains."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.strategies import ProbCover, StrategyInputs, coverage_graph, prob_cover, purity_radius


def _blobs(n_per: int = 25, n_blobs: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.arange(n_blobs)[:, None] * np.array([[50.0, 0.0, 0.0]])
    truth = np.repeat(np.arange(n_blobs), n_per)
    return centres[truth] + rng.normal(size=(len(truth), 3)), truth


def _pure_fraction(Z: np.ndarray, labels: np.ndarray, delta: float) -> float:
    D = np.sqrt(((Z[:, None] - Z[None]) ** 2).sum(-1))
    return float(np.mean([(labels[D[i] < delta] == labels[i]).all() for i in range(len(Z))]))


def test_purity_radius_is_the_largest_pure_enough_radius() -> None:
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(120, 2))
    labels = (Z[:, 0] > 0).astype(int)  # two touching clusters: impurity grows with the radius
    for alpha in (0.8, 0.95):
        delta = purity_radius(Z, labels, alpha, chunk_size=13)
        # Distances are float32 inside, float64 here: compare a hair either side of delta.
        assert _pure_fraction(Z, labels, delta * (1 - 1e-5)) >= alpha
        assert _pure_fraction(Z, labels, delta * (1 + 1e-3)) < alpha
        assert delta == purity_radius(Z, labels, alpha)


def test_picks_cover_every_point_and_skip_labelled_balls() -> None:
    X, truth = _blobs()
    delta = 12.0  # larger than a blob, far smaller than the gap between blobs
    picks = prob_cover(X, None, 4, np.random.default_rng(0), delta=delta)
    assert sorted(truth[picks].tolist()) == [0, 1, 2, 3]
    D = np.sqrt(((X[:, None] - X[None, picks]) ** 2).sum(-1))
    assert (D.min(axis=1) < delta).all()
    labelled = X[truth == 2][:1]
    assert sorted(truth[prob_cover(X, labelled, 3, np.random.default_rng(0), delta=delta)].tolist()) == [0, 1, 3]


def test_first_pick_has_the_largest_ball_and_gains_shrink() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 2))
    inputs = StrategyInputs(candidates=np.arange(80), features=X)
    sel = ProbCover(delta=0.7).select(inputs, 10, np.random.default_rng(0))
    degree = np.asarray(coverage_graph(X, 0.7).sum(axis=1)).ravel()
    assert sel.scores[0] == degree.max() and degree[sel.positions[0]] == degree.max()
    assert np.all(np.diff(sel.scores) <= 0)


def test_default_radius_chunks_and_subsamples() -> None:
    X, _ = _blobs(n_per=30)
    inputs = StrategyInputs(candidates=np.arange(len(X)), features=X, labelled_features=X[:2])
    whole = ProbCover(n_clusters=4).select(inputs, 8, np.random.default_rng(3))
    chunked = ProbCover(n_clusters=4, chunk_size=6).select(inputs, 8, np.random.default_rng(3))
    assert np.array_equal(whole.positions, chunked.positions)
    small = ProbCover(n_clusters=4, max_points=40).select(inputs, 8, np.random.default_rng(3))
    assert len(set(small.positions.tolist())) == 8
    with pytest.raises(ValueError, match="alpha must be in"):
        ProbCover(alpha=0)

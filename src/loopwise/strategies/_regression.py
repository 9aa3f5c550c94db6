"""Regression strategies over the model's mean and standard deviation (``proba`` is ``n x 2``), a committee, or space.

Wu, Lin & Huang (2019), "Active learning for regression using greedy sampling" (GSx, GSy, iGS);
Cai, Zhang & Zhou (2013), "Maximizing expected model change for active learning in regression" (EMCM);
Burbidge, Rowland & King (2007), "Active learning for regression based on query by committee".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.metrics.pairwise import euclidean_distances

from loopwise.core.records import Selection
from loopwise.strategies._base import COMMITTEE, FEATURES, LABELS, PROBA, Strategy, StrategyInputs, score_in_chunks
from loopwise.strategies._capabilities import REGRESSION, TOP_K, Capabilities
from loopwise.strategies._kcenter import KCenterGreedy

_REGRESSION = frozenset({REGRESSION})
# Candidate rows per block of the candidates x labelled distance matrix (a few MiB of float64).
_BLOCK = 4096


def predictive_std(output: np.ndarray) -> np.ndarray:
    """The model's predictive standard deviation of each row (column 1 of the mean/std output)."""
    return np.asarray(np.asarray(output)[:, 1], dtype=np.float64)


def committee_variance(committee: np.ndarray) -> np.ndarray:
    """Variance over the members' predicted means (``committee`` is ``n_members x n x 2``)."""
    return np.asarray(np.asarray(committee, dtype=np.float64)[..., 0].var(axis=0))


def expected_model_change(committee: np.ndarray, output: np.ndarray, features: Any) -> np.ndarray:
    """EMCM for a linear model under squared loss: ``mean_k |f_k(x) - f(x)| * ||x||``.

    The gradient of the squared loss at ``x`` is ``(f(x) - y) x``; the unknown ``y``
    is stood in for by each bootstrap member's prediction ``f_k(x)`` (Cai et al. 2013, eq. 8).
    """
    members = np.asarray(committee, dtype=np.float64)[..., 0]
    mean = np.asarray(output, dtype=np.float64)[:, 0]
    if sp.issparse(features):
        norms = np.sqrt(np.asarray(features.multiply(features).sum(axis=1)).ravel())
    else:
        norms = np.linalg.norm(np.asarray(features, dtype=np.float64).reshape(len(mean), -1), axis=1)
    return np.asarray(np.abs(members - mean[None, :]).mean(axis=0) * norms)


class MaxStd(Strategy):
    """Largest predictive standard deviation: uncertainty sampling for regression (the learner's own std:
    a bootstrap committee's spread, a Gaussian process's posterior, quantile boosting's 16-84% half-range)."""

    name = "max_std"
    requires = frozenset({PROBA})
    capabilities = Capabilities(row_local=True, ranks=True, partition=TOP_K, tasks=_REGRESSION)

    def __init__(self, chunk_size: int | None = None) -> None:
        self.chunk_size = chunk_size

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        return score_in_chunks(predictive_std, inputs.require("proba"), self.chunk_size)


class CommitteeVariance(Strategy):
    """Query by committee for regression: the variance of bootstrap members' predictions (Burbidge et al. 2007).

    The loop trains the committee (``n_members`` bootstrap replicas of the learner), so it works with
    any regressor, with or without a std of its own.
    """

    name = "committee_variance"
    requires = frozenset({COMMITTEE})
    capabilities = Capabilities(row_local=True, ranks=True, tasks=_REGRESSION)

    def __init__(self, n_members: int = 5) -> None:
        if n_members < 2:
            raise ValueError(f"n_members must be at least 2, got {n_members}")
        self.n_members = n_members

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        return committee_variance(inputs.require("committee"))


class EMCM(Strategy):
    """Expected model change maximisation (Cai, Zhang & Zhou 2013): the gradient a label would cause,
    estimated with a bootstrap committee, for linear models (``bagging_ridge``) on the features."""

    name = "emcm"
    requires = frozenset({COMMITTEE, PROBA, FEATURES})
    capabilities = Capabilities(row_local=True, ranks=True, tasks=_REGRESSION)

    def __init__(self, n_members: int = 4) -> None:
        if n_members < 2:
            raise ValueError(f"n_members must be at least 2, got {n_members}")
        self.n_members = n_members

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        return expected_model_change(inputs.require("committee"), inputs.require("proba"), inputs.require("features"))


class GSx(KCenterGreedy):
    """Greedy sampling in the input space (GSx, Wu et al. 2019): the candidate farthest from every labelled or
    chosen record, which is greedy k-center over the features (the same code as ``kcenter``)."""

    name = "gsx"
    capabilities = Capabilities(cold_start=True, tasks=_REGRESSION)

    def __init__(self, chunk_size: int | None = None) -> None:
        super().__init__(use="features", chunk_size=chunk_size)


def _min_distance(candidates: Any, cand_y: np.ndarray, points: Any, point_y: np.ndarray, space: str) -> np.ndarray:
    """For each candidate, the smallest distance to ``points`` in ``space``: 'y' (|y - y'|) or 'xy' (||x - x'|| |y - y'|)."""
    n = len(cand_y)
    out = np.full(n, np.inf)
    if len(point_y) == 0:
        return out
    for start in range(0, n, _BLOCK):
        rows = slice(start, min(start + _BLOCK, n))
        d = np.abs(cand_y[rows, None] - point_y[None, :])
        if space == "xy":
            d = d * euclidean_distances(candidates[rows], points)
        out[rows] = d.min(axis=1)
    return out


def _greedy(inputs: StrategyInputs, batch_size: int, rng: np.random.Generator, space: str) -> Selection:
    """GSy / iGS: repeatedly take the candidate farthest (in ``space``) from every labelled record and every
    pick so far, a pick standing in with its predicted target (Wu et al. 2019, Algorithms 2 and 3)."""
    pred = np.asarray(inputs.require("proba"), dtype=np.float64)[:, 0]
    targets = np.asarray(inputs.require("labelled_labels"), dtype=np.float64)
    X: Any = inputs.require("features") if space == "xy" else None
    L: Any = inputs.require("labelled_features") if space == "xy" else None
    dist = _min_distance(X, pred, L, targets, space)
    # With nothing labelled every distance is infinite: the first pick is then drawn by the seeded generator.
    tie_break = rng.random(len(pred))
    chosen = np.zeros(len(pred), dtype=bool)
    positions = np.empty(batch_size, dtype=np.int64)
    scores = np.empty(batch_size, dtype=np.float64)
    for i in range(batch_size):
        masked = np.where(chosen, -np.inf, dist)
        best = masked.max()
        p = int(np.flatnonzero(masked == best)[np.argmax(tie_break[masked == best])])
        positions[i], scores[i] = p, best
        chosen[p] = True
        d_new = np.abs(pred - pred[p])
        if space == "xy":
            d_new = d_new * euclidean_distances(X, X[p : p + 1]).ravel()
        np.minimum(dist, d_new, out=dist)
    return Selection(positions=positions, scores=scores)


class GSy(Strategy):
    """Greedy sampling in the output space (GSy, Wu et al. 2019): the candidate whose predicted target is
    farthest from every labelled target and every pick's prediction."""

    name = "gsy"
    requires = frozenset({PROBA, LABELS})
    capabilities = Capabilities(tasks=_REGRESSION)

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        return _greedy(inputs, batch_size, rng, "y")


class IGS(Strategy):
    """Improved greedy sampling (iGS, Wu et al. 2019): the largest of the smallest products of input and
    output distances to the labelled records and the picks so far."""

    name = "igs"
    requires = frozenset({PROBA, LABELS, FEATURES})
    capabilities = Capabilities(tasks=_REGRESSION)

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        return _greedy(inputs, batch_size, rng, "xy")

"""Diverse sampling: the record nearest each k-means centroid, a cold start that needs no model."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.cluster.vq import kmeans2

from loopwise.core.records import Selection
from loopwise.strategies._base import FEATURES, Strategy, StrategyInputs
from loopwise.strategies._capabilities import TASKS, Capabilities
from loopwise.strategies._pairwise import check_max_dims, truncated_svd


def _dense_view(X: Any, max_dims: int, rng: np.random.Generator) -> np.ndarray:
    """Dense low-dimensional view for clustering; sparse text goes through a truncated SVD."""
    if sp.issparse(X):
        u, s, _ = truncated_svd(X, max_dims, rng)
        return np.asarray(u * s)
    return np.asarray(X, dtype=np.float64).reshape(X.shape[0], -1)


def diverse(X: Any, size: int, rng: np.random.Generator, max_dims: int = 50) -> np.ndarray:
    """``size`` distinct positions into ``X``: k-means (k-means++ from ``rng``), then the unused record nearest each centroid."""
    Z = _dense_view(X, max_dims, rng)
    centroids, _ = kmeans2(Z, size, minit="++", seed=rng)
    # Greedy nearest-unused assignment keeps the sample at exactly `size` distinct records.
    d2 = (Z**2).sum(1)[None, :] - 2 * centroids @ Z.T + (centroids**2).sum(1)[:, None]
    chosen: list[int] = []
    taken = np.zeros(Z.shape[0], dtype=bool)
    for row in d2:
        row = np.where(taken, np.inf, row)
        best = int(np.argmin(row))
        taken[best] = True
        chosen.append(best)
    return np.asarray(chosen, dtype=np.int64)


class DiverseSampling(Strategy):
    """k-means with one cluster per pick; the candidate nearest each centroid (clustering cold start, Zhu et al. 2008, COLING).

    It looks at the candidates' features only (not at the labelled set), so
    it is meant for loop 0, where there is neither a model nor a label; the
    scores are zeros. Sparse rows are clustered in a truncated-SVD view of
    ``max_dims`` dimensions.
    """

    name = "diverse"
    requires = frozenset({FEATURES})
    capabilities = Capabilities(cold_start=True, tasks=TASKS)

    def __init__(self, max_dims: int = 50) -> None:
        self.max_dims = check_max_dims(max_dims)

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        X = inputs.require(FEATURES)
        k = max(0, min(int(batch_size), int(X.shape[0])))
        positions = diverse(X, k, rng, self.max_dims) if k else np.empty(0, dtype=np.int64)
        return Selection(positions=positions, scores=np.zeros(len(positions)))

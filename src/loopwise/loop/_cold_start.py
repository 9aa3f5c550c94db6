"""Cold-start initialisers for loop 0: TypiClust and ProbCover picks from the features alone, before any model exists."""

from __future__ import annotations

from typing import Any

import numpy as np

from loopwise.loop._initial import Initializer
from loopwise.strategies import prob_cover, typiclust


class TypiClustInit(Initializer):
    """The most typical record of each of ``size`` k-means clusters (Hacohen, Dekel & Weinshall 2022).

    Built for tiny budgets, where typical records teach a model more than
    uncertain ones. Pools beyond ``max_points`` records are clustered on a
    seeded subsample; sparse features go through a truncated SVD of
    ``max_dims`` dimensions. See :func:`loopwise.strategies.typiclust`.
    """

    def __init__(self, n_neighbors: int = 20, max_clusters: int = 500, max_points: int = 20000, max_dims: int = 50) -> None:
        self.n_neighbors = n_neighbors
        self.max_clusters = max_clusters
        self.max_points = max_points
        self.max_dims = max_dims

    def select(self, X: Any, ids: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        return typiclust(
            X,
            None,
            size,
            rng,
            n_neighbors=self.n_neighbors,
            max_clusters=self.max_clusters,
            max_points=self.max_points,
            max_dims=self.max_dims,
        )


class ProbCoverInit(Initializer):
    """Greedy maximum coverage with balls of radius ``delta`` (Yehuda, Dekel, Hacohen & Weinshall 2022).

    ``delta=None`` takes the largest radius keeping ``alpha`` of the balls
    pure with respect to ``n_clusters`` k-means clusters (set it to the
    number of classes). Pools beyond ``max_points`` records are covered on a
    seeded subsample. See :func:`loopwise.strategies.prob_cover`.
    """

    def __init__(
        self,
        delta: float | None = None,
        alpha: float = 0.95,
        n_clusters: int = 10,
        max_points: int = 10000,
        max_dims: int = 50,
    ) -> None:
        self.delta = delta
        self.alpha = alpha
        self.n_clusters = n_clusters
        self.max_points = max_points
        self.max_dims = max_dims

    def select(self, X: Any, ids: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        return prob_cover(
            X,
            None,
            size,
            rng,
            delta=self.delta,
            alpha=self.alpha,
            n_clusters=self.n_clusters,
            max_points=self.max_points,
            max_dims=self.max_dims,
        )

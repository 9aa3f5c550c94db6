"""TypiClust: the most typical record of each uncovered cluster, for tiny budgets (Hacohen et al. 2022)."""

from __future__ import annotations

from typing import Any

import numpy as np

from loopwise.core.records import Selection
from loopwise.strategies._capabilities import TASKS, Capabilities
from loopwise.strategies._base import Strategy, StrategyInputs
from loopwise.strategies._pairwise import (
    check_chunk_size,
    check_max_dims as _check_max_dims,
    check_use,
    chunks,
    dense_view,
    kmeans,
    n_rows,
    nearest,
    sq_distances,
    sq_norms,
    subsample,
    vectors,
)


def typicality(Z: np.ndarray, n_neighbors: int = 20, chunk_size: int | None = None) -> np.ndarray:
    """``1 / mean distance to the K nearest other rows``, with ``K = min(n_neighbors, len(Z) // 2)``.

    Equation 1 of the paper, with its code's cap of K at half the cluster.
    Computed ``chunk_size`` rows at a time against all rows; a row alone
    (no neighbours) has typicality 0.
    """
    Z = np.asarray(Z, dtype=np.float32)
    m = Z.shape[0]
    K = min(int(n_neighbors), m // 2)
    out = np.zeros(m, dtype=np.float64)
    if K < 1:
        return out
    Z_sq = sq_norms(Z)
    for rows in chunks(m, chunk_size, width=m):
        d = np.sqrt(sq_distances(Z[rows], Z, Z_sq[rows], Z_sq))
        d[np.arange(rows.stop - rows.start), np.arange(rows.start, rows.stop)] = np.inf  # not its own neighbour
        nearest_k = np.partition(d, K - 1, axis=1)[:, :K]
        out[rows] = 1.0 / np.maximum(nearest_k.mean(axis=1, dtype=np.float64), 1e-12)
    return out


def _typiclust(
    X: Any,
    labelled: Any,
    batch_size: int,
    rng: np.random.Generator,
    n_neighbors: int,
    max_clusters: int,
    min_cluster_size: int,
    max_points: int,
    max_dims: int,
    chunk_size: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    n = n_rows(X)
    k = max(0, min(int(batch_size), n))
    if k == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    sample = subsample(n, max(max_points, k), rng)
    view = dense_view(X[sample], max_dims, rng)
    Z = view(X[sample])
    n_labelled = 0 if labelled is None else n_rows(labelled)
    centroids, labels = kmeans(Z, min(n_labelled + k, max_clusters, len(sample)), rng)
    n_clusters = centroids.shape[0]
    sizes = np.bincount(labels, minlength=n_clusters)
    covered = np.zeros(n_clusters, dtype=np.int64)  # labelled (then also chosen) records per cluster
    if n_labelled:
        covered += np.bincount(nearest(view(labelled), centroids, chunk_size)[0], minlength=n_clusters)
    # Members of each cluster, most typical first (typicality measured within the cluster).
    by_cluster = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    members, typ = [], []
    for c in range(n_clusters):
        idx = by_cluster[starts[c] : starts[c + 1]]
        values = typicality(Z[idx], n_neighbors, chunk_size)
        order = np.argsort(-values, kind="stable")
        members.append(idx[order])
        typ.append(values[order])
    taken = np.zeros(n_clusters, dtype=np.int64)
    picks = np.empty(k, dtype=np.int64)
    scores = np.empty(k, dtype=np.float64)
    ids = np.arange(n_clusters)
    for t in range(k):
        # The least covered cluster, largest first; clusters too small to be trusted go last.
        left = taken < sizes
        key = np.lexsort((ids, -sizes, covered, sizes < min_cluster_size))
        c = int(key[left[key]][0])
        picks[t] = members[c][taken[c]]
        scores[t] = typ[c][taken[c]]
        taken[c] += 1
        covered[c] += 1
    return sample[picks], scores


def typiclust(
    X: Any,
    labelled: Any,
    batch_size: int,
    rng: np.random.Generator,
    *,
    n_neighbors: int = 20,
    max_clusters: int = 500,
    min_cluster_size: int = 5,
    max_points: int = 20000,
    max_dims: int = 50,
    chunk_size: int | None = None,
) -> np.ndarray:
    """TypiClust selection: positions into ``X`` (``labelled`` may be empty or ``None``).

    k-means (k-means++ seeding from ``rng``) splits the rows into
    ``min(len(labelled) + batch_size, max_clusters)`` clusters; each pick takes
    the cluster holding the fewest labelled or already-picked records (the
    largest on ties) and adds its most typical unpicked record. Pools larger
    than ``max_points`` are clustered and searched on a seeded subsample of
    that size, so typicality is estimated there; sparse rows are clustered in
    a truncated-SVD view of ``max_dims`` dimensions.
    """
    check_chunk_size(chunk_size)
    return _typiclust(X, labelled, batch_size, rng, n_neighbors, max_clusters, min_cluster_size, max_points, max_dims, chunk_size)[0]


class TypiClust(Strategy):
    """TypiClust (Hacohen, Dekel & Weinshall 2022, "Active Learning on a Budget", ICML).

    Made for the low-budget regime and cold start: it declares loop-0 use, so
    ``parse_initializer("typiclust")`` (or ``--init typiclust``) picks the
    initial sample with it; in later loops it keeps covering clusters the
    labelled set has not reached. Scores are the picks' typicality; sparse
    rows are clustered in a truncated-SVD view of ``max_dims`` dimensions.
    """

    name = "typiclust"
    capabilities = Capabilities(cold_start=True, tasks=TASKS)

    def __init__(
        self,
        use: str = "features",
        n_neighbors: int = 20,
        max_clusters: int = 500,
        max_points: int = 20000,
        chunk_size: int | None = None,
        max_dims: int = 50,
    ) -> None:
        check_use(use)
        check_chunk_size(chunk_size)
        if n_neighbors < 1:
            raise ValueError(f"n_neighbors must be at least 1, got {n_neighbors!r}")
        if max_clusters < 1:
            raise ValueError(f"max_clusters must be at least 1, got {max_clusters!r}")
        if max_points < 2:
            raise ValueError(f"max_points must be at least 2, got {max_points!r}")
        self.use = use
        self.n_neighbors = n_neighbors
        self.max_clusters = max_clusters
        self.max_points = max_points
        self.chunk_size = chunk_size
        self.max_dims = _check_max_dims(max_dims)

    @property
    def requires(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset({self.use})

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        X, labelled = vectors(inputs, self.use)
        positions, scores = _typiclust(
            X, labelled, batch_size, rng, self.n_neighbors, self.max_clusters, 5, self.max_points, self.max_dims, self.chunk_size
        )
        return Selection(positions=positions, scores=scores)

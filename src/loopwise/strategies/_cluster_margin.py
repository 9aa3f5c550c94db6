"""Cluster-Margin: the lowest-margin records, spread round-robin over clusters (Citovsky et al. 2021)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from loopwise.core.records import Selection
from loopwise.core.topk import top_k
from loopwise.strategies._capabilities import Capabilities
from loopwise.strategies._base import PROBA, Strategy, StrategyInputs
from loopwise.strategies._pairwise import check_chunk_size, check_use, dense_view, n_rows, nearest
from loopwise.strategies._uncertainty import margin


def average_linkage_labels(
    X: Any,
    rows: np.ndarray,
    n_clusters: int,
    rng: np.random.Generator,
    *,
    max_points: int = 5000,
    max_dims: int = 50,
    chunk_size: int | None = None,
) -> np.ndarray:
    """Average-linkage cluster labels of ``X[rows]``, clustering all of ``X`` cut at ``n_clusters``.

    Linkage needs every pairwise distance (O(m²) memory), so at most
    ``max_points`` rows of ``X`` drawn from ``rng`` are clustered; a requested
    row outside that sample joins the cluster with the nearest centroid
    (chunked), which is what lets this scale to millions of rows. Sparse rows
    are clustered in a truncated-SVD view of ``max_dims`` dimensions.
    """
    n = n_rows(X)
    rows = np.asarray(rows, dtype=np.int64)
    if n == 0 or rows.size == 0:
        return np.zeros(rows.size, dtype=np.int64)
    sample = np.arange(n) if n <= max_points else np.sort(rng.choice(n, size=max_points, replace=False))
    view = dense_view(X[sample], max_dims, rng)
    Z = view(X[sample])
    n_clusters = max(1, min(int(n_clusters), len(sample)))
    if len(sample) == 1:
        sample_labels = np.zeros(1, dtype=np.int64)
    else:
        tree = linkage(np.asarray(Z, dtype=np.float64), method="average")
        sample_labels = fcluster(tree, t=n_clusters, criterion="maxclust").astype(np.int64) - 1
    where = np.searchsorted(sample, rows)
    in_sample = (where < len(sample)) & (sample[np.minimum(where, len(sample) - 1)] == rows)
    labels = np.empty(rows.size, dtype=np.int64)
    labels[in_sample] = sample_labels[where[in_sample]]
    outside = rows[~in_sample]
    if outside.size:
        n_found = int(sample_labels.max()) + 1
        sums = np.zeros((n_found, Z.shape[1]), dtype=np.float64)
        np.add.at(sums, sample_labels, np.asarray(Z, dtype=np.float64))
        centroids = (sums / np.bincount(sample_labels, minlength=n_found)[:, None]).astype(np.float32)
        labels[~in_sample] = nearest(view(X[outside]), centroids, chunk_size)[0]
    return labels


def round_robin(clusters: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices into ``clusters``: one random member per cluster, smallest cluster first, then again.

    This is Cluster-Margin's batch rule: small clusters (rare regions) get a
    pick as early as large ones, and no cluster gets a second pick before
    every cluster has had one.
    """
    clusters = np.asarray(clusters)
    ids, sizes = np.unique(clusters, return_counts=True)
    order = ids[np.lexsort((ids, sizes))]  # smallest first; equal sizes by cluster id
    members = [rng.permutation(np.flatnonzero(clusters == c)) for c in order]
    picks: list[int] = []
    depth = 0
    while len(picks) < k and depth < int(sizes.max(initial=0)):
        picks.extend(int(m[depth]) for m in members if len(m) > depth)
        depth += 1
    return np.asarray(picks[:k], dtype=np.int64)


def cluster_margin(
    proba: Any,
    X: Any,
    batch_size: int,
    rng: np.random.Generator,
    *,
    margin_pool_factor: float = 10.0,
    n_clusters: int | None = None,
    max_cluster_points: int = 5000,
    max_dims: int = 50,
    chunk_size: int | None = None,
) -> np.ndarray:
    """Cluster-Margin batch: the ``margin_pool_factor * batch_size`` lowest-margin candidates, round-robin over clusters.

    The candidates are clustered once per call with average linkage (a seeded
    subsample of ``max_cluster_points``, the rest assigned to the nearest
    centroid; sparse rows through a truncated SVD of ``max_dims``). With
    ``n_clusters=None`` there are as many clusters as the batch is large.
    """
    return _cluster_margin(proba, X, batch_size, rng, margin_pool_factor, n_clusters, max_cluster_points, max_dims, chunk_size)[0]


def _cluster_margin(
    proba: Any,
    X: Any,
    batch_size: int,
    rng: np.random.Generator,
    margin_pool_factor: float,
    n_clusters: int | None,
    max_cluster_points: int,
    max_dims: int,
    chunk_size: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    proba = np.asarray(proba)
    n = proba.shape[0]
    if n_rows(X) != n:
        raise ValueError(f"proba has {n} rows but the vectors have {n_rows(X)}")
    k = max(0, min(int(batch_size), n))
    if k == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    uncertainty = margin(proba).astype(np.float64)  # 1 - (p1 - p2): high for a small margin
    n_low = min(n, max(k, int(np.ceil(margin_pool_factor * k))))
    low = np.sort(top_k(uncertainty, n_low, rng))
    labels = average_linkage_labels(
        X, low, n_clusters or k, rng, max_points=max_cluster_points, max_dims=max_dims, chunk_size=chunk_size
    )
    picks = low[round_robin(labels, k, rng)]
    return picks, uncertainty[picks]


class ClusterMargin(Strategy):
    """Cluster-Margin (Citovsky et al. 2021, "Batch Active Learning at Scale", NeurIPS).

    Takes the ``margin_pool_factor x batch_size`` candidates with the smallest
    margin between their two most likely classes and spreads the batch over
    their average-linkage clusters, smallest cluster first. The paper
    clusters once per run; here each selection clusters a capped subsample of
    the candidates, so the strategy stays a pure function of its inputs.
    Scores are the picks' margin uncertainty ``1 - (p1 - p2)``.
    """

    name = "cluster_margin"
    capabilities = Capabilities()  # batch-aware: selects the batch as a whole, after loop 0

    def __init__(
        self,
        use: str = "features",
        margin_pool_factor: float = 10.0,
        n_clusters: int | None = None,
        max_cluster_points: int = 5000,
        chunk_size: int | None = None,
    ) -> None:
        check_use(use)
        check_chunk_size(chunk_size)
        if not margin_pool_factor >= 1:
            raise ValueError(f"margin_pool_factor must be at least 1, got {margin_pool_factor!r}")
        if n_clusters is not None and n_clusters < 1:
            raise ValueError(f"n_clusters must be a positive integer or None, got {n_clusters!r}")
        if max_cluster_points < 2:
            raise ValueError(f"max_cluster_points must be at least 2, got {max_cluster_points!r}")
        self.use = use
        self.margin_pool_factor = margin_pool_factor
        self.n_clusters = n_clusters
        self.max_cluster_points = max_cluster_points
        self.chunk_size = chunk_size

    @property
    def requires(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset({PROBA, self.use})

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        positions, scores = _cluster_margin(
            inputs.require("proba"),
            inputs.require(self.use),
            batch_size,
            rng,
            self.margin_pool_factor,
            self.n_clusters,
            self.max_cluster_points,
            50,
            self.chunk_size,
        )
        return Selection(positions=positions, scores=scores)

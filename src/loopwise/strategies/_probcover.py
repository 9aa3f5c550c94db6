"""ProbCover: greedy maximum coverage of δ-balls, for tiny budgets (Yehuda et al. 2022)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

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
    min_sq_distances,
    n_rows,
    sq_distances,
    sq_norms,
    subsample,
    vectors,
)


def purity_radius(Z: np.ndarray, labels: np.ndarray, alpha: float = 0.95, chunk_size: int | None = None) -> float:
    """The largest δ for which at least ``alpha`` of the δ-balls hold a single cluster label.

    A ball around ``x`` (points at distance ``< δ``) is pure exactly when ``δ``
    is at most the distance from ``x`` to the nearest point of another
    cluster, so the answer is a low quantile of those distances, found
    ``chunk_size`` rows at a time with no search over δ.
    """
    Z = np.asarray(Z, dtype=np.float32)
    labels = np.asarray(labels)
    m = Z.shape[0]
    if m == 0:
        return 0.0
    Z_sq = sq_norms(Z)
    other = np.full(m, np.inf, dtype=np.float32)
    for rows in chunks(m, chunk_size, width=m):
        d = sq_distances(Z[rows], Z, Z_sq[rows], Z_sq)
        d[labels[rows, None] == labels[None, :]] = np.inf
        other[rows] = d.min(axis=1)
    finite = np.sqrt(other[np.isfinite(other)])
    if finite.size == 0:  # a single cluster: every ball is pure
        return float(np.sqrt(sq_distances(Z[:1], Z).max())) + 1.0
    # At least alpha of all balls must be pure: the (1 - alpha) quantile of the distances
    # to another cluster, counting rows with no other cluster as pure at any radius.
    n_impure_allowed = int(np.floor((1.0 - alpha) * m + 1e-9))  # 1 - 0.8 is 0.19999...: do not lose a row to it
    ordered = np.sort(finite)
    return float(ordered[min(n_impure_allowed, ordered.size - 1)])


def coverage_graph(Z: np.ndarray, delta: float, chunk_size: int | None = None) -> sp.csr_matrix:
    """Boolean ``m x m`` graph with an edge ``i -> j`` when ``||z_i - z_j|| < δ``; built in row chunks."""
    Z = np.asarray(Z, dtype=np.float32)
    m = Z.shape[0]
    Z_sq = sq_norms(Z)
    parts = []
    for rows in chunks(m, chunk_size, width=m):
        near = sq_distances(Z[rows], Z, Z_sq[rows], Z_sq) < np.float32(delta) ** 2
        parts.append(sp.csr_matrix(near))
    graph = sp.vstack(parts, format="csr") if parts else sp.csr_matrix((0, 0), dtype=bool)
    return graph.astype(bool)


def _prob_cover(
    X: Any,
    labelled: Any,
    batch_size: int,
    rng: np.random.Generator,
    delta: float | None,
    alpha: float,
    n_clusters: int,
    max_points: int,
    max_dims: int,
    chunk_size: int | None,
) -> tuple[np.ndarray, np.ndarray, float]:
    n = n_rows(X)
    k = max(0, min(int(batch_size), n))
    if k == 0:
        return np.empty(0, dtype=np.int64), np.empty(0), float(delta or 0.0)
    sample = subsample(n, max(max_points, k), rng)
    view = dense_view(X[sample], max_dims, rng)
    Z = view(X[sample])
    m = Z.shape[0]
    if delta is None:
        delta = purity_radius(Z, kmeans(Z, n_clusters, rng)[1], alpha, chunk_size)
    graph = coverage_graph(Z, delta, chunk_size)
    covered = np.zeros(m, dtype=bool)
    if labelled is not None and n_rows(labelled):
        covered = min_sq_distances(Z, view(labelled), chunk_size) < np.float32(delta) ** 2
    # degree[i]: uncovered points inside i's ball (the graph is symmetric, so rows serve as columns).
    degree = np.asarray(graph.astype(np.int64) @ (~covered).astype(np.int64)).ravel()
    chosen = np.zeros(m, dtype=bool)
    picks = np.empty(k, dtype=np.int64)
    scores = np.empty(k, dtype=np.float64)
    for t in range(k):
        gain = np.where(chosen, -1, degree)
        c = int(np.argmax(gain))
        if gain[c] <= 0:
            # Everything reachable is covered; the paper then samples at random.
            c = int(rng.choice(np.flatnonzero(~chosen)))
        picks[t] = c
        scores[t] = float(degree[c])
        chosen[c] = True
        ball = graph.indices[graph.indptr[c] : graph.indptr[c + 1]]
        newly = ball[~covered[ball]]
        if newly.size:
            covered[newly] = True
            degree -= np.bincount(graph[newly].indices, minlength=m)
    return sample[picks], scores, float(delta)


def prob_cover(
    X: Any,
    labelled: Any,
    batch_size: int,
    rng: np.random.Generator,
    *,
    delta: float | None = None,
    alpha: float = 0.95,
    n_clusters: int = 10,
    max_points: int = 10000,
    max_dims: int = 50,
    chunk_size: int | None = None,
) -> np.ndarray:
    """ProbCover selection: positions into ``X`` (``labelled`` may be empty or ``None``).

    Greedy maximum coverage: the ball of radius ``delta`` around each pick
    covers the points inside it, the labelled records' balls count as
    covered already, and each pick is the point whose ball holds the most
    uncovered points (random once all are covered). With ``delta=None`` the
    radius is the largest keeping ``alpha`` of the balls pure with respect to
    a k-means clustering of ``n_clusters`` (the paper's heuristic, with k the
    number of classes). The graph is built in row chunks on at most
    ``max_points`` rows (a seeded subsample for larger pools, where coverage
    and picks are estimated on that subsample); its memory grows with the
    number of pairs closer than ``delta``.
    """
    check_chunk_size(chunk_size)
    return _prob_cover(X, labelled, batch_size, rng, delta, alpha, n_clusters, max_points, max_dims, chunk_size)[0]


class ProbCover(Strategy):
    """ProbCover (Yehuda, Dekel, Hacohen & Weinshall 2022, "Active Learning Through a Covering Lens", NeurIPS).

    Made for the low-budget regime and cold start: it declares loop-0 use, so
    ``parse_initializer("probcover")`` (or ``--init probcover``) picks the
    initial sample with it. The paper
    works on self-supervised embeddings; pass ``use="embeddings"`` when the
    learner has them. Scores are the number of newly covered points per pick.
    """

    name = "probcover"
    capabilities = Capabilities(cold_start=True, tasks=TASKS)

    def __init__(
        self,
        use: str = "features",
        delta: float | None = None,
        alpha: float = 0.95,
        n_clusters: int = 10,
        max_points: int = 10000,
        chunk_size: int | None = None,
        max_dims: int = 50,
    ) -> None:
        check_use(use)
        check_chunk_size(chunk_size)
        if delta is not None and not delta > 0:
            raise ValueError(f"delta must be positive or None, got {delta!r}")
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
        if n_clusters < 2:
            raise ValueError(f"n_clusters must be at least 2, got {n_clusters!r}")
        if max_points < 2:
            raise ValueError(f"max_points must be at least 2, got {max_points!r}")
        self.use = use
        self.delta = delta
        self.alpha = alpha
        self.n_clusters = n_clusters
        self.max_points = max_points
        self.chunk_size = chunk_size
        self.max_dims = _check_max_dims(max_dims)

    @property
    def requires(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset({self.use})

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        X, labelled = vectors(inputs, self.use)
        positions, scores, _ = _prob_cover(
            X, labelled, batch_size, rng, self.delta, self.alpha, self.n_clusters, self.max_points, self.max_dims, self.chunk_size
        )
        return Selection(positions=positions, scores=scores)

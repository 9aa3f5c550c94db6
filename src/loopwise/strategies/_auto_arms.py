"""``covered_margin``: the most uncertain typical record of each least-covered cluster (an arm of ``auto``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from loopwise.core.records import Selection
from loopwise.strategies._capabilities import Capabilities
from loopwise.strategies._base import FEATURES, PROBA, Strategy, StrategyInputs
from loopwise.strategies._pairwise import dense_view, kmeans, n_rows, nearest, subsample, vectors
from loopwise.strategies._typiclust import typicality
from loopwise.strategies._uncertainty import margin


def covered_margin(
    X: Any,
    labelled: Any,
    uncertainty: np.ndarray,
    batch_size: int,
    rng: np.random.Generator,
    *,
    typical_share: float = 0.5,
    n_neighbors: int = 20,
    max_clusters: int = 500,
    max_points: int = 20000,
    max_dims: int = 50,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions into ``X`` and their uncertainty: TypiClust's cluster order, uncertainty within each cluster.

    k-means splits the rows into ``len(labelled) + batch_size`` clusters (at most
    ``max_clusters``); each pick goes to the cluster holding the fewest labelled
    or picked records (the largest on ties), as in TypiClust, and takes the most
    uncertain record among the ``typical_share`` most typical members of that
    cluster. Coverage keeps the batch spread over the pool (uncertainty alone
    piles a batch into the one region the weak model confuses, often one class);
    uncertainty inside a cluster buys the records near the boundary; the
    typicality filter keeps outliers out. Pools above ``max_points`` rows are
    clustered on a seeded subsample.
    """
    n = n_rows(X)
    k = max(0, min(int(batch_size), n))
    if k == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    uncertainty = np.asarray(uncertainty, dtype=np.float64)
    sample = subsample(n, max(max_points, k), rng)
    view = dense_view(X[sample], max_dims, rng)
    Z = view(X[sample])
    n_labelled = 0 if labelled is None else n_rows(labelled)
    centroids, labels = kmeans(Z, min(n_labelled + k, max_clusters, len(sample)), rng)
    n_clusters = centroids.shape[0]
    sizes = np.bincount(labels, minlength=n_clusters)
    covered = np.zeros(n_clusters, dtype=np.int64)
    if n_labelled:
        covered += np.bincount(nearest(view(labelled), centroids)[0], minlength=n_clusters)
    by_cluster = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    members: list[np.ndarray] = []
    for c in range(n_clusters):
        idx = by_cluster[starts[c] : starts[c + 1]]
        typ = typicality(Z[idx], n_neighbors)
        n_keep = max(1, int(np.ceil(typical_share * len(idx))))
        order = np.argsort(-typ, kind="stable")
        typical = idx[order[:n_keep]]
        rest = np.sort(idx[order[n_keep:]])  # ascending, as idx is; used only once the typical members are spent
        u_typ, u_rest = uncertainty[sample[typical]], uncertainty[sample[rest]]
        members.append(np.concatenate([typical[np.argsort(-u_typ, kind="stable")], rest[np.argsort(-u_rest, kind="stable")]]))
    taken = np.zeros(n_clusters, dtype=np.int64)
    picks = np.empty(k, dtype=np.int64)
    ids = np.arange(n_clusters)
    for t in range(k):
        left = taken < sizes
        key = np.lexsort((ids, -sizes, covered))
        c = int(key[left[key]][0])
        picks[t] = sample[members[c][taken[c]]]
        taken[c] += 1
        covered[c] += 1
    return picks, uncertainty[picks]


class CoveredMargin(Strategy):
    """The most uncertain (margin) typical record of each least-covered cluster; ``auto``'s uncertainty arm.

    Coverage as in TypiClust (Hacohen et al. 2022), uncertainty inside each
    cluster as in Cluster-Margin (Citovsky et al. 2021) and, in spirit,
    Uncertainty Herding (Bae et al. 2025): one rule that keeps the batch spread
    while it buys boundary records. Scores are the picks' margin uncertainty.
    """

    name = "covered_margin"
    capabilities = Capabilities()  # batch-aware: selects the batch as a whole, after loop 0
    requires = frozenset({PROBA, FEATURES})

    def __init__(self, typical_share: float = 0.5, max_points: int = 20000) -> None:
        if not 0 < typical_share <= 1:
            raise ValueError(f"typical_share must be in (0, 1], got {typical_share!r}")
        if max_points < 2:
            raise ValueError(f"max_points must be at least 2, got {max_points!r}")
        self.typical_share = typical_share
        self.max_points = max_points

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        X, labelled = vectors(inputs, "features")
        positions, scores = covered_margin(
            X, labelled, margin(inputs.require("proba")), batch_size, rng,
            typical_share=self.typical_share, max_points=self.max_points,
        )  # fmt: skip
        return Selection(positions=positions, scores=scores)

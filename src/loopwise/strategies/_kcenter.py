"""Core-set selection by greedy k-center: cover the pool with the smallest radius (Sener & Savarese 2018)."""

from __future__ import annotations

from typing import Any

import numpy as np

from loopwise.core.records import Selection
from loopwise.strategies._base import Strategy, StrategyInputs
from loopwise.strategies._pairwise import (
    as_matrix,
    check_chunk_size,
    check_use,
    min_sq_distances,
    n_rows,
    sq_distances_to_row,
    sq_norms,
    vectors,
)


def _k_center_greedy(
    candidates_emb: Any,
    labelled_emb: Any,
    k: int,
    chunk_size: int | None,
    rng: np.random.Generator | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions and, for each, its distance to the nearest centre chosen before it (the radius it closed)."""
    X = as_matrix(candidates_emb)
    n = n_rows(X)
    k = max(0, min(int(k), n))
    positions = np.empty(k, dtype=np.int64)
    radii = np.empty(k, dtype=np.float64)
    if k == 0:
        return positions, radii
    X_sq = sq_norms(X)
    L = as_matrix(labelled_emb) if labelled_emb is not None else None
    # min_sq[i]: squared distance from candidate i to its nearest centre (labelled or chosen);
    # chosen candidates hold -inf so they never win the argmax again.
    min_sq: np.ndarray | None = None
    if L is not None and n_rows(L) > 0:
        min_sq = min_sq_distances(X, L, chunk_size, X_sq=X_sq)
    for t in range(k):
        if min_sq is None:
            if rng is None:
                raise ValueError("k_center_greedy needs rng to pick the first centre when no labelled rows are given")
            c = int(rng.integers(n))
        else:
            c = int(np.argmax(min_sq))
            radii[t] = np.sqrt(max(float(min_sq[c]), 0.0))
        positions[t] = c
        d = sq_distances_to_row(X, X_sq, c, chunk_size)
        if min_sq is None:
            min_sq = d
            # A random first centre closed no gap; report the radius it leaves instead.
            radii[t] = np.sqrt(float(d.max()))
        else:
            np.minimum(min_sq, d, out=min_sq)
        min_sq[c] = -np.inf
    return positions, radii


def k_center_greedy(
    candidates_emb: Any,
    labelled_emb: Any,
    k: int,
    chunk_size: int | None = None,
    *,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Greedy k-center: repeatedly pick the candidate farthest from every labelled or chosen row.

    The 2-approximation of the minimax facility-location problem used by the
    core-set approach. Rows are dense or sparse; distances are Euclidean in
    float32. A min-distance vector is kept and updated with one
    matrix-vector product per pick, and the initial distances to the labelled
    set are computed block by block (``chunk_size`` candidate rows at a time,
    or blocks of about 16 MiB when ``None``), so memory stays O(n). With no
    labelled rows the first centre is drawn from ``rng``.
    """
    check_chunk_size(chunk_size)
    return _k_center_greedy(candidates_emb, labelled_emb, k, chunk_size, rng)[0]


class KCenterGreedy(Strategy):
    """Core-set selection with greedy k-center (Sener & Savarese 2018, "Active Learning for CNNs: A Core-Set Approach").

    ``use`` picks the space: ``"features"`` (the pool's rows; works with any
    learner) or ``"embeddings"`` (the learner's ``embed()``, as in the paper).
    Scores are the distance each pick had to its nearest centre when chosen.
    """

    name = "kcenter"

    def __init__(self, use: str = "features", chunk_size: int | None = None) -> None:
        check_use(use)
        check_chunk_size(chunk_size)
        self.use = use
        self.chunk_size = chunk_size

    @property
    def requires(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset({self.use})

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        X, L = vectors(inputs, self.use)
        positions, radii = _k_center_greedy(X, L, batch_size, self.chunk_size, rng)
        return Selection(positions=positions, scores=radii)

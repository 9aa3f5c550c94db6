"""Core-set selection by greedy k-center: cover the pool with the smallest radius (Sener & Savarese 2018)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from loopwise.core.records import Selection
from loopwise.strategies._capabilities import K_CENTER, TASKS, Capabilities
from loopwise.strategies._base import Strategy, StrategyInputs
from loopwise.strategies._farthest import k_center_picks
from loopwise.strategies._pairwise import check_chunk_size, check_use, unit_rows, vectors


def _k_center_greedy(
    candidates_emb: Any,
    labelled_emb: Any,
    k: int,
    chunk_size: int | None,
    rng: np.random.Generator | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions and, for each, its distance to the nearest centre chosen before it (the radius it closed)."""
    return k_center_picks(candidates_emb, labelled_emb, k, chunk_size, rng)


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
    float32. The distances to the labelled set are computed block by block
    (``chunk_size`` candidate rows at a time, or blocks of about 16 MiB when
    ``None``), so memory stays O(n). Each pick is exact but lazy: only the
    few thousand rows farthest from every centre are updated with each new
    centre, and more rows join them only when one of them could be the
    farthest (see ``FarthestPoints``), so a pick costs a small fraction of a
    pass over the pool. With no labelled rows the first centre is drawn from
    ``rng``.
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
    # With nothing labelled the first centre is drawn, so it serves loop 0 on features, for any task.
    capabilities = Capabilities(partition=K_CENTER, cold_start=True, tasks=TASKS)
    # Whether distances are taken between rows scaled to unit length; executors that run
    # the greedy on partitions read this, so a subclass's geometry travels with it.
    unit_length: ClassVar[bool] = False

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


class NormalizedKCenterGreedy(KCenterGreedy):
    """Greedy k-center on rows scaled to unit length: distances then measure direction, not magnitude.

    The geometry of small-text's ``GreedyCoreset`` (its default). Which of
    the two works better depends on the data: in the quality benchmark
    (docs/benchmarks.md) unit rows win on mnist and shuttle and lose on
    letter, where the rows' magnitude carries information.
    """

    name = "kcenter_normalized"
    unit_length: ClassVar[bool] = True

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        X, L = vectors(inputs, self.use)
        positions, radii = _k_center_greedy(unit_rows(X), unit_rows(L), batch_size, self.chunk_size, rng)
        return Selection(positions=positions, scores=radii)

"""What one partition of the pool does where its rows live: INFER, score, keep its top k, or serve k-center."""

from __future__ import annotations

from typing import Any

import numpy as np

from loopwise.core.topk import partial_top_k
from loopwise.errors import ConfigError
from loopwise.loop._infer import predict_proba_pool
from loopwise.strategies import PROBA, Strategy, StrategyInputs
from loopwise.strategies._farthest import FarthestPoints
from loopwise.strategies._pairwise import unit_rows


class Partition:
    """A contiguous block of pool rows (``start`` is its first pool position) and the work done on it.

    Pure NumPy: :class:`~loopwise.distributed.LocalExecutor` calls it in
    process, and the Ray executor wraps one in an actor on the node that
    holds the rows, so both run the same code and give the same numbers.
    """

    def __init__(self, X: Any, start: int) -> None:
        self.X = X
        self.start = int(start)
        self.n = int(X.shape[0])
        self._kcenter: FarthestPoints | None = None

    def _space(self, model: Any, use: str, rows: np.ndarray, unit_length: bool = False) -> Any:
        """The rows ``rows`` in the strategy's space (features or embeddings), scaled to unit length when asked."""
        if use == "features":
            space = self.X if rows.size == self.n else self.X[rows]
        else:
            embed = getattr(model, "embed", None)
            if embed is None:
                raise ConfigError("this strategy needs embeddings; the learner has no embed()")
            embeddings = np.asarray(embed(self.X), dtype=np.float32)
            space = embeddings if rows.size == self.n else embeddings[rows]
        # Row by row, as the in-process strategy scales them, so every distance is the same float32 value.
        return unit_rows(space) if unit_length else space

    def score_top_k(
        self,
        strategy: Strategy,
        model: Any,
        candidates: np.ndarray,
        offset: int,
        k: int,
        with_proba: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """INFER here, score the candidate rows (partition-local positions), and keep what can reach the global top k.

        Returns the kept scores, their candidate indices (``offset`` is the
        index of this partition's first candidate among all candidates) and,
        with ``with_proba``, every row's probabilities for the loop's history.
        """
        proba = predict_proba_pool(model, self.X)
        inputs = StrategyInputs(candidates=candidates, proba=proba[candidates] if PROBA in strategy.requires else None)
        scores = np.asarray(strategy.score(inputs), dtype=np.float64)
        kept, index = partial_top_k(scores, k, offset)
        return kept, index, proba if with_proba else None

    def proba(self, model: Any) -> np.ndarray:
        return predict_proba_pool(model, self.X)

    # -- k-center: an exact distributed greedy ------------------------------------
    def kcenter_start(
        self, model: Any, use: str, candidates: np.ndarray, chunk_size: int | None, unit_length: bool = False
    ) -> None:
        """Hold the candidates' rows for k-center; distances come with the labelled rows (``kcenter_labelled``)."""
        self._kc_rows = self._space(model, use, candidates, unit_length)
        self._kc_chunk = chunk_size
        self._kcenter = None

    def kcenter_rows(self, model: Any, use: str, positions: np.ndarray, unit_length: bool = False) -> np.ndarray:
        """Rows of partition-local ``positions`` in the space ``use`` (labelled rows to broadcast)."""
        space = self._space(model, use, np.arange(self.n), unit_length)
        part = space[positions]
        return np.asarray(part.toarray() if hasattr(part, "toarray") else part, dtype=np.float32)

    def kcenter_labelled(self, labelled: np.ndarray) -> None:
        self._kcenter = FarthestPoints(self._kc_rows, labelled if len(labelled) else None, self._kc_chunk)

    def kcenter_row(self, i: int) -> np.ndarray:
        assert self._kcenter is not None
        return self._kcenter.row(i)

    def kcenter_step(self, centre: np.ndarray | None, take: int) -> tuple[float, int, np.ndarray | None]:
        """Learn the last centre (and take it if it is ours), then report our farthest row and its vector."""
        state = self._kcenter
        assert state is not None
        if take >= 0:
            state.take(take)
        if centre is not None:
            state.add_centre(centre)
        if state.n == 0:
            return -np.inf, -1, None
        value, i = state.farthest()
        return value, i, (state.row(i) if i >= 0 else None)

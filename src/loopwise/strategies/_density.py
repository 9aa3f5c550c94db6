"""Information density: uncertainty weighted by how representative a record is (Settles & Craven 2008)."""

from __future__ import annotations

from typing import Any

import numpy as np

from loopwise.strategies._capabilities import Capabilities
from loopwise.strategies._base import FEATURES, PROBA, Strategy, StrategyInputs, score_in_chunks
from loopwise.strategies._pairwise import unit_rows
from loopwise.strategies._uncertainty import entropy, least_confidence, margin

_BASE = {"entropy": entropy, "margin": margin, "least_confidence": least_confidence}


def cosine_density(X: Any, chunk_size: int | None = None) -> np.ndarray:
    """Mean cosine similarity of each row to all rows, in O(n·d).

    With unit rows, ``mean_j cos(x_i, x_j) = x_i · mean_j x_j``, so no n×n
    matrix is ever built; chunks of rows give the same result as the whole.
    """
    Xn = unit_rows(X, np.float64)
    centroid = np.asarray(Xn.mean(axis=0)).ravel()
    n = Xn.shape[0]
    step = n if chunk_size is None else chunk_size
    parts = [np.asarray(Xn[i : i + step] @ centroid).ravel() for i in range(0, n, step)]
    return np.concatenate(parts) if parts else np.empty(0)


class InformationDensity(Strategy):
    """Information density: ``uncertainty(x) * density(x) ** beta`` (Settles & Craven 2008).

    Density is the mean cosine similarity of a candidate to the unlabelled
    pool, rescaled to ``[0, 1]``, so outliers with high uncertainty rank below typical uncertain records.
    """

    name = "information_density"
    requires = frozenset({PROBA, FEATURES})
    # The density's centroid is pool-wide: ranks, but a chunk alone would score differently.
    capabilities = Capabilities(ranks=True)

    def __init__(self, base: str = "entropy", beta: float = 1.0, chunk_size: int | None = None) -> None:
        if base not in _BASE:
            raise ValueError(f"base must be one of {sorted(_BASE)}, got {base!r}")
        self.base = base
        self.beta = beta
        self.chunk_size = chunk_size

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        uncertainty = score_in_chunks(_BASE[self.base], inputs.require("proba"), self.chunk_size)
        # Mapped to [0, 1] so standardised features (mean similarity near 0) never zero the score.
        density = (1.0 + cosine_density(inputs.require("features"), self.chunk_size)) / 2.0
        return uncertainty * density**self.beta

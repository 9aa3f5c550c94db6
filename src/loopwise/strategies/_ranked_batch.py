"""Ranked batch-mode sampling: uncertainty traded against distance to what is known (Cardoso et al. 2017)."""

from __future__ import annotations

from typing import Any

import numpy as np

from loopwise.core.records import Selection
from loopwise.strategies._capabilities import Capabilities
from loopwise.strategies._base import PROBA, Strategy, StrategyInputs
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
from loopwise.strategies._uncertainty import entropy, least_confidence, margin


def _normalised_entropy(proba: np.ndarray) -> np.ndarray:
    k = proba.shape[1]
    return entropy(proba) / np.log(k) if k > 1 else np.zeros(proba.shape[0])


_UNCERTAINTY = {"least_confidence": least_confidence, "margin": margin, "entropy": _normalised_entropy}


def ranked_batch(
    uncertainty: np.ndarray,
    X: Any,
    labelled: Any,
    batch_size: int,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy ranked batch: positions into ``X`` and the score each had when picked.

    At each step the score is ``α (1 - s) + (1 - α) u``, where ``s`` is the
    largest similarity ``1 / (1 + distance)`` to a labelled or already
    picked row, ``u`` the uncertainty (in ``[0, 1]``) and
    ``α = |unlabelled| / (|unlabelled| + |labelled|)``, both counts moving as
    picks join the labelled side, so diversity matters most while little is
    labelled. With nothing labelled, the first pick is the most uncertain
    row (as in modAL's implementation). Only a min-distance vector is kept: one chunked distance
    computation per pick, plus a chunked pass against the labelled rows.
    """
    check_chunk_size(chunk_size)
    u = np.array(uncertainty, dtype=np.float32)  # a copy: picked rows get -inf here so they never win again
    X = as_matrix(X)
    n = n_rows(X)
    if u.shape != (n,):
        raise ValueError(f"uncertainty has shape {u.shape}; expected ({n},) to match the rows")
    k = max(0, min(int(batch_size), n))
    n_labelled = 0 if labelled is None else n_rows(labelled)
    X_sq = sq_norms(X)
    if n_labelled:
        min_sq = min_sq_distances(X, as_matrix(labelled), chunk_size, X_sq=X_sq)
    else:
        min_sq = np.full(n, np.inf, dtype=np.float32)  # similarity 0 to an empty set
    positions = np.empty(k, dtype=np.int64)
    scores = np.empty(k, dtype=np.float64)
    score = np.empty(n, dtype=np.float32)
    weighted_u = np.empty(n, dtype=np.float32)
    for t in range(k):
        alpha = (n - t) / (n + n_labelled)
        if t == 0 and n_labelled == 0:
            score[:] = u  # cold start: everything is equally far from nothing, so the most uncertain first
        else:
            # alpha * (1 - 1 / (1 + d)) + (1 - alpha) * u, in place: a handful of float32 passes per pick.
            np.sqrt(min_sq, out=score)
            score += 1.0
            np.reciprocal(score, out=score)
            score *= -alpha
            score += alpha
            np.multiply(u, 1.0 - alpha, out=weighted_u)
            score += weighted_u
        c = int(np.argmax(score))
        positions[t] = c
        scores[t] = float(score[c])
        u[c] = -np.inf
        np.minimum(min_sq, sq_distances_to_row(X, X_sq, c, chunk_size), out=min_sq)
    return positions, scores


class RankedBatch(Strategy):
    """Ranked batch-mode active learning (Cardoso, Silva, Frazão, Guimarães, Costa & Cortes 2017, Information Sciences).

    ``uncertainty`` is ``least_confidence`` (as in the paper), ``margin`` or
    ``entropy`` (divided by ``log k`` to stay in ``[0, 1]``). ``use`` picks the
    space distances are measured in. With nothing labelled the first pick is
    the most uncertain record.
    """

    name = "ranked_batch"
    capabilities = Capabilities()  # batch-aware: selects the batch as a whole, after loop 0

    def __init__(self, uncertainty: str = "least_confidence", use: str = "features", chunk_size: int | None = None) -> None:
        if uncertainty not in _UNCERTAINTY:
            raise ValueError(f"uncertainty must be one of {sorted(_UNCERTAINTY)}, got {uncertainty!r}")
        check_use(use)
        check_chunk_size(chunk_size)
        self.uncertainty = uncertainty
        self.use = use
        self.chunk_size = chunk_size

    @property
    def requires(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset({PROBA, self.use})

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        X, labelled = vectors(inputs, self.use)
        u = _UNCERTAINTY[self.uncertainty](np.asarray(inputs.require("proba"), dtype=np.float64))
        positions, scores = ranked_batch(u, X, labelled, batch_size, self.chunk_size)
        return Selection(positions=positions, scores=scores)

"""Uncertainty sampling: least confidence, margin and entropy (Settles 2009, survey §3.1)."""

from __future__ import annotations

import numpy as np

from loopwise.strategies._capabilities import TOP_K, Capabilities
from loopwise.strategies._base import PROBA, Strategy, StrategyInputs, score_in_chunks


# Up to this many classes, a row-wise max is a few element-wise passes over the columns
# (NumPy's reduction along a short row is 5-30x slower); blocks of rows keep the passes in cache.
_NARROW = 24
_BLOCK_ROWS = 16384


def _top1(proba: np.ndarray) -> np.ndarray:
    """Largest value of each row; exactly ``proba.max(axis=1)``."""
    n, k = proba.shape
    if k > _NARROW or k == 0:
        return np.asarray(proba.max(axis=1))
    out = np.empty(n, dtype=proba.dtype)
    for start in range(0, n, _BLOCK_ROWS):
        block, best = proba[start : start + _BLOCK_ROWS], out[start : start + _BLOCK_ROWS]
        np.copyto(best, block[:, 0])
        for j in range(1, k):
            np.maximum(best, block[:, j], out=best)
    return out


def _top2(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest and second largest value of each row (``k >= 2``), exactly as a partition gives them."""
    n, k = proba.shape
    if k > _NARROW:
        top2 = np.partition(proba, k - 2, axis=1)[:, -2:]
        return top2[:, 1], top2[:, 0]
    first = np.empty(n, dtype=proba.dtype)
    second = np.empty(n, dtype=proba.dtype)
    scratch = np.empty(min(n, _BLOCK_ROWS), dtype=proba.dtype)
    for start in range(0, n, _BLOCK_ROWS):
        block = proba[start : start + _BLOCK_ROWS]
        m = block.shape[0]
        p1, p2, low = first[start : start + m], second[start : start + m], scratch[:m]
        np.maximum(block[:, 0], block[:, 1], out=p1)
        np.minimum(block[:, 0], block[:, 1], out=p2)
        for j in range(2, k):
            np.minimum(p1, block[:, j], out=low)
            np.maximum(p2, low, out=p2)
            np.maximum(p1, block[:, j], out=p1)
    return first, second


def least_confidence(proba: np.ndarray) -> np.ndarray:
    """``1 - max_c p(c|x)``: high when the most likely class is not very likely."""
    proba = np.asarray(proba)
    return np.asarray(1.0 - _top1(proba))


def margin(proba: np.ndarray) -> np.ndarray:
    """``1 - (p_1 - p_2)`` for the two most likely classes: high when they are close."""
    proba = np.asarray(proba)
    if proba.shape[1] < 2:
        return np.zeros(proba.shape[0], dtype=proba.dtype)
    first, second = _top2(proba)
    return np.asarray(1.0 - (first - second))


def entropy(proba: np.ndarray) -> np.ndarray:
    """Shannon entropy of each row, in nats (``0 log 0 = 0``).

    Computed in blocks of rows, so the temporaries stay a block in size
    whatever the pool; each row's value is the same as in one pass.
    """
    proba = np.asarray(proba)
    n = proba.shape[0]
    if n <= _BLOCK_ROWS:
        return _entropy(proba)
    return np.concatenate([_entropy(proba[start : start + _BLOCK_ROWS]) for start in range(0, n, _BLOCK_ROWS)])


def _entropy(proba: np.ndarray) -> np.ndarray:
    # log(1) = 0 stands in for log(0), so 0 log 0 = 0 without a second pass.
    logp = np.log(np.where(proba > 0, proba, 1.0))
    logp *= proba
    return np.asarray(-logp.sum(axis=1))


class _UncertaintySampling(Strategy):
    requires = frozenset({PROBA})
    capabilities = Capabilities(row_local=True, ranks=True, partition=TOP_K)
    _score_fn = staticmethod(least_confidence)

    def __init__(self, chunk_size: int | None = None) -> None:
        self.chunk_size = chunk_size

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        return score_in_chunks(self._score_fn, inputs.require("proba"), self.chunk_size)


class LeastConfidence(_UncertaintySampling):
    """Least-confidence sampling (Lewis & Gale 1994; Culotta & McCallum 2005)."""

    name = "least_confidence"
    _score_fn = staticmethod(least_confidence)


class MarginSampling(_UncertaintySampling):
    """Smallest-margin sampling (Scheffer, Decomain & Wrobel 2001); ties broken by the seeded generator."""

    name = "margin"
    _score_fn = staticmethod(margin)


class EntropySampling(_UncertaintySampling):
    """Maximum-entropy sampling (Shannon 1948; Settles & Craven 2008)."""

    name = "entropy"
    _score_fn = staticmethod(entropy)

"""Uncertainty sampling: least confidence, margin and entropy (Settles 2009, survey §3.1)."""

from __future__ import annotations

import numpy as np

from loopwise.strategies._base import PROBA, Strategy, StrategyInputs, score_in_chunks


def least_confidence(proba: np.ndarray) -> np.ndarray:
    """``1 - max_c p(c|x)``: high when the most likely class is not very likely."""
    proba = np.asarray(proba)
    return np.asarray(1.0 - proba.max(axis=1))


def margin(proba: np.ndarray) -> np.ndarray:
    """``1 - (p_1 - p_2)`` for the two most likely classes: high when they are close."""
    proba = np.asarray(proba)
    if proba.shape[1] < 2:
        return np.zeros(proba.shape[0], dtype=proba.dtype)
    top2 = np.partition(proba, proba.shape[1] - 2, axis=1)[:, -2:]
    return np.asarray(1.0 - (top2[:, 1] - top2[:, 0]))


def entropy(proba: np.ndarray) -> np.ndarray:
    """Shannon entropy of each row, in nats (``0 log 0 = 0``)."""
    proba = np.asarray(proba)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(proba > 0, np.log(np.where(proba > 0, proba, 1.0)), 0.0)
    return np.asarray(-(proba * logp).sum(axis=1))


class _UncertaintySampling(Strategy):
    requires = frozenset({PROBA})
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

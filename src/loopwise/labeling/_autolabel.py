"""Auto-labelling with a precision target: a confidence threshold chosen on held-out human labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import beta

from loopwise.errors import ConfigError, DataError

AUTO_SOURCE = "auto"


def precision_lower_bound(n_correct: np.ndarray, n_total: np.ndarray, level: float) -> np.ndarray:
    """One-sided Clopper-Pearson lower bound of a precision at confidence ``level`` (0 where nothing was counted)."""
    n_correct = np.asarray(n_correct, dtype=np.float64)
    n_total = np.asarray(n_total, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bound = beta.ppf(1.0 - level, n_correct, n_total - n_correct + 1.0)
    return np.where((n_total > 0) & (n_correct > 0), np.nan_to_num(bound, nan=0.0), 0.0)


def choose_threshold(confidence: np.ndarray, correct: np.ndarray, target: float, level: float = 0.9) -> float:
    """Lowest confidence threshold whose held-out precision is, with ``level`` confidence, at least ``target``.

    Records at or above the threshold are counted as auto-labelled; the bound
    is the exact binomial one, so a small held-out set gives a high threshold
    (or ``inf``: auto-label nothing) rather than an optimistic one.
    """
    if not 0.0 < target < 1.0:
        raise ConfigError(f"precision target must be in (0, 1); got {target}")
    if not 0.0 < level < 1.0:
        raise ConfigError(f"confidence level must be in (0, 1); got {level}")
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    if confidence.shape != correct.shape:
        raise DataError(f"confidence has shape {confidence.shape} but correct has {correct.shape}")
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    totals = np.arange(1, len(order) + 1)
    ok = precision_lower_bound(hits, totals, level) >= target
    # A threshold must not split records of equal confidence: only cut where the next one is lower.
    sorted_conf = confidence[order]
    cuttable = np.append(sorted_conf[1:] < sorted_conf[:-1], True) if len(order) else np.zeros(0, dtype=bool)
    good = np.flatnonzero(ok & cuttable)
    if not len(good):
        return float("inf")
    return float(sorted_conf[good[-1]])


@dataclass(frozen=True)
class AutoLabels:
    """Labels a model gave on its own: positions, classes, confidences, and where they came from."""

    positions: np.ndarray
    labels: np.ndarray
    confidence: np.ndarray
    threshold: float
    model_version: str
    source: str = AUTO_SOURCE


class AutoLabeler:
    """Labels the pool records a model is sure about, at a threshold set for a precision target.

    ``calibrate(proba, y)`` takes probabilities on human labels the model did
    not train on (a held-out slice, or out-of-fold probabilities over the
    audited labelled set) and sets ``threshold_``; ``label(proba, positions,
    model_version)`` returns the records at or above it. Auto-labels carry
    ``source='auto'`` and the model version, and are kept apart from human labels.
    """

    def __init__(self, target: float = 0.98, level: float = 0.9) -> None:
        if not 0.0 < target < 1.0:
            raise ConfigError(f"precision target must be in (0, 1); got {target}")
        self.target = target
        self.level = level
        self.threshold_: float | None = None

    def calibrate(self, proba: np.ndarray, y: np.ndarray) -> float:
        """Set and return the threshold from held-out probabilities ``proba`` and their human labels ``y``."""
        proba = np.asarray(proba, dtype=np.float64)
        y = np.asarray(y, dtype=np.int64)
        if proba.ndim != 2 or len(proba) != len(y):
            raise DataError(f"proba must be n x n_classes with one row per label; got {proba.shape} for {len(y)} labels")
        self.threshold_ = choose_threshold(proba.max(axis=1), proba.argmax(axis=1) == y, self.target, self.level)
        return self.threshold_

    def label(self, proba: np.ndarray, positions: np.ndarray, model_version: str) -> AutoLabels:
        """Auto-labels for the rows of ``proba`` (pool ``positions``) whose confidence reaches the threshold."""
        if self.threshold_ is None:
            raise ConfigError("call calibrate() on held-out human labels before label()")
        proba = np.asarray(proba, dtype=np.float64)
        confidence = proba.max(axis=1)
        keep = confidence >= self.threshold_
        return AutoLabels(
            positions=np.asarray(positions, dtype=np.int64)[keep],
            labels=proba.argmax(axis=1)[keep].astype(np.int64),
            confidence=confidence[keep],
            threshold=self.threshold_,
            model_version=model_version,
        )

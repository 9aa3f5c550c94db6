"""Auto-labelling after a retrain: the pool records the new model is sure of, at a threshold set for a precision target.

The threshold is the simulation's (``loopwise.labeling.AutoLabeler``, an exact binomial lower bound at 90%
confidence): the lowest confidence at which the precision on human labels the model did not train on is at least
the project's ``auto_label_precision``. Those labels are the test split's gold labels, predicted by the model
itself, when the project has a test split; else people's labels, each predicted by a clone trained on the other
folds (out-of-fold). Few held-out labels give a high threshold or none at all (nothing is auto-labelled).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_FOLDS = 5


@dataclass
class AutoLabelled:
    """One retrain's auto-labels and how their threshold was set; plain data, so it crosses from the child process."""

    labels: list[tuple[int, str, float]]  # (record id, class, the model's probability of it)
    threshold: float  # inf: the held-out labels never showed the target precision, nothing was labelled
    calibration: str  # "test" (the test split's gold labels) or "out_of_fold" (people's labels)
    n_calibration: int  # held-out labels the threshold was set on
    calibration_precision: float | None  # their precision at or above the threshold (None: none reach it)
    n_candidates: int  # pool records that could take one (open, nobody's label)
    seconds: float

    def summary(self) -> dict[str, Any]:
        """The figures (without the labels) for the loop's stored arrays and the API."""
        return {
            "n_auto_labelled": len(self.labels), "threshold": self.threshold, "calibration": self.calibration,
            "n_calibration": self.n_calibration, "calibration_precision": self.calibration_precision,
            "n_candidates": self.n_candidates,
        }


def auto_label(
    loop: Any, record_ids: np.ndarray, candidates: np.ndarray, names: Sequence[str], target: float, seed: int
) -> AutoLabelled | None:
    """Auto-labels for the pool ``candidates`` (positions) from the loop's current model, at precision ``target``."""
    from loopwise.labeling import AutoLabeler, out_of_fold_proba

    if loop.model is None:
        return None
    started = time.perf_counter()
    if loop.X_test is not None and loop.y_test is not None and len(loop.y_test):
        calibration, y = "test", np.asarray(loop.y_test, dtype=np.int64)
        proba = np.asarray(loop.model.predict_proba(loop.X_test), dtype=np.float64)
    else:
        calibration = "out_of_fold"
        positions = loop.pool.labelled_positions
        y = np.asarray(loop.pool.labels[positions], dtype=np.int64)
        found = out_of_fold_proba(loop.learner, loop.pool.rows(positions), y, _FOLDS, seed=seed) if len(np.unique(y)) > 1 else None
        proba = np.zeros((0, len(names))) if found is None else found
        y = y if found is not None else y[:0]
    labeler = AutoLabeler(target=target)
    threshold = labeler.calibrate(proba, y) if len(y) else float("inf")
    reached = proba.max(axis=1) >= threshold if len(y) else np.zeros(0, dtype=bool)
    precision = float((proba[reached].argmax(axis=1) == y[reached]).mean()) if reached.any() else None
    labels: list[tuple[int, str, float]] = []
    if np.isfinite(threshold) and len(candidates):
        auto = labeler.label(loop.model.predict_proba(loop.pool.rows(candidates)), candidates, f"loop-{len(loop.records) - 1}")
        labels = [
            (int(record_ids[p]), names[int(c)], float(v))
            for p, c, v in zip(auto.positions, auto.labels, auto.confidence, strict=True)
        ]
    return AutoLabelled(
        labels=labels, threshold=float(threshold), calibration=calibration, n_calibration=int(len(y)),
        calibration_precision=precision, n_candidates=int(len(candidates)), seconds=time.perf_counter() - started,
    )


__all__ = ["AutoLabelled", "auto_label"]

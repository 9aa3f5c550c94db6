"""Per-loop metrics: accuracy, macro-F1, per-class F1, confusion matrix and log loss."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss


def evaluate(y_true: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """Score probabilities against true class indices over the full label set."""
    n_classes = proba.shape[1]
    labels = np.arange(n_classes)
    y_pred = proba.argmax(axis=1)
    per_class = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    # Rows are renormalised after clipping so a zero probability does not make log loss infinite.
    clipped = np.clip(proba, 1e-15, 1.0)
    clipped = clipped / clipped.sum(axis=1, keepdims=True)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(per_class.mean()),
        "per_class_f1": [float(v) for v in per_class],
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "log_loss": float(log_loss(y_true, clipped, labels=labels)),
    }

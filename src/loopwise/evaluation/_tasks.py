"""Per-loop metrics of the tasks beyond one class a record, and the evaluator each task uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    hamming_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)

from loopwise.core.tasks import CLASSIFICATION, MULTILABEL, REGRESSION, check_task
from loopwise.errors import ConfigError
from loopwise.evaluation._metrics import evaluate

Evaluator = Callable[[np.ndarray, np.ndarray], dict[str, Any]]


def evaluate_multilabel(y_true: np.ndarray, proba: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    """Score label marginals (``n x L``) against a 0/1 label matrix: a label is predicted when its marginal is >= 0.5.

    Micro-F1 pools every (record, label) decision, macro-F1 averages the labels'
    F1 (a label never true nor predicted counts 0), subset accuracy is the share
    of records whose whole label set is right, and Hamming loss the share of
    wrong (record, label) decisions (scikit-learn's definitions).
    """
    Y = np.asarray(y_true, dtype=np.int64)
    Y_pred = (np.asarray(proba) >= threshold).astype(np.int64)
    per_label = f1_score(Y, Y_pred, average=None, zero_division=0)
    return {
        "micro_f1": float(f1_score(Y, Y_pred, average="micro", zero_division=0)),
        "macro_f1": float(np.mean(per_label)),
        "subset_accuracy": float(accuracy_score(Y, Y_pred)),
        "hamming_loss": float(hamming_loss(Y, Y_pred)),
        "per_label_f1": [float(v) for v in per_label],
        "mean_labels_predicted": float(Y_pred.sum(axis=1).mean()),
    }


def evaluate_regression(y_true: np.ndarray, output: np.ndarray) -> dict[str, Any]:
    """Score the predictive mean (column 0 of the ``n x 2`` mean/std output) against true targets.

    ``neg_rmse`` is ``-RMSE``, so that, like accuracy, higher is better for
    learning curves and AULC; ``mean_std`` is the model's mean predictive
    standard deviation, to set beside the RMSE it claims.
    """
    y = np.asarray(y_true, dtype=np.float64)
    out = np.asarray(output, dtype=np.float64)
    if out.ndim != 2 or out.shape[1] != 2 or out.shape[0] != y.shape[0]:
        raise ConfigError(f"a regression output must be n x 2 (mean, std) for {y.shape[0]} rows; got shape {out.shape}")
    mean = out[:, 0]
    rmse = float(np.sqrt(mean_squared_error(y, mean)))
    return {
        "rmse": rmse,
        "neg_rmse": -rmse,
        "mae": float(mean_absolute_error(y, mean)),
        "r2": float(r2_score(y, mean)),
        "mean_std": float(out[:, 1].mean()),
    }


EVALUATORS: dict[str, Evaluator] = {
    CLASSIFICATION: evaluate,
    MULTILABEL: evaluate_multilabel,
    REGRESSION: evaluate_regression,
}


def evaluator_for(task: str) -> Evaluator:
    """The test-set metrics of ``task``: classification's accuracy family, multilabel's F1s, regression's errors."""
    check_task(task)
    if task not in EVALUATORS:
        raise ConfigError(f"no evaluator for {task} pools yet; known: {', '.join(sorted(EVALUATORS))}")
    return EVALUATORS[task]

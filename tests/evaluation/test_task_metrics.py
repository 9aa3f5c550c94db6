"""Metrics chosen by task, on cases small enough to count by hand."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.errors import ConfigError
from loopwise.evaluation import evaluate, evaluate_multilabel, evaluate_regression, evaluator_for


def test_multilabel_metrics_count_decisions_as_defined() -> None:
    Y = np.array([[1, 0, 1], [0, 1, 0]])
    proba = np.array([[0.9, 0.6, 0.2], [0.1, 0.7, 0.4]])  # predicted sets {0, 1} and {1}
    m = evaluate_multilabel(Y, proba)
    # 2 true positives, 1 false positive, 1 false negative: micro-F1 = 2*2 / (2*2 + 1 + 1)
    assert m["micro_f1"] == pytest.approx(4 / 6)
    assert m["per_label_f1"] == pytest.approx([1.0, 2 / 3, 0.0]) and m["macro_f1"] == pytest.approx(5 / 9)
    assert m["subset_accuracy"] == 0.5 and m["hamming_loss"] == pytest.approx(2 / 6)
    assert m["mean_labels_predicted"] == 1.5


def test_regression_metrics_read_the_mean_column() -> None:
    y = np.array([1.0, 2.0, 4.0])
    out = np.array([[1.0, 0.5], [3.0, 0.5], [4.0, 2.0]])
    m = evaluate_regression(y, out)
    assert m["rmse"] == pytest.approx(np.sqrt(1 / 3)) and m["neg_rmse"] == -m["rmse"]
    assert m["mae"] == pytest.approx(1 / 3) and m["mean_std"] == pytest.approx(1.0)
    assert m["r2"] == pytest.approx(1 - 1 / (((y - y.mean()) ** 2).sum()))
    with pytest.raises(ConfigError, match=r"n x 2 \(mean, std\) for 3 rows; got shape \(3,\)"):
        evaluate_regression(y, out[:, 0])


def test_each_task_gets_its_evaluator() -> None:
    assert evaluator_for("classification") is evaluate
    assert evaluator_for("multilabel") is evaluate_multilabel and evaluator_for("regression") is evaluate_regression
    with pytest.raises(ConfigError, match="task must be one of"):
        evaluator_for("ranking")

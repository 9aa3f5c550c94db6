from __future__ import annotations

import numpy as np

from loopwise.evaluation import evaluate


def test_metrics_over_full_label_set() -> None:
    y = np.array([0, 0, 1, 2])
    proba = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.1, 0.9, 0.0], [0.3, 0.3, 0.4]])
    m = evaluate(y, proba)
    assert m["accuracy"] == 0.75
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert np.allclose(m["per_class_f1"], [2 / 3, 2 / 3, 1.0])
    assert np.isclose(m["macro_f1"], np.mean([2 / 3, 2 / 3, 1.0]))
    assert np.isfinite(m["log_loss"]) and m["log_loss"] > 0

"""Auto-labelling at a precision target: the threshold holds on a held-out slice, and refuses with too little evidence."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.errors import ConfigError
from loopwise.labeling import AutoLabeler, choose_threshold
from loopwise.learners import as_learner


def test_auto_labels_hold_the_precision_target_on_held_out_digits(digits_split: tuple) -> None:
    X, X_test, y, y_test = digits_split
    model = as_learner(LogisticRegression(max_iter=300), n_classes=10)
    model.fit(X[:150], y[:150])
    labeler = AutoLabeler(target=0.98)
    threshold = labeler.calibrate(model.predict_proba(X[150:]), y[150:])  # human labels the model never saw
    assert 0 < threshold < 1
    auto = labeler.label(model.predict_proba(X_test), np.arange(len(y_test)), model_version="loop-3")
    assert len(auto.labels) >= 0.3 * len(y_test)
    assert (auto.labels == y_test[auto.positions]).mean() >= 0.97
    # Below the threshold the model is worse: the threshold is doing the work.
    rest = np.setdiff1d(np.arange(len(y_test)), auto.positions)
    assert (model.predict_proba(X_test[rest]).argmax(axis=1) == y_test[rest]).mean() < 0.97
    assert auto.source == "auto" and auto.model_version == "loop-3"


def test_too_little_evidence_labels_nothing() -> None:
    # Ten right answers cannot show 98% precision at 90% confidence (the exact bound is 0.79).
    assert choose_threshold(np.linspace(0.9, 1.0, 10), np.ones(10, dtype=bool), 0.98) == float("inf")
    labeler = AutoLabeler(0.98)
    labeler.calibrate(np.tile([0.99, 0.01], (10, 1)), np.zeros(10, dtype=np.int64))
    assert len(labeler.label(np.tile([0.99, 0.01], (5, 1)), np.arange(5), "v").labels) == 0


def test_threshold_stops_above_the_first_errors() -> None:
    confidence = np.linspace(1.0, 0.5, 400)
    correct = np.ones(400, dtype=bool)
    correct[300:] = False  # everything below confidence 0.625 is wrong
    threshold = choose_threshold(confidence, correct, 0.98)
    kept = confidence >= threshold
    # It takes in all 300 right ones and only as many wrong ones as the 98% target allows.
    assert kept[:300].all() and 0 < kept.sum() - 300 <= 0.02 * kept.sum()


def test_bad_targets_and_order_of_calls_are_refused() -> None:
    with pytest.raises(ConfigError, match="precision target"):
        AutoLabeler(target=1.0)
    with pytest.raises(ConfigError, match="calibrate"):
        AutoLabeler().label(np.ones((1, 2)) / 2, np.arange(1), "v")

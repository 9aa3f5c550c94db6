"""Weak labels as extra training rows at a lower weight: the weight reaches the estimator, and they are never human labels."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from loopwise.core import Pool
from loopwise.errors import ConfigError
from loopwise.evaluation import evaluate
from loopwise.labeling import SimulatedOracle
from loopwise.learners import CallbackLearner, as_learner
from loopwise.loop import FixedSchedule, Loop, run_simulation
from loopwise.strategies import make_strategy


def _loop(digits_split, model=None) -> tuple[Loop, SimulatedOracle, np.ndarray]:
    Xp, Xt, yp, yt = digits_split
    Xp, yp = Xp[:400], yp[:400]
    pool = Pool.new(np.array([f"r{i}" for i in range(len(Xp))]), Xp)
    loop = Loop(
        pool, as_learner(model or LogisticRegression(max_iter=300), 10), make_strategy("margin"),
        FixedSchedule(20, 20, 60), seed=0, X_test=Xt, y_test=yt, evaluate=evaluate,
    )
    return loop, SimulatedOracle(yp), yp


def _weak(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weak labels for positions 200..399: right on four of five, a fixed wrong class on the fifth (a rule's errors)."""
    positions = np.arange(200, 400)
    labels = y[positions].copy()
    labels[::5] = (labels[::5] + 3) % 10
    return positions, labels


def _coefs(weight: float | None, digits_split) -> tuple[np.ndarray, list]:
    loop, oracle, y = _loop(digits_split)
    if weight is not None:
        loop.set_weak_labels(*_weak(y), weight)
    records = run_simulation(loop, oracle)
    return loop.model.model_.coef_.copy(), records


def test_weight_zero_is_no_weak_labels_and_a_nonzero_weight_changes_the_model(digits_split) -> None:
    none, plain = _coefs(None, digits_split)
    zero, _ = _coefs(0.0, digits_split)
    low, low_records = _coefs(0.3, digits_split)
    full, _ = _coefs(1.0, digits_split)
    # Same selections (the model at weight 0 is the unweighted one), so the coefficients compare loop for loop.
    np.testing.assert_allclose(zero, none, atol=1e-4)
    assert not np.allclose(low, none, atol=1e-2)
    assert not np.allclose(low, full, atol=1e-2)  # the weight itself, not only the extra rows, reaches fit()
    # Weak labels are never human labels: the budget and n_labelled count people's labels alone.
    assert [r.n_labelled for r in low_records] == [r.n_labelled for r in plain] == [20, 40, 60]
    assert low_records[-1].extra["weak"]["weight"] == 0.3
    assert low_records[-1].extra["weak"]["n_weak"] > 0


def test_training_rows_are_the_human_labels_then_the_weak_ones_of_records_no_person_labelled(digits_split) -> None:
    seen = []

    def train(X, y, sample_weight=None):
        seen.append((len(y), sample_weight))
        return LogisticRegression(max_iter=200).fit(X, y, sample_weight=sample_weight)

    loop, oracle, y = _loop(digits_split, model=CallbackLearner(train, lambda m, X: m.predict_proba(X)))
    positions, labels = _weak(y)
    loop.set_weak_labels(positions, labels, 0.5)
    records = run_simulation(loop, oracle)
    n_rows, weights = seen[-1]
    n_weak_left = int((~loop.pool.labelled_mask[positions]).sum())
    assert n_weak_left < len(positions)  # people labelled some weakly labelled records: theirs count once, as human
    assert n_rows == loop.pool.n_labelled + n_weak_left == records[-1].n_labelled + records[-1].extra["weak"]["n_weak"]
    assert weights.tolist() == [1.0] * loop.pool.n_labelled + [0.5] * n_weak_left


def test_learners_that_take_no_sample_weight_are_refused_by_name(digits_split) -> None:
    loop, _, y = _loop(digits_split, model=KNeighborsClassifier())
    with pytest.raises(ConfigError, match="KNeighborsClassifier.*sample_weight"):
        loop.set_weak_labels(*_weak(y), 0.3)
    with pytest.raises(ConfigError, match="does not take sample_weight"):
        as_learner(KNeighborsClassifier(), 10).fit(np.zeros((4, 2)), np.array([0, 1, 0, 1]), sample_weight=np.ones(4))
    loop, _, y = _loop(digits_split)
    with pytest.raises(ConfigError, match=r"weak_weight must be a number in \[0, 1\]"):
        loop.set_weak_labels(*_weak(y), 1.5)


def test_weak_labels_need_scratch_retraining_but_none_turn_weak_training_off_in_any_mode(digits_split) -> None:
    loop, _, y = _loop(digits_split)
    loop.retrain = "warm_start"
    with pytest.raises(ConfigError, match="weak labels need retrain mode 'scratch'; got 'warm_start'"):
        loop.set_weak_labels(*_weak(y), 0.3)
    # What the server does for a project without weak_weight, on every retrain: must not refuse a warm-start project.
    loop.set_weak_labels(np.array([], dtype=np.int64), np.array([], dtype=np.int64), 0.0)
    assert loop.weak is None


def test_callback_learners_get_the_weights_when_train_fn_takes_them() -> None:
    seen = {}

    def train(X, y, sample_weight=None):
        seen["w"] = sample_weight
        return LogisticRegression(max_iter=200).fit(X, y, sample_weight=sample_weight)

    learner = as_learner(CallbackLearner(train, lambda m, X: m.predict_proba(X)), 2)
    assert learner.takes_sample_weight
    learner.fit(np.array([[0.0], [1.0], [2.0]]), np.array([0, 1, 1]), sample_weight=np.array([1.0, 1.0, 0.3]))
    assert seen["w"].tolist() == [1.0, 1.0, 0.3]
    assert not as_learner(CallbackLearner(lambda X, y: None, lambda m, X: X), 2).takes_sample_weight

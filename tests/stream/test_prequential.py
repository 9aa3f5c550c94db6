"""Prequential accuracy on tiny hand-checked cases: predictions are made before each label is learnt."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.stream import IncrementalLearner, Prequential, RandomSampling, StreamState, chunk_rng, run_chunk


def test_cumulative_and_window_accuracy_by_hand() -> None:
    p = Prequential(window=2)
    p.update(np.array([True, False]))
    p.update(np.array([True, True]))
    assert p.accuracy == pytest.approx(3 / 4)
    assert p.window_accuracy == pytest.approx(1.0)
    assert (p.n_seen, p.n_correct) == (4, 3)


def test_test_then_train_predicts_before_learning() -> None:
    # Two identical records of class 1, both labelled (budget 1.0). The first is predicted by a model
    # that knows nothing (uniform, argmax class 0: wrong); the second after learning the first (right).
    state = StreamState(IncrementalLearner("sgd", 2), RandomSampling(1.0), Prequential())
    out = run_chunk(state, np.array([[1.0, 2.0], [1.0, 2.0]]), np.array([1, 1]), chunk_rng(0, 0))
    assert out.predictions.tolist() == [0, 1]
    assert out.asked.tolist() == [0, 1]
    assert out.metrics["accuracy"] == pytest.approx(0.5)
    assert out.metrics["labels_spent"] == 2

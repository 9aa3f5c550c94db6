"""Noisy simulated annotators: the noise rate, its shape, seeding, abstention and bad settings."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.core.records import Query
from loopwise.errors import ConfigError
from loopwise.labeling import AnnotatorPanel, NoisyOracle, class_conditional_confusion, uniform_confusion

N = 20_000


@pytest.fixture(scope="module")
def truth() -> np.ndarray:
    return np.random.default_rng(7).integers(0, 10, N)


def _query(loop_index: int, n: int = N) -> Query:
    positions = np.arange(n)
    return Query(loop_index=loop_index, positions=positions, ids=positions.astype(str), scores=np.zeros(n))


def test_uniform_noise_has_its_rate_and_spreads_over_the_other_classes(truth: np.ndarray) -> None:
    labels = NoisyOracle(truth, 10, 0.1, seed=3).collect(_query(0))
    wrong = labels != truth
    assert abs(wrong.mean() - 0.1) < 0.01
    # Each wrong answer is one of the 9 other classes with equal chance: no class takes more than twice its share.
    offsets = (labels[wrong] - truth[wrong]) % 10
    shares = np.bincount(offsets, minlength=10)[1:] / wrong.sum()
    assert shares.max() < 2 / 9


def test_class_conditional_noise_concentrates_on_few_classes(truth: np.ndarray) -> None:
    confusion = class_conditional_confusion(10, 0.7, seed=1)
    assert np.allclose(confusion.sum(axis=1), 1.0) and np.allclose(np.diag(confusion), 0.7)
    labels = NoisyOracle(truth, 10, 0.3, seed=1, kind="class_conditional").collect(_query(0))
    wrong = labels != truth
    assert abs(wrong.mean() - 0.3) < 0.015
    # The most common wrong answer of class 0 takes far more than the 1/9 a uniform confusion gives it.
    wrong_of_0 = labels[wrong & (truth == 0)]
    assert np.bincount(wrong_of_0, minlength=10).max() / len(wrong_of_0) > 0.3


def test_answers_are_keyed_by_seed_loop_and_attempt(truth: np.ndarray) -> None:
    a = NoisyOracle(truth, 10, 0.2, seed=5)
    b = NoisyOracle(truth, 10, 0.2, seed=5)  # a resumed run builds a fresh oracle
    assert np.array_equal(a.collect(_query(4)), b.collect(_query(4)))
    assert not np.array_equal(a.collect(_query(4)), a.collect(_query(5)))
    assert not np.array_equal(a.collect(_query(4)), a.collect(_query(4), attempt=1))
    assert not np.array_equal(a.collect(_query(4)), NoisyOracle(truth, 10, 0.2, seed=6).collect(_query(4)))


def test_panel_annotators_have_their_accuracies_and_abstain(truth: np.ndarray) -> None:
    panel = AnnotatorPanel(truth, 10, (0.9, 0.75, 0.6), seed=2, abstain=(0.0, 0.0, 0.2))
    answers = panel.collect(_query(0))
    assert answers.shape == (N, 3)
    given = answers >= 0
    assert given[:, :2].all() and abs((~given[:, 2]).mean() - 0.2) < 0.015
    measured = [(answers[given[:, a], a] == truth[given[:, a]]).mean() for a in range(3)]
    assert np.allclose(measured, [0.9, 0.75, 0.6], atol=0.015)
    assert panel.n_asked == int(given.sum())


def test_perfect_annotator_returns_the_truth(truth: np.ndarray) -> None:
    assert np.array_equal(NoisyOracle(truth, 10, 0.0).collect(_query(0)), truth)
    assert np.allclose(uniform_confusion(10, 1.0), np.eye(10))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"noise": 1.5}, "accuracy must be in"),
        ({"kind": "gaussian"}, "noise kind"),
        ({"confusion": np.eye(3)}, "must be 10 x 10"),
        ({"confusion": np.full((10, 10), 0.5)}, "sum to 1"),
    ],
)
def test_bad_noise_settings_say_what_is_wrong(truth: np.ndarray, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        NoisyOracle(truth, 10, **kwargs)


def test_bad_abstention_rates_are_refused(truth: np.ndarray) -> None:
    with pytest.raises(ConfigError, match="one rate in"):
        AnnotatorPanel(truth, 10, (0.9, 0.8), abstain=(0.1,))

"""Multi-label strategies on marginals small enough to score by hand."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.strategies import StrategyInputs, make_strategy
from loopwise.strategies._multilabel import (
    cardinality_inconsistency,
    mean_uncertainty,
    min_margin,
    mmc_scores,
    vector_inconsistency,
)

P = np.array([[0.5, 0.9, 0.9], [0.6, 0.6, 0.6], [0.95, 0.05, 0.99]])


def test_binary_relevance_scores_average_or_take_the_worst_label() -> None:
    # margins |2p - 1|: [0, .8, .8], [.2, .2, .2], [.9, .9, .98]
    assert mean_uncertainty(P) == pytest.approx([1 - 1.6 / 3, 0.8, 1 - 2.78 / 3])
    assert min_margin(P) == pytest.approx([1.0, 0.8, 0.1])
    inputs = StrategyInputs(candidates=np.arange(3), proba=P)
    assert make_strategy("ml_min_margin").select(inputs, 1, np.random.default_rng(0)).positions.tolist() == [0]
    assert make_strategy("ml_mean_uncertainty").select(inputs, 1, np.random.default_rng(0)).positions.tolist() == [1]


def test_cardinality_inconsistency_is_the_distance_to_the_labelled_mean_count() -> None:
    labelled = np.array([[1, 0, 0], [1, 1, 0]])  # 1.5 labels a record
    assert cardinality_inconsistency(P, labelled).tolist() == [0.5, 1.5, 0.5]


def test_mmc_takes_the_predicted_number_of_labels_as_the_labels() -> None:
    labelled = np.array([[1, 0, 0], [1, 0, 0]])  # every labelled record has one label: m = 1 for all
    # row 0: top label is index 1 (0.9, first of the tie in stable order); y = [-1, 1, -1]; f = [0, .8, .8]
    # loss = ((1 - 0) + (1 - .8) + (1 + .8)) / 2 = 1.5
    assert mmc_scores(P, np.zeros((2, 3)), labelled)[0] == pytest.approx(1.5)
    counts = np.array([[1, 0, 0], [1, 1, 1], [1, 0, 0], [1, 1, 1]])
    lab_proba = np.array([[0.9, 0.1, 0.1], [0.9, 0.9, 0.9], [0.8, 0.2, 0.1], [0.8, 0.9, 0.7]])
    scores = mmc_scores(np.array([[0.9, 0.85, 0.8], [0.9, 0.1, 0.1]]), lab_proba, counts)
    # The count model reads "all high" as three labels (no loss from them) and "one high" as one.
    assert scores[0] == pytest.approx(((1 - 0.8) + (1 - 0.7) + (1 - 0.6)) / 2)
    assert scores[1] == pytest.approx(((1 - 0.8) + (1 - 0.8) + (1 - 0.8)) / 2)


def test_vector_inconsistency_is_zero_for_the_same_vector_and_one_for_its_complement() -> None:
    labelled = np.array([[1, 0, 1, 0]])
    d = vector_inconsistency(np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 0, 0]]), labelled)
    assert d[0] == pytest.approx(0.0, abs=1e-6) and d[1] == 1.0 and 0.0 < d[2] < 1.0


def test_mmc_typical_skips_the_outlier_with_the_highest_mmc_loss() -> None:
    # Twelve texts about cats and dogs and one unlike any other; the outlier has the most uncertain marginals,
    # so plain MMC picks it, and the typicality filter must not (a random pick hits it 1 time in 13).
    texts = [f"the {pet} sat on the mat and purred {i}" for pet in ("cat", "dog") for i in range(6)]
    texts.append("quantum chromodynamics lattice gauge renormalisation")
    proba = np.full((13, 3), 0.9)
    proba[:, 1:] = 0.1
    proba[12] = [0.5, 0.5, 0.5]
    proba[:6, 0] = np.linspace(0.6, 0.8, 6)  # some spread among the typical ones
    labelled = np.array([[1, 0, 0], [1, 0, 0]])
    inputs = StrategyInputs(
        candidates=np.arange(13), proba=proba, features=np.array(texts, dtype=object),
        labelled_labels=labelled, labelled_proba=np.array([[0.9, 0.1, 0.1], [0.8, 0.2, 0.1]]),
        labelled_features=np.array(["the cat sat", "the dog sat"], dtype=object),
    )
    rng = np.random.default_rng(0)
    assert make_strategy("mmc").select(inputs, 1, rng).positions.tolist() == [12]
    picks = make_strategy("mmc_typical", n_neighbors=3).select(inputs, 3, rng).positions.tolist()
    assert 12 not in picks
    # Among the typical candidates it still follows MMC: the least confident cats (p_0 = 0.6, 0.64, ...) first.
    assert picks == [0, 1, 2]

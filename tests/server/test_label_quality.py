"""The retrain's training labels from several labels per record: Dawid-Skene and CROWDLAB beat majority vote on
annotators of mixed quality and rank them; decided records keep their decision."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.server._label_quality import training_labels

NAMES = ["a", "b"]
ACCURACY = {"good": 0.9, "mid": 0.75, "poor": 0.6}


def _votes(n: int, seed: int) -> tuple[dict[int, list[tuple[str, str]]], np.ndarray]:
    """Three annotators of accuracies 0.9, 0.75, 0.6 label ``n`` records of 2 classes (no ties to break)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    votes: dict[int, list[tuple[str, str]]] = {}
    for r in range(n):
        for who, accuracy in ACCURACY.items():
            value = truth[r] if rng.random() < accuracy else 1 - truth[r]
            votes.setdefault(r, []).append((who, NAMES[int(value)]))
    return votes, truth


def _accuracy(labels: dict[int, int], truth: np.ndarray) -> float:
    return float(np.mean([labels[r] == truth[r] for r in labels]))


@pytest.mark.parametrize("method", ["dawid_skene", "crowdlab"])
def test_a_consensus_model_beats_majority_and_ranks_the_annotators(method: str) -> None:
    # 600 records: on seeds 0-4 both models beat majority and rank the three right (seed 0 here); on 300 Dawid-Skene
    # lost to majority on one seed of four, so the test does not use fewer.
    votes, truth = _votes(600, seed=0)
    right = np.random.default_rng(1).random(len(truth)) < 0.7

    def out_of_fold(records: list[int], _y: np.ndarray) -> np.ndarray:
        """A weak model's out-of-fold probabilities, as CROWDLAB takes them: 0.7 on the right class for 70% of records."""
        r = np.asarray(records)
        proba = np.full((len(r), 2), 0.3)
        proba[np.arange(len(r)), np.where(right[r], truth[r], 1 - truth[r])] = 0.7
        return proba

    majority = training_labels(votes, {}, NAMES, "majority")
    found = training_labels(votes, {}, NAMES, method, out_of_fold)
    assert found.method == method and majority.method == "majority"
    assert _accuracy(found.labels, truth) > _accuracy(majority.labels, truth)
    quality = {q.annotator: q.quality for q in found.quality}
    assert quality["good"] > quality["mid"] > quality["poor"]
    assert all(q.n_labels == 600 for q in found.quality)
    assert 0.0 < min(found.confidence.values()) < 1.0


def test_majority_breaks_a_tie_by_the_first_label_and_a_decision_wins() -> None:
    votes = {1: [("x", "b"), ("y", "a")], 2: [("x", "a"), ("y", "a")], 3: [("y", "b")]}
    found = training_labels(votes, {2: "b"}, NAMES, "majority")
    assert found.labels == {1: 1, 2: 1, 3: 1}
    assert found.confidence == {1: 0.5, 2: 1.0, 3: 1.0}
    ds = training_labels(votes, {2: "b"}, NAMES, "dawid_skene")
    assert ds.labels[2] == 1 and ds.confidence[2] == 1.0


def test_one_label_per_record_is_the_training_label_with_no_quality_to_estimate() -> None:
    votes = {1: [("x", "b")], 2: [("y", "a")]}
    found = training_labels(votes, {}, NAMES, "dawid_skene")
    assert found.labels == {1: 1, 2: 0} and found.method == "majority" and found.quality == []

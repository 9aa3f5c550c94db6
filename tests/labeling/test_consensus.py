"""Consensus and annotator quality: Dawid-Skene and CROWDLAB against majority vote, ActiveLab relabelling."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.errors import ConfigError, DataError
from loopwise.labeling import AnnotatorPanel, consensus, majority_vote, out_of_fold_proba, relabel_candidates
from loopwise.labeling._consensus import majority_vote_crowdkit
from loopwise.learners import as_learner


@pytest.fixture(scope="module")
def panel_answers(digits_split: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, _, y, _ = digits_split
    return X, y, AnnotatorPanel(y, 10, (0.9, 0.75, 0.6), seed=4).answer(np.arange(len(y)), 0)


def test_dawid_skene_beats_majority_and_ranks_the_annotators(panel_answers: tuple) -> None:
    _, y, answers = panel_answers
    mv = majority_vote(answers, 10)
    ds = consensus(answers, 10, "dawid_skene")
    # With 0.9 / 0.75 / 0.6, two weak annotators outvote the good one; Dawid-Skene learns to trust it.
    assert (ds.labels == y).mean() > (mv.labels == y).mean() + 0.01
    assert list(np.argsort(-ds.annotator_quality)) == [0, 1, 2]
    assert np.allclose(ds.annotator_quality, [0.9, 0.75, 0.6], atol=0.05)
    # The posterior confidence means something: confident records are more often right.
    confident = ds.confidence >= np.median(ds.confidence)
    assert (ds.labels[confident] == y[confident]).mean() > (ds.labels[~confident] == y[~confident]).mean()


def test_crowdlab_with_a_real_model_beats_majority_and_ranks_the_annotators(panel_answers: tuple) -> None:
    X, y, answers = panel_answers
    mv = majority_vote(answers, 10)
    proba = out_of_fold_proba(as_learner(LogisticRegression(max_iter=300), n_classes=10), X, mv.labels, seed=0)
    assert proba is not None
    cl = consensus(answers, 10, "crowdlab", pred_probs=proba)
    assert (cl.labels == y).mean() > (mv.labels == y).mean()
    assert list(np.argsort(-cl.annotator_quality)) == [0, 1, 2]


def test_seeded_majority_agrees_with_crowdkit_where_there_is_no_tie(panel_answers: tuple) -> None:
    _, _, answers = panel_answers
    ours = majority_vote(answers, 10)
    no_tie = ours.confidence > 0.5
    assert no_tie.mean() > 0.5
    assert np.array_equal(ours.labels[no_tie], majority_vote_crowdkit(answers, 10)[no_tie])


def test_activelab_asks_again_where_annotators_disagree(panel_answers: tuple) -> None:
    X, y, answers = panel_answers
    mv = majority_vote(answers, 10)
    proba = out_of_fold_proba(as_learner(LogisticRegression(max_iter=300), n_classes=10), X, mv.labels, seed=0)
    assert proba is not None
    chosen = relabel_candidates(answers, proba, 50)
    assert len(np.unique(chosen)) == 50
    # Records picked for another label have less agreement, and a wrong consensus more often, than the rest.
    assert mv.confidence[chosen].mean() < mv.confidence.mean() - 0.1
    assert (mv.labels[chosen] != y[chosen]).mean() > 2 * (mv.labels != y).mean()


def test_bad_label_matrices_name_the_record() -> None:
    with pytest.raises(DataError, match="record 1 has no label"):
        majority_vote(np.array([[0, 1], [-1, -1]]), 2)
    with pytest.raises(DataError, match="record 0, annotator 1"):
        majority_vote(np.array([[0, 5]]), 2)
    with pytest.raises(ConfigError, match="needs pred_probs"):
        consensus(np.array([[0, 1]]), 2, "crowdlab")
    with pytest.raises(ConfigError, match="must be one of"):
        consensus(np.array([[0, 1]]), 2, "glad")

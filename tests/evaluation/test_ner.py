"""Entity-level scores follow seqeval's conventions: whole entities, type and both ends."""

from __future__ import annotations

import pytest

from loopwise.errors import DataError
from loopwise.evaluation._ner import entity_scores


def test_an_entity_counts_only_with_both_ends_and_its_type() -> None:
    true = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
    pred = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
    # True entities: MISC tokens 3-5 and PER 0-1; predicted MISC 2-5 (wrong start) and PER 0-1: 1 of 2 either way.
    scores = entity_scores(true, pred)
    assert scores["entity_precision"] == 0.5 and scores["entity_recall"] == 0.5 and scores["entity_f1"] == 0.5
    assert scores["per_type_f1"] == {"MISC": 0.0, "PER": 1.0}
    assert scores["token_accuracy"] == 8 / 10  # tokens 2 and 3 differ


def test_wrong_type_and_a_stray_inside_tag() -> None:
    true = [["B-ORG", "I-ORG", "O", "B-LOC"]]
    pred = [["B-LOC", "I-LOC", "O", "I-LOC"]]  # the ORG typed as LOC; the stray I-LOC starts an entity (conlleval)
    scores = entity_scores(true, pred)
    assert scores["entity_precision"] == 0.5 and scores["entity_recall"] == 0.5
    assert scores["per_type_f1"] == {"LOC": 2 / 3, "ORG": 0.0}  # LOC: 1 of 2 predicted, 1 of 1 true


def test_mismatched_lengths_name_the_sentence() -> None:
    with pytest.raises(DataError, match="sentence 1: 2 true tags but 1 predicted"):
        entity_scores([["O"], ["O", "B-PER"]], [["O"], ["O"]])
    with pytest.raises(DataError, match="2 true tag sequences but 1 predicted"):
        entity_scores([["O"], ["O"]], [["O"]])

"""Annotator time per label, from the event log: gaps between one annotator's actions, breaks imputed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from loopwise.server._label_time import AnnotatorAction, label_gaps, time_on

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def _at(annotator: int, record: int, kind: str, seconds: float) -> AnnotatorAction:
    return AnnotatorAction(annotator, record, kind, T0 + timedelta(seconds=seconds))


def test_a_label_takes_the_gap_since_the_annotators_previous_action_of_any_kind() -> None:
    actions = [_at(1, 10, "label", 0), _at(1, 11, "skip", 30), _at(1, 12, "label", 42), _at(1, 13, "label", 50)]
    gaps = {a.record_id: g for a, g in label_gaps(actions)}
    assert gaps == {10: None, 12: 12.0, 13: 8.0}  # the first action has no start; a skip is an action


def test_annotators_are_timed_apart_whatever_the_order_of_the_log() -> None:
    actions = [_at(2, 20, "label", 5), _at(1, 10, "label", 0), _at(1, 11, "label", 20), _at(2, 21, "label", 6)]
    gaps = {a.record_id: g for a, g in label_gaps(list(reversed(actions)))}
    assert gaps == {10: None, 11: 20.0, 20: None, 21: 1.0}


def test_a_break_is_not_work_and_is_imputed_with_the_annotators_median() -> None:
    actions = [_at(1, 1, "label", 0), _at(1, 2, "label", 10), _at(1, 3, "label", 30), _at(1, 4, "label", 30 + 3600)]
    spent = time_on([2, 3, 4], actions)
    # 10 + 20 measured; the label after an hour's break counts as the median of 10 and 20.
    assert (spent.seconds, spent.n_measured, spent.n_imputed) == (pytest.approx(45.0), 2, 1)


def test_an_annotator_with_nothing_measured_takes_the_projects_median() -> None:
    actions = [_at(1, 1, "label", 0), _at(1, 2, "label", 4), _at(1, 3, "label", 10), _at(2, 9, "label", 0)]
    spent = time_on([9], actions)
    assert (spent.seconds, spent.n_measured, spent.n_imputed) == (pytest.approx(5.0), 0, 1)


def test_only_the_asked_records_count_and_every_label_on_them_does() -> None:
    actions = [_at(1, 1, "label", 0), _at(1, 2, "label", 7), _at(2, 2, "label", 1), _at(2, 2, "label", 4), _at(1, 3, "label", 9)]
    spent = time_on([2], actions)
    # annotator 1's label on 2 (7 s), annotator 2's first (imputed with their median 3 s) and second (3 s).
    assert (spent.seconds, spent.n_measured, spent.n_imputed) == (pytest.approx(13.0), 2, 1)
    assert time_on([], actions).seconds == 0.0

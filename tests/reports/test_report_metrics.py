"""AULC and labels-to-target on curves whose answers are worked out by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loopwise.errors import DataError, LoopwiseError
from loopwise.reports import aulc, labels_to_reach


def test_aulc_of_a_constant_curve_is_that_constant() -> None:
    assert aulc([10, 20, 35, 100], [0.7, 0.7, 0.7, 0.7]) == pytest.approx(0.7)


def test_aulc_of_a_linear_curve_from_0_to_1_is_one_half() -> None:
    assert aulc([0, 100], [0.0, 1.0]) == pytest.approx(0.5)
    # Same line sampled unevenly: the trapezoid is exact on a line, whatever the spacing.
    assert aulc([0, 5, 50, 60, 100], [0.0, 0.05, 0.5, 0.6, 1.0]) == pytest.approx(0.5)
    # The labels range, not its start at zero, normalises the area.
    assert aulc([100, 200], [0.0, 1.0]) == pytest.approx(0.5)


def test_aulc_weights_loops_by_the_labels_they_bought() -> None:
    # (0.2 + 0.4) / 2 * 10 + (0.4 + 0.6) / 2 * 30 = 3 + 15 = 18 over a range of 40.
    assert aulc([10, 20, 50], [0.2, 0.4, 0.6]) == pytest.approx(18 / 40)
    # The plain mean of the scores, 0.4, would ignore the long last step.
    assert aulc([10, 20, 50], [0.2, 0.4, 0.6]) != pytest.approx(0.4)


def test_aulc_of_a_single_point_is_its_score() -> None:
    assert aulc([50], [0.81]) == pytest.approx(0.81)


def test_aulc_when_labels_never_grow_is_the_mean_score() -> None:
    assert aulc([50, 50], [0.6, 0.8]) == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("n_labelled", "scores", "message"),
    [
        ([], [], "empty"),
        ([10, 20], [0.5], "equal length"),
        ([10, 30, 20], [0.1, 0.2, 0.3], "non-decreasing"),
    ],
)
def test_aulc_refuses_bad_curves(n_labelled: list[int], scores: list[float], message: str) -> None:
    with pytest.raises(DataError, match=message) as info:
        aulc(n_labelled, scores)
    assert isinstance(info.value, ValueError) and isinstance(info.value, LoopwiseError)


@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), st.floats(0, 1, allow_nan=False)), min_size=1, max_size=30
    )
)
def test_aulc_lies_between_the_lowest_and_highest_score(points: list[tuple[int, float]]) -> None:
    points.sort(key=lambda p: p[0])
    n, scores = [p[0] for p in points], [p[1] for p in points]
    value = aulc(n, scores)
    assert min(scores) - 1e-12 <= value <= max(scores) + 1e-12


def test_labels_to_reach_returns_the_first_loop_at_or_above_target() -> None:
    n, acc = [10, 20, 40, 80], [0.5, 0.7, 0.8, 0.9]
    assert labels_to_reach(n, acc, 0.75) == 40
    assert labels_to_reach(n, acc, 0.8) == 40  # reaching exactly counts
    assert labels_to_reach(n, acc, 0.1) == 10  # reached at the first loop
    assert labels_to_reach(n, acc, 0.9) == 80  # reached at the last loop


def test_labels_to_reach_is_none_when_never_reached() -> None:
    assert labels_to_reach([10, 20], [0.5, 0.6], 0.61) is None
    assert labels_to_reach([], [], 0.5) is None


def test_labels_to_reach_keeps_the_first_crossing_of_a_curve_that_dips() -> None:
    assert labels_to_reach([10, 20, 40, 80], [0.5, 0.82, 0.7, 0.85], 0.8) == 20


def test_labels_to_reach_ignores_nan_scores_and_nan_targets() -> None:
    assert labels_to_reach([10, 20, 30], [math.nan, 0.9, 0.95], 0.8) == 20
    assert labels_to_reach([10, 20], [0.5, 0.9], math.nan) is None


def test_labels_to_reach_refuses_mismatched_lengths() -> None:
    with pytest.raises(DataError, match="equal length"):
        labels_to_reach([10, 20, 30], [0.5, 0.6], 0.5)

"""Label-free cost-aware stopping: the next loop's gain bounded by the stop-set predictions recent loops changed."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.core import LoopRecord
from loopwise.errors import ConfigError
from loopwise.stopping import ChangeBoundStop, change_bound_gain, parse_stopping, prediction_changes

N_STOP = 1000


def _records(changes: list[float], batch: int = 20, train_cpu: float = 0.0) -> list[LoopRecord]:
    """Loops whose stop-set predictions change by exactly ``changes[k - 1]`` between loop k - 1 and k."""
    predictions = np.zeros(N_STOP, dtype=np.int64)
    records = []
    for k in range(len(changes) + 1):
        if k:
            predictions = predictions.copy()
            predictions[: round(changes[k - 1] * N_STOP)] += 1
        records.append(LoopRecord(
            loop_index=k, strategy="margin", positions=np.arange(0), ids=np.arange(0).astype(str),
            labels=np.arange(0), n_labelled=20 + batch * k, metrics={}, timings={"train_cpu": train_cpu},
            stop_predictions=predictions,
        ))
    return records


def _first_stop(rule: ChangeBoundStop, records: list[LoopRecord]) -> int | None:
    """The last loop run before the rule fired (None: it never fired)."""
    return next((k - 1 for k in range(1, len(records) + 1) if rule.should_stop(records[:k])), None)


def test_prediction_changes_counts_the_share_of_the_stop_set_that_moved() -> None:
    assert prediction_changes(_records([0.25, 0.0, 0.1])) == pytest.approx([0.25, 0.0, 0.1])


def test_the_bound_is_the_useful_share_of_the_largest_recent_change_and_needs_a_full_window() -> None:
    assert change_bound_gain([0.30, 0.05, 0.02], useful_share=0.1, window=2) == pytest.approx(0.005)
    assert change_bound_gain([0.30, 0.05, 0.02], useful_share=0.1, window=3) == pytest.approx(0.03)
    assert change_bound_gain([0.30], useful_share=0.1, window=2) is None


def test_stops_at_the_first_loop_whose_bounded_gain_is_worth_less_than_its_labels() -> None:
    # Changes shrink by a fifth a loop. At 20 labels a loop, value 50 a point and a useful share of 0.1,
    # the bound 0.1 * max(last two) is worth less than 20 once the larger of the last two changes is under 4%.
    changes = [0.4 * 0.8 ** k for k in range(20)]
    rule = ChangeBoundStop(value_per_point=50.0, useful_share=0.1, window=2, min_loops=3)
    expected = next(k for k in range(2, 21) if max(changes[k - 2:k]) < 0.04)
    assert _first_stop(rule, _records(changes)) == expected
    assert 3 <= expected < 19  # neither at once nor never
    estimate = rule.next_loop(_records(changes)[: expected + 1])
    assert estimate is not None and estimate["cost"] == pytest.approx(20.0) and estimate["value"] < 20.0


def test_a_run_whose_predictions_keep_moving_is_never_stopped() -> None:
    rule = ChangeBoundStop(value_per_point=50.0, useful_share=0.1, window=2, min_loops=3)
    assert _first_stop(rule, _records([0.2] * 15)) is None


def test_one_quiet_loop_after_busy_ones_does_not_stop_the_run() -> None:
    rule = ChangeBoundStop(value_per_point=50.0, useful_share=0.1, window=2, min_loops=3)
    busy_then_quiet = [0.3, 0.2, 0.15, 0.001]
    assert not rule.should_stop(_records(busy_then_quiet))
    assert ChangeBoundStop(value_per_point=50.0, useful_share=0.1, window=1, min_loops=3).should_stop(_records(busy_then_quiet))


def test_no_stop_before_min_loops_however_still_the_predictions() -> None:
    rule = ChangeBoundStop(value_per_point=50.0, useful_share=0.1, window=1, min_loops=5)
    still = _records([0.0] * 8)
    assert _first_stop(rule, still) == 4  # after five loops (0..4), not before


def test_compute_is_priced_into_the_next_loop() -> None:
    # Bound 0.1 * 3% = 0.3 points, worth 15 at 50 a point: under 20 labels, over 20 labels + 1 CPU hour at 10.
    records = _records([0.03] * 4, train_cpu=3600.0)
    assert ChangeBoundStop(50.0, useful_share=0.1, window=2, min_loops=3).should_stop(records)
    free_labels = ChangeBoundStop(50.0, label_cost=0.0, compute_rate=10.0, useful_share=0.1, window=2, min_loops=3)
    assert not free_labels.should_stop(records)  # 15 > 10: worth its compute alone
    pricier = ChangeBoundStop(50.0, label_cost=1.0, compute_rate=10.0, useful_share=0.1, window=2, min_loops=3)
    assert pricier.next_loop(records)["cost"] == pytest.approx(30.0)


def test_round_trips_through_parse_stopping() -> None:
    rule = ChangeBoundStop(20.0, label_cost=0.5, compute_rate=2.0, useful_share=0.2, window=3, min_loops=4)
    again = parse_stopping(rule.describe())
    assert type(again) is ChangeBoundStop and vars(again) == vars(rule)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"value_per_point": -1.0}, r"value_per_point must be a finite number >= 0; got -1.0"),
        ({"value_per_point": 1.0, "useful_share": 0.0}, r"useful_share must be in \(0, 1\]; got 0.0"),
        ({"value_per_point": 1.0, "window": 0}, r"window must be an integer >= 1; got 0"),
        ({"value_per_point": 1.0, "window": 3, "min_loops": 3}, r"min_loops must be an integer >= window \+ 1 \(4\); got 3"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ChangeBoundStop(**kwargs)

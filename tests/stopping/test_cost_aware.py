"""Cost-aware stopping over a fitted learning curve, and the overall-uncertainty, classification-change and delta-F rules."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.core import LoopRecord
from loopwise.errors import ConfigError
from loopwise.stopping import (
    ClassificationChange,
    CostAwareStop,
    DeltaF,
    OverallUncertainty,
    agreement_f1,
    fit_power_law,
    hindsight_best_loop,
    hindsight_stop_loop,
    label_only_accuracy,
    parse_stopping,
    predicted_gain,
)

A, B, C = 0.9, 2.0, 0.7


def _acc(n: float) -> float:
    return A - B * n ** (-C)


def _record(i: int, n: int, accuracy: float | None = None, stop=None, proba=None, positions=None, labels=None,
            train_cpu: float = 0.0) -> LoopRecord:
    positions = np.arange(0) if positions is None else np.asarray(positions)
    return LoopRecord(
        loop_index=i, strategy="margin", positions=positions, ids=positions.astype(str),
        labels=np.zeros(len(positions), dtype=np.int64) if labels is None else np.asarray(labels),
        n_labelled=n, metrics={} if accuracy is None else {"accuracy": accuracy},
        timings={"train_cpu": train_cpu}, stop_predictions=np.zeros(4, dtype=np.int64) if stop is None else np.asarray(stop),
        pool_proba=proba,
    )


def _curve_records(n_loops: int, batch: int = 20, train_cpu: float = 0.0) -> list[LoopRecord]:
    return [_record(i, 20 + batch * i, _acc(20 + batch * i), train_cpu=train_cpu) for i in range(n_loops)]


def test_power_law_fit_recovers_an_exact_curve_and_its_gain() -> None:
    n = [20, 40, 60, 80, 100, 120]
    a, b, c = fit_power_law(n, [_acc(x) for x in n])
    assert (a, b, c) == pytest.approx((A, B, C), rel=1e-3)
    assert predicted_gain(n, [_acc(x) for x in n], 140) == pytest.approx(_acc(140) - _acc(120), rel=1e-3)
    assert fit_power_law([10, 20, 30], [0.5, 0.6, 0.65]) is None  # three points cannot pin three parameters


def test_cost_aware_stop_fires_at_the_first_loop_whose_gain_is_worth_less_than_its_cost() -> None:
    # 20 labels at 1 each, plus 3600 CPU s at 2 an hour: the next loop costs 22.
    rule = CostAwareStop(value_per_point=40.0, label_cost=1.0, compute_rate=2.0, min_loops=4)
    records = _curve_records(30, train_cpu=3600.0)
    fired = next(k for k in range(1, 31) if rule.should_stop(records[:k]))
    # The exact curve's next gain in points, at 40 a point, against 22: the first loop where it drops below.
    expected = next(k for k in range(4, 31) if (_acc(20 + 20 * k) - _acc(20 + 20 * (k - 1))) * 100 * 40 < 22)
    assert fired == expected
    estimate = rule.next_loop(records[:fired])
    assert estimate["cost"] == pytest.approx(22.0) and estimate["value"] < 22.0
    assert not rule.should_stop(records[: fired - 1])


def test_cost_aware_stop_is_within_one_loop_of_the_hindsight_oracle_on_a_smooth_curve() -> None:
    records = _curve_records(30)
    for value in (20.0, 80.0, 300.0):  # optima after the four loops a fit needs
        rule = CostAwareStop(value_per_point=value, label_cost=1.0, min_loops=4)
        fired = next((k for k in range(1, 31) if rule.should_stop(records[:k])), 30)
        best = hindsight_best_loop(records, value, label_cost=1.0)
        # Stopping after k records means the last loop run is k - 1.
        assert abs((fired - 1) - best) <= 1, (value, fired, best)


def test_hindsight_stop_is_the_first_loop_whose_next_gain_on_the_fitted_test_curve_is_worth_less_than_it_costs() -> None:
    records = _curve_records(30)
    for value in (20.0, 80.0):
        expected = next(k for k in range(29) if (_acc(40 + 20 * k) - _acc(20 + 20 * k)) * 100 * value < 20)
        assert hindsight_stop_loop(records, value, label_cost=1.0) == expected
        assert 0 < expected < 29
    assert hindsight_stop_loop(records, 1e6, label_cost=1.0) == 29  # every loop paid


def test_hindsight_stop_reads_the_curve_not_one_lucky_loop() -> None:
    # The smooth curve plus a last-loop jump of 10 points (mlp on trec, seed 0): the net-value argmax
    # follows the jump to the end; the marginal rule on the fitted curve stays near the smooth curve's loop.
    records = _curve_records(12)
    smooth = hindsight_stop_loop(records, 20.0, label_cost=1.0)
    records[-1] = _record(11, records[-1].n_labelled, records[-1].metrics["accuracy"] + 0.10)
    assert hindsight_best_loop(records, 20.0, label_cost=1.0) == 11
    assert abs(hindsight_stop_loop(records, 20.0, label_cost=1.0) - smooth) <= 1 and smooth < 10


def test_cost_aware_stop_waits_out_a_start_stuck_near_chance() -> None:
    # Five loops at chance (four classes), then the curve picks up: a fit of the flat start says "stop".
    stuck = [_record(i, 20 + 20 * i, 0.25 + 0.004 * (i % 2)) for i in range(5)]
    assert not CostAwareStop(value_per_point=20.0, min_rise=0.05).should_stop(stuck)
    assert CostAwareStop(value_per_point=20.0, min_rise=0.0).should_stop(stuck)


def test_label_only_signal_reads_the_previous_model_on_the_new_batch() -> None:
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]], dtype=np.float32)
    record = _record(1, 4, proba=proba, positions=[0, 1, 2], labels=[0, 1, 1])
    assert label_only_accuracy(record) == pytest.approx(2 / 3)
    assert label_only_accuracy(_record(0, 4)) is None  # loop 0 has no earlier model
    rule = CostAwareStop(value_per_point=1.0, signal="labels")
    assert not rule.should_stop([_record(0, 4), record])  # too few loops to fit: keep going


def test_overall_uncertainty_reads_only_unlabelled_records() -> None:
    confident = np.tile(np.array([[0.99, 0.01]], dtype=np.float32), (6, 1))
    confident[0] = [0.5, 0.5]  # labelled in loop 0: not counted
    first = _record(0, 1, positions=[0])
    assert OverallUncertainty(0.05).should_stop([first, _record(1, 2, proba=confident, positions=[1])])
    unsure = confident.copy()
    unsure[3] = [0.55, 0.45]
    assert not OverallUncertainty(0.05).should_stop([first, _record(1, 2, proba=unsure, positions=[1])])


def test_classification_change_and_delta_f_on_stop_set_predictions() -> None:
    same = [_record(i, 10 * i, stop=[0, 1, 1, 0]) for i in range(4)]
    moved = [*same[:3], _record(3, 30, stop=[1, 1, 1, 0])]
    assert ClassificationChange(0.0).should_stop(same)
    assert not ClassificationChange(0.0).should_stop(moved)
    assert ClassificationChange(0.25).should_stop(moved)
    assert DeltaF(0.005, window=3).should_stop(same)
    assert not DeltaF(0.005, window=3).should_stop(moved)
    assert agreement_f1(np.array([0, 1, 1, 0]), np.array([1, 1, 1, 0])) == pytest.approx((2 / 3 + 0.8) / 2)


def test_new_rules_round_trip_through_parse_stopping() -> None:
    for rule in (CostAwareStop(3.0, 0.5, 1.0, signal="labels"), OverallUncertainty(0.1), ClassificationChange(0.01), DeltaF(0.01, 2)):
        again = parse_stopping(rule.describe())
        assert type(again) is type(rule) and vars(again) == vars(rule)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: CostAwareStop(-1.0), r"value_per_point must be a finite number >= 0; got -1.0"),
        (lambda: CostAwareStop(1.0, signal="oracle"), r"signal must be 'test' or 'labels'; got 'oracle'"),
        (lambda: CostAwareStop(1.0, min_loops=2), r"min_loops must be an integer >= 4"),
        (lambda: CostAwareStop(1.0, min_rise=-0.1), r"min_rise must be a finite number >= 0; got -0.1"),
        (lambda: OverallUncertainty(1.5), r"threshold must be in \[0, 1\]; got 1.5"),
        (lambda: DeltaF(0.1, window=0), r"window >= 1"),
    ],
)
def test_bad_parameters_are_named(make, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make()

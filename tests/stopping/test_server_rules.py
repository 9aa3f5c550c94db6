"""Stopping rules as the annotation server uses them: budgets it can enforce, loops without a metric."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.core import LoopRecord
from loopwise.errors import ConfigError
from loopwise.stopping import LabelBudget, MaxLoops, Plateau, TargetMetric, parse_stopping


def _loop(i: int, metrics: dict[str, object]) -> LoopRecord:
    empty = np.empty(0, dtype=np.int64)
    return LoopRecord(i, "margin", empty, empty, empty, 10 * (i + 1), metrics, {}, empty)


def test_plateau_treats_a_missing_metric_as_no_evidence() -> None:
    note = {"evaluation": "cv", "note": "too few labels per class for cross-validation"}
    early = [_loop(i, note) for i in range(6)]
    assert not Plateau(window=3, min_delta=0.01).should_stop(early)
    # Once every loop of the window has the metric, a flat curve stops as before.
    later = early + [_loop(6 + i, {"accuracy": 0.8}) for i in range(4)]
    assert Plateau(window=3, min_delta=0.01).should_stop(later)
    mixed = early[:3] + [_loop(3, {"accuracy": 0.8}), _loop(4, note), _loop(5, {"accuracy": 0.8})]
    assert not Plateau(window=2, min_delta=0.01).should_stop(mixed)


@pytest.mark.parametrize("budget", [0, -1, -500, 2.5, True, "12"])
def test_label_budget_refuses_what_is_not_a_positive_count(budget: object) -> None:
    with pytest.raises(ConfigError, match=f"budget must be a whole number of labels, at least 1; got {budget!r}"):
        LabelBudget(budget)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="at least 1"):
        parse_stopping({"kind": "AnyOf", "criteria": [{"kind": "LabelBudget", "budget": budget}]})


def test_label_budget_is_read_through_any_of_but_not_all_of() -> None:
    assert LabelBudget(np.int64(12)).label_budget() == 12
    assert (LabelBudget(30) | MaxLoops(4) | LabelBudget(12)).label_budget() == 12
    assert (MaxLoops(4) | TargetMetric(0.9)).label_budget() is None
    # Both must hold to stop, so labelling past 12 is allowed until the target is met too.
    assert (LabelBudget(12) & TargetMetric(0.9)).label_budget() is None
    assert parse_stopping({"kind": "LabelBudget", "budget": 7}).label_budget() == 7

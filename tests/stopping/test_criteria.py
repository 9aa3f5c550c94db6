from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from loopwise.core import LoopRecord
from loopwise.stopping import (
    LabelBudget,
    MaxLoops,
    Plateau,
    StabilizingPredictions,
    TargetMetric,
    cohen_kappa,
    parse_stopping,
)


def _record(i: int, n: int, acc: float, preds: list[int]) -> LoopRecord:
    empty = np.empty(0, dtype=np.int64)
    return LoopRecord(i, "margin", empty, empty, empty, n, {"accuracy": acc}, {}, np.asarray(preds))


def test_cohen_kappa_matches_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    b[:120] = a[:120]
    assert np.isclose(cohen_kappa(a, b), cohen_kappa_score(a, b))
    assert cohen_kappa(np.zeros(5, int), np.zeros(5, int)) == 1.0


def test_budget_loops_target() -> None:
    recs = [_record(0, 10, 0.5, [0]), _record(1, 20, 0.8, [0])]
    assert LabelBudget(20).should_stop(recs) and not LabelBudget(21).should_stop(recs)
    assert MaxLoops(2).should_stop(recs) and not MaxLoops(3).should_stop(recs)
    assert TargetMetric(0.8).should_stop(recs) and not TargetMetric(0.81).should_stop(recs)


def test_stabilizing_predictions_needs_a_full_window() -> None:
    stable = [0, 1, 2, 1, 0, 2]
    recs = [_record(0, 10, 0.5, [2, 2, 2, 2, 2, 2])] + [_record(i, 10 * i, 0.5, stable) for i in range(1, 4)]
    assert not StabilizingPredictions(0.99, window=3).should_stop(recs)
    assert StabilizingPredictions(0.99, window=2).should_stop(recs)


def test_plateau_and_composition() -> None:
    rising = [_record(i, 10 * i, 0.5 + 0.05 * i, [0]) for i in range(6)]
    flat = rising + [_record(6 + i, 70 + i, 0.8, [0]) for i in range(5)]
    assert not Plateau(window=3, min_delta=0.01).should_stop(rising)
    assert Plateau(window=3, min_delta=0.01).should_stop(flat)
    either = LabelBudget(10_000) | Plateau(window=3, min_delta=0.01)
    both = LabelBudget(10_000) & Plateau(window=3, min_delta=0.01)
    assert either.should_stop(flat) and not both.should_stop(flat)
    rebuilt = parse_stopping(either.describe())
    assert rebuilt.should_stop(flat) == either.should_stop(flat)


def test_parse_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown stopping criterion 'Soon'"):
        parse_stopping({"kind": "Soon"})

"""AdaptiveSchedule: batch sizes from the learning curve so far and the label and compute prices."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.core import LoopRecord, Pool
from loopwise.errors import ConfigError
from loopwise.evaluation import evaluate
from loopwise.labeling import SimulatedOracle
from loopwise.learners import as_learner
from loopwise.loop import AdaptiveSchedule, Loop, parse_schedule, run_simulation
from loopwise.strategies import make_strategy


def _records(ns, accs, train_cpu: float = 0.0) -> list[LoopRecord]:
    return [
        LoopRecord(loop_index=i, strategy="margin", positions=np.arange(0), ids=np.arange(0).astype(str),
                   labels=np.arange(0), n_labelled=n, metrics={"accuracy": a}, timings={"train_cpu": train_cpu},
                   stop_predictions=np.zeros(2, dtype=np.int64))
        for i, (n, a) in enumerate(zip(ns, accs, strict=True))
    ]


def test_batches_stay_small_while_the_curve_is_steep_and_grow_as_it_flattens() -> None:
    schedule = AdaptiveSchedule(10, min_batch=10, max_batch=200, budget=5000)
    ns = [10 * (i + 1) for i in range(12)]
    curve = [0.9 - 2.0 * n ** -0.7 for n in ns]
    assert schedule.size_for(1, 10, 1000, _records(ns[:2], curve[:2])) == 10  # too few loops to fit
    early = schedule.size_for(4, 40, 1000, _records(ns[:4], curve[:4]))
    late = schedule.size_for(12, 120, 1000, _records(ns, curve))
    # slope ratio (120/10)^-1.7 = 0.0146: the batch is 10 / sqrt(0.0146) = 83 labels.
    assert early < late
    assert late == pytest.approx(10 / np.sqrt((120 / 10) ** -1.7), abs=2)


def test_dear_compute_buys_bigger_batches() -> None:
    ns, accs = [10, 20, 30], [0.5, 0.6, 0.65]
    cheap = AdaptiveSchedule(10, 10, 500, 5000, label_cost=1.0, compute_rate=0.0)
    dear = AdaptiveSchedule(10, 10, 500, 5000, label_cost=1.0, compute_rate=36.0, compute_share=0.1)
    # 100 CPU s at 36 an hour is 1.0 of compute a loop; at most 10% of the label bill: 10 labels.
    assert dear.size_for(3, 30, 1000, _records(ns, accs, train_cpu=100.0)) == 10
    assert dear.size_for(3, 30, 1000, _records(ns, accs, train_cpu=1000.0)) == 100
    assert cheap.size_for(3, 30, 1000, _records(ns, accs, train_cpu=1000.0)) == 10
    assert dear.size_for(3, 990, 5, _records(ns, accs, train_cpu=1000.0)) == 5  # the pool left caps it


def test_adaptive_run_spends_its_budget_in_growing_loops_and_replays(digits_split) -> None:
    Xp, Xt, yp, yt = digits_split
    Xp, yp, Xt, yt = Xp[:500], yp[:500], Xt[:200], yt[:200]  # a slice keeps two runs quick

    def run():
        pool = Pool.new(np.array([f"r{i}" for i in range(len(Xp))]), Xp)
        loop = Loop(pool, as_learner(LogisticRegression(max_iter=300), 10), make_strategy("margin"),
                    AdaptiveSchedule(10, 5, 40, 150), seed=1, X_test=Xt, y_test=yt, evaluate=evaluate)
        return run_simulation(loop, SimulatedOracle(yp))

    records = run()
    sizes = np.diff([r.n_labelled for r in records])
    assert records[-1].n_labelled == 150
    assert sizes[0] == 5 and sizes[:-1].max() > 5  # starts small, grows (the last loop is cut by the budget)
    assert [r.n_labelled for r in run()] == [r.n_labelled for r in records]


def test_describe_round_trips_and_bad_sizes_are_named() -> None:
    schedule = AdaptiveSchedule(10, 5, 50, 300, label_cost=2.0, compute_rate=1.0)
    assert vars(parse_schedule(schedule.describe())) == vars(schedule)
    with pytest.raises(ConfigError, match=r"need 1 <= min_batch <= max_batch, got 20 and 10"):
        AdaptiveSchedule(10, 20, 10, 300)


def test_a_start_stuck_near_chance_keeps_loops_small() -> None:
    schedule = AdaptiveSchedule(20, min_batch=10, max_batch=80, budget=2000)
    ns = [20, 30, 40, 50, 60]
    stuck = [0.25, 0.251, 0.25, 0.252, 0.251]  # four classes, still at chance: flat but not converged
    assert schedule.size_for(5, 60, 1000, _records(ns, stuck)) == 10

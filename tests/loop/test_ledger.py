"""The loop's compute ledger: CPU seconds per step from an injectable CPU clock, and from the real one."""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.linear_model import LogisticRegression

from loopwise.core import Pool
from loopwise.evaluation import evaluate
from loopwise.labeling import SimulatedOracle
from loopwise.learners import CallbackLearner, as_learner
from loopwise.loop import FixedSchedule, Loop, run_simulation
from loopwise.loop._clock import process_cpu_seconds
from loopwise.strategies import make_strategy


def _loop(digits_split, learner, budget=60, **kw) -> tuple[Loop, SimulatedOracle]:
    Xp, Xt, yp, yt = digits_split
    Xp, yp, Xt, yt = Xp[:300], yp[:300], Xt[:150], yt[:150]  # a small slice keeps the test quick
    pool = Pool.new(np.array([f"r{i}" for i in range(len(Xp))]), Xp)
    loop = Loop(pool, learner, make_strategy("margin"), FixedSchedule(10, 10, budget), seed=0,
                X_test=Xt, y_test=yt, evaluate=evaluate, **kw)
    return loop, SimulatedOracle(yp)


def test_injected_cpu_clock_gives_each_step_its_cpu_seconds(digits_split) -> None:
    ticks = itertools.count(0.0, 0.5)  # every reading advances half a CPU second
    loop, oracle = _loop(digits_split, as_learner(LogisticRegression(max_iter=300), 10), budget=30,
                         cpu_clock=lambda: next(ticks), gpu_clock=lambda: None)
    records = run_simulation(loop, oracle)
    for record in records[1:]:
        # Start and stop are consecutive readings of the step's own clock: exactly one tick apart.
        assert {k: record.timings[k] for k in ("infer_cpu", "select_cpu", "train_cpu")} == {
            "infer_cpu": 0.5, "select_cpu": 0.5, "train_cpu": 0.5}
        assert not any(k.endswith("_gpu") for k in record.timings)  # no CUDA: no GPU seconds, not zero


def test_injected_gpu_clock_is_recorded_only_when_it_reads(digits_split) -> None:
    ticks = itertools.count(0.0, 2.0)
    loop, oracle = _loop(digits_split, as_learner(LogisticRegression(max_iter=300), 10), budget=20,
                         gpu_clock=lambda: next(ticks))
    records = run_simulation(loop, oracle)
    assert records[1].timings["train_gpu"] == 2.0 and records[1].timings["infer_gpu"] == 2.0


def _busy(units: int) -> float:
    # Pure-Python arithmetic: CPU work proportional to ``units``, no I/O, no sleeping.
    total = 0.0
    for i in range(units * 20_000):
        total += i % 7
    return total


def _busy_learner() -> CallbackLearner:
    """A learner whose training does CPU work proportional to the number of labels it sees."""

    def train(X, y):
        _busy(len(y))
        # Class centroids: a model so cheap that the busy work is all the training CPU there is.
        return {int(c): X[y == c].mean(axis=0) for c in np.unique(y)}

    def infer(model, X):
        scores = np.full((X.shape[0], 10), -np.inf)
        for c, centre in model.items():
            scores[:, c] = -((X - centre) ** 2).sum(axis=1)
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    return CallbackLearner(train, infer, n_classes=10)


def test_real_cpu_seconds_grow_with_the_work_done(digits_split) -> None:
    records = run_simulation(*_loop(digits_split, _busy_learner(), budget=80))
    train = [r.timings["train_cpu"] for r in records]
    # Loop 7 trains on 80 labels, loop 0 on 10: eight times the busy work, so clearly more CPU.
    assert train[-1] > 2 * train[0] > 0
    # More loops, more CPU in total: the running total of a longer run passes a shorter one's.
    short = run_simulation(*_loop(digits_split, _busy_learner(), budget=40))
    assert sum(train) > 1.5 * sum(r.timings["train_cpu"] for r in short)


def test_real_cpu_seconds_match_an_explicit_busy_computation(digits_split) -> None:
    start = process_cpu_seconds()
    _busy(60)
    explicit = process_cpu_seconds() - start
    records = run_simulation(*_loop(digits_split, _busy_learner(), budget=60))
    # The last loop trains on 60 labels: the same busy work plus a small logistic regression.
    assert records[-1].timings["train_cpu"] >= 0.5 * explicit > 0

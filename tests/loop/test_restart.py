from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.core import Pool
from loopwise.errors import ConfigError
from loopwise.evaluation import evaluate
from loopwise.labeling import SimulatedOracle
from loopwise.learners import as_learner
from loopwise.loop import DiverseInit, FixedSchedule, GivenIds, Loop, RandomInit, choose_start
from loopwise.strategies import make_strategy


@pytest.fixture()
def make(digits_split):
    Xp, Xt, yp, yt = digits_split
    ids = np.array([f"r{i}" for i in range(len(Xp))])

    def make_loop(init):
        return Loop(Pool.new(ids, Xp), as_learner(LogisticRegression(max_iter=200), 10), make_strategy("margin"),
                    FixedSchedule(10, 10, 60), seed=0, initializer=init, X_test=Xt, y_test=yt, evaluate=evaluate)

    return make_loop, SimulatedOracle(yp), ids, yp


def test_a_one_class_start_is_stalled_and_never_kept(make) -> None:
    make_loop, oracle, ids, y = make
    one_class = GivenIds(ids[y == 3][:10].tolist())
    loop, choice = choose_start(make_loop, oracle, {"random": RandomInit(), "diverse": DiverseInit(), "one_class": one_class}, n_loops=1)
    assert choice["candidates"]["one_class"]["stalled"]
    assert not choice["candidates"]["random"]["stalled"] and not choice["candidates"]["diverse"]["stalled"]
    assert choice["kept"] in ("random", "diverse") and choice["kept"] in choice["why"] and not choice["restarted"]
    best = max(("random", "diverse"), key=lambda n: choice["candidates"][n]["held_out_accuracy"])
    assert choice["kept"] == best
    # The kept loop continues where it stopped, says why it was kept, and the other starts' labels are counted.
    assert loop.loop_index == 1 and loop.records[0].extra["start"]["kept"] == choice["kept"]
    assert choice["labels_spent_on_other_starts"] == 20
    assert choice["candidates"]["one_class"]["n_held_out"] > 0
    loop.record(oracle.collect(loop.propose()))
    assert loop.pool.n_labelled == 20


def test_every_start_stalled_restarts_them(make) -> None:
    make_loop, oracle, ids, y = make
    starts = {f"only_{c}": GivenIds(ids[y == c][:10].tolist()) for c in (1, 7)}
    loop, choice = choose_start(make_loop, oracle, starts, n_loops=1)  # loop 0 alone: a one-class model each
    assert choice["restarted"] and loop.loop_index == 2
    assert "stalled" in choice["why"]


def test_choose_start_refuses_one_candidate_or_no_loops(make) -> None:
    make_loop, oracle, _, _ = make
    with pytest.raises(ConfigError, match="at least two"):
        choose_start(make_loop, oracle, {"random": RandomInit()})
    with pytest.raises(ConfigError, match="n_loops"):
        choose_start(make_loop, oracle, {"a": RandomInit(), "b": DiverseInit()}, n_loops=0)

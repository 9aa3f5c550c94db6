"""Loop.record(labels, positions): the labels people chose from a proposal, and evaluation on the labelled set."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.core import Pool
from loopwise.errors import LoopwiseError
from loopwise.learners import as_learner
from loopwise.loop import FixedSchedule, Loop
from loopwise.strategies import make_strategy


def _loop(digits_split, **kw) -> tuple[Loop, np.ndarray]:  # noqa: ANN001
    Xp, _, yp, _ = digits_split
    pool = Pool.new(np.array([f"r{i}" for i in range(200)]), Xp[:200])
    learner = as_learner(LogisticRegression(max_iter=300), 10)
    return Loop(pool, learner, make_strategy("margin"), FixedSchedule(10, 10, 100), seed=0, **kw), yp[:200]


def test_loop_0_is_recorded_from_the_labels_given_and_later_loops_from_what_was_labelled(digits_split) -> None:  # noqa: ANN001
    loop, y = _loop(digits_split)
    first = np.arange(20)  # people labelled 20 records before there was any model
    record = loop.record(y[first], positions=first)
    assert record.loop_index == 0 and record.n_labelled == 20 and np.isnan(record.scores).all()
    with pytest.raises(LoopwiseError, match="propose"):
        loop.record(y[[30]], positions=[30])  # after loop 0, labels answer a proposal
    query = loop.propose()
    chosen = np.concatenate([query.positions[:3], [int(np.setdiff1d(loop.pool.unlabelled_positions, query.positions)[0])]])
    record = loop.record(y[chosen], positions=chosen)
    assert record.ids.tolist() == [f"r{p}" for p in chosen]
    assert record.scores[:3].tolist() == query.scores[:3].tolist() and np.isnan(record.scores[3])
    assert record.n_labelled == 24 and record.pool_proba is not None


def test_without_a_test_set_evaluate_labelled_scores_the_labelled_set(digits_split) -> None:  # noqa: ANN001
    seen: list[int] = []

    def on_labelled(learner, X, y):  # noqa: ANN001, ANN202
        seen.append(len(y))
        member = learner.clone()
        member.fit(X, y)
        return {"accuracy": float(np.mean(member.predict_proba(X).argmax(axis=1) == y))}

    loop, y = _loop(digits_split, evaluate_labelled=on_labelled)
    record = loop.record(y[:30], positions=np.arange(30))
    assert seen == [30] and 0.0 <= record.metrics["accuracy"] <= 1.0

"""The Python API of experiments: bad learners are caught before anything is stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.errors import LearnerError
from loopwise.experiments import load_results, simulate
from loopwise.experiments._config import DataSpec
from loopwise.learners import CallbackLearner
from loopwise.loop import FixedSchedule
from loopwise.storage import Store


@pytest.fixture()
def store(tmp_path: Path):
    s = Store.open(f"sqlite:///{tmp_path / 'api.db'}")
    simulate(s, DataSpec("wine"), ["random"], 1, FixedSchedule(5, 5, 15))
    yield s
    s.close()


def _train(X, y):
    return LogisticRegression(max_iter=200).fit(X, y)


@pytest.mark.parametrize(
    ("infer", "message"),
    [
        (lambda m, X: m.predict_proba(X)[:, :2], r"shape \(\d+, 2\); expected \(\d+, 3\)"),
        (lambda m, X: m.predict_proba(X) * 2, r"row 0 is not a probability distribution"),
    ],
)
def test_a_learner_that_breaks_its_contract_stores_nothing(store: Store, infer, message: str) -> None:
    before = store.counts()
    with pytest.raises(LearnerError, match=message):
        simulate(store, DataSpec("wine"), ["margin"], 1, FixedSchedule(30, 5, 60), model=CallbackLearner(_train, infer))
    assert store.counts() == before


def test_custom_learner_runs_and_results_load(store: Store) -> None:
    learner = CallbackLearner(_train, lambda m, X: m.predict_proba(X))
    (run_id,) = simulate(store, DataSpec("wine"), ["entropy"], [4], FixedSchedule(30, 10, 60), model=learner)
    (result,) = load_results(store, [run_id])
    assert [p.n_labelled for p in result.loops] == [30, 40, 50, 60]
    assert result.seed == 4 and result.strategy == "entropy"
    assert 0.5 < result.full_pool_accuracy <= 1.0
    assert np.isfinite(result.loops[-1].accuracy)


class _Crash(RuntimeError):
    pass


def test_failed_run_resumes_to_the_uninterrupted_result_on_both_databases(store_url: str, tmp_path: Path) -> None:
    calls = {"n": 0}

    def crashing_train(X, y):
        calls["n"] += 1
        if calls["n"] == 5:  # full-pool reference fit + loops 0..2, then loop 3 dies
            raise _Crash("power cut")
        return _train(X, y)

    infer = lambda m, X: m.predict_proba(X)  # noqa: E731
    schedule = FixedSchedule(10, 5, 40)
    with Store.open(store_url, artifacts_dir=tmp_path / "a") as store:
        with pytest.raises(_Crash):
            simulate(store, DataSpec("breast_cancer"), ["margin"], [2], schedule, model=CallbackLearner(crashing_train, infer))
        (run,) = store.list_runs()
        assert run.status == "failed" and run.n_loops == 3
        from loopwise.experiments import resume_run

        resume_run(store, run.id, model=CallbackLearner(_train, infer))
        resumed = [(l.selected_ids, l.metrics) for l in store.loops(run.id)]
        assert store.get_run(run.id).status == "finished"
        (clean_id,) = simulate(store, DataSpec("breast_cancer"), ["margin"], [2], schedule, model=CallbackLearner(_train, infer))
        clean = [(l.selected_ids, l.metrics) for l in store.loops(clean_id)]
    assert len(resumed) == 7 and resumed == clean

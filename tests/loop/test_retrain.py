from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors

from loopwise.core import Pool
from loopwise.errors import ConfigError
from loopwise.evaluation import evaluate
from loopwise.labeling import SimulatedOracle
from loopwise.learners import as_learner
from loopwise.loop import FixedSchedule, Loop, ProxySelection, SEALSCandidates, run_simulation
from loopwise.strategies import make_strategy

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _loop(digits_split, **kw) -> tuple[Loop, SimulatedOracle]:
    Xp, Xt, yp, yt = digits_split
    pool = Pool.new(np.array([f"r{i}" for i in range(len(Xp))]), Xp)
    loop = Loop(pool, as_learner(LogisticRegression(max_iter=500), 10), make_strategy("margin"),
                kw.pop("schedule", FixedSchedule(10, 10, 70)), seed=0, X_test=Xt, y_test=yt, evaluate=evaluate, **kw)
    return loop, SimulatedOracle(yp)


def _proxy(checkpoint_every: int = 0, continued: bool = False) -> ProxySelection:
    return ProxySelection(as_learner(LogisticRegression(max_iter=5, C=0.1), 10), checkpoint_every, continued)


def test_proxy_trains_the_full_model_only_at_checkpoints_and_at_the_end(digits_split) -> None:
    loop, oracle = _loop(digits_split, proxy=_proxy(checkpoint_every=3))
    models = []
    for _ in range(7):
        loop.record(oracle.collect(loop.propose()))
        models.append(loop.model)
    trained = [r.extra["proxy"]["full_model_trained"] for r in loop.records]
    assert trained == [True, False, False, True, False, False, True]
    # Between checkpoints the deployed model is the checkpoint's, so its test accuracy repeats.
    assert models[1] is models[0] and models[2] is models[0] and models[3] is not models[0]
    acc = [r.metrics["accuracy"] for r in loop.records]
    assert acc[1] == acc[0] and acc[5] == acc[3]
    # The run ends on a full model fitted on every label.
    Xp, Xt, yp, yt = digits_split
    full = LogisticRegression(max_iter=500).fit(Xp[loop.pool.labelled_positions], yp[loop.pool.labelled_positions])
    np.testing.assert_allclose(loop.model.predict_proba(Xt), full.predict_proba(Xt), atol=1e-6)


def test_proxy_is_what_infer_and_select_read(digits_split) -> None:
    loop, oracle = _loop(digits_split, proxy=_proxy())
    loop.record(oracle.collect(loop.propose()))
    loop.record(oracle.collect(loop.propose()))
    query = loop.propose()
    np.testing.assert_allclose(loop.proposed_proba, loop.proxy_model.predict_proba(loop.pool.X).astype(np.float32))
    assert not np.allclose(loop.proposed_proba, loop.model.predict_proba(loop.pool.X), atol=1e-3)
    margin = np.sort(loop.proposed_proba, axis=1)
    unlabelled = loop.pool.unlabelled_positions
    gap = margin[unlabelled, -1] - margin[unlabelled, -2]
    assert set(query.positions.tolist()) == set(unlabelled[np.argsort(gap, kind="stable")[:10]].tolist())


def test_continued_proxy_keeps_its_model(digits_split) -> None:
    loop, oracle = _loop(digits_split, proxy=ProxySelection(as_learner(LogisticRegression(max_iter=5), 10), continued=True))
    loop.record(oracle.collect(loop.propose()))
    first = loop.proxy_model
    loop.record(oracle.collect(loop.propose()))
    assert loop.proxy_model is first


def test_seals_selects_only_neighbours_of_the_labelled_set(digits_split) -> None:
    seals = SEALSCandidates(n_neighbors=5)
    loop, oracle = _loop(digits_split, candidate_pool=seals)
    X = loop.pool.X
    graph = NearestNeighbors(n_neighbors=6, metric="cosine", algorithm="brute").fit(X).kneighbors(X, return_distance=False)
    loop.record(oracle.collect(loop.propose()))
    for _ in range(2):
        labelled = loop.pool.labelled_positions
        allowed = set(graph[labelled].ravel().tolist()) - set(labelled.tolist())
        query = loop.propose()
        assert set(query.positions.tolist()) <= allowed
        assert len(allowed) < len(loop.pool.unlabelled_positions)  # a real restriction, not the whole pool
        loop.record(oracle.collect(query))


def test_seals_falls_back_to_the_pool_when_the_neighbourhood_is_too_small(digits_split) -> None:
    X = digits_split[0]
    seals = SEALSCandidates(n_neighbors=1)
    rng = np.random.default_rng(0)
    unlabelled = np.arange(1, len(X))
    assert len(seals.candidates(X, np.array([0]), unlabelled, 1, rng)) <= 2
    np.testing.assert_array_equal(seals.candidates(X, np.array([0]), unlabelled, 50, rng), unlabelled)


@pytest.mark.parametrize("kw", [{"checkpoint_every": -1}, {"checkpoint_every": 1.5}])
def test_proxy_refuses_bad_checkpoints(kw) -> None:
    with pytest.raises(ConfigError, match="checkpoint_every"):
        ProxySelection(as_learner(LogisticRegression(), 2), **kw)


def test_continued_proxy_needs_fit_more() -> None:
    class Plain:
        n_classes = 2

        def fit(self, X, y) -> None: ...

        def predict_proba(self, X): ...

        def clone(self):
            return self

    with pytest.raises(ConfigError, match="fit_more"):
        ProxySelection(Plain(), continued=True)


def test_seals_refuses_bad_neighbours() -> None:
    with pytest.raises(ConfigError, match="n_neighbors"):
        SEALSCandidates(n_neighbors=0)

"""Cold start with TypiClust and ProbCover through the Loop, and the new strategy inputs the Loop computes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.core import Pool
from loopwise.errors import ConfigError
from loopwise.evaluation import evaluate
from loopwise.labeling import SimulatedOracle
from loopwise.learners import as_learner
from loopwise.learners._adapter import EstimatorLearner
from loopwise.loop import FixedSchedule, Loop, parse_initializer, run_simulation
from loopwise.loop import DiverseInit, StrategyInit, initializer_kinds
from loopwise.loop._cold_start import ProbCoverInit, TypiClustInit
from loopwise.strategies import StrategyInputs, make_strategy


def _loop(digits_split, initializer=None, strategy="margin", learner=None, seed=0) -> tuple[Loop, SimulatedOracle]:
    Xp, Xt, yp, yt = digits_split
    pool = Pool.new(np.array([f"r{i}" for i in range(len(Xp))]), Xp)
    loop = Loop(
        pool,
        learner or as_learner(LogisticRegression(max_iter=300), 10),
        make_strategy(strategy) if isinstance(strategy, str) else strategy,
        FixedSchedule(10, 10, 30),
        seed=seed,
        initializer=initializer,
        X_test=Xt,
        y_test=yt,
        evaluate=evaluate,
    )
    return loop, SimulatedOracle(yp)


def test_typiclust_cold_start_runs_the_loop_and_spreads_over_classes(digits_split) -> None:
    records = run_simulation(*_loop(digits_split, TypiClustInit()))
    assert [r.n_labelled for r in records] == [10, 20, 30]
    assert records[0].strategy == "initial:TypiClustInit"
    # Typical records of 10 clusters of digits land in (almost) 10 different classes.
    assert len(set(records[0].labels.tolist())) >= 8
    again = run_simulation(*_loop(digits_split, TypiClustInit()))
    assert all(np.array_equal(a.ids, b.ids) for a, b in zip(records, again, strict=True))


def test_probcover_cold_start_gives_distinct_records(digits_split) -> None:
    loop, oracle = _loop(digits_split, ProbCoverInit())
    query = loop.propose()
    assert len(set(query.positions.tolist())) == 10
    loop.record(oracle.collect(query))


def test_parse_initializer_knows_the_cold_start_kinds() -> None:
    assert isinstance(parse_initializer("typiclust"), TypiClustInit)
    spec = ProbCoverInit(delta=0.8, n_clusters=5).describe()
    rebuilt = parse_initializer(spec)
    assert isinstance(rebuilt, ProbCoverInit) and rebuilt.describe() == spec
    with pytest.raises(ConfigError, match="known: random, diverse, ids, typiclust, probcover"):
        parse_initializer("nope")


class _Recorder:
    """A strategy wrapper that keeps the inputs the loop handed over."""

    def __init__(self, name: str, **params) -> None:
        self.inner = make_strategy(name, **params)
        self.name = self.inner.name
        self.seen: list[StrategyInputs] = []

    def __getattr__(self, attr: str):
        return getattr(self.inner, attr)  # n_samples, n_members: what the loop reads off a strategy

    @property
    def requires(self) -> frozenset[str]:
        return self.inner.requires

    def select(self, inputs, batch_size, rng):
        self.seen.append(inputs)
        return self.inner.select(inputs, batch_size, rng)


class _SamplingLearner(EstimatorLearner):
    """Logistic regression with a sampler: a Dirichlet around its probabilities (a stand-in posterior)."""

    def clone(self) -> _SamplingLearner:
        return _SamplingLearner(self.estimator, self.n_classes)

    def predict_proba_samples(self, X, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        proba = self.predict_proba(X)
        return np.stack([np.array([rng.dirichlet(1.0 + 50 * p) for p in proba]) for _ in range(n_samples)])


def test_loop_hands_labelled_features_and_monte_carlo_samples(digits_split) -> None:
    kcenter = _Recorder("kcenter")
    loop, oracle = _loop(digits_split, strategy=kcenter)
    run_simulation(loop, oracle)
    first = kcenter.seen[0]
    assert first.features.shape == (len(loop.pool) - 10, 64) and first.labelled_features.shape == (10, 64)

    committee = _Recorder("bald", n_samples=3)  # plain logistic regression: a bagged committee of 3 stands in
    run_simulation(*_loop(digits_split, strategy=committee))
    assert committee.seen[0].mc_samples.shape == (3, len(loop.pool) - 10, 10)

    sampled = _Recorder("bald", n_samples=4)
    run_simulation(*_loop(digits_split, strategy=sampled, learner=_SamplingLearner(LogisticRegression(max_iter=300), 10)))
    samples = sampled.seen[0].mc_samples
    assert samples.shape == (4, len(loop.pool) - 10, 10) and samples.dtype == np.float32
    assert np.allclose(samples.sum(axis=2), 1.0, atol=1e-5)


def test_any_loop_zero_strategy_is_an_initialiser_and_round_trips(digits_split) -> None:
    init = parse_initializer("kcenter")
    assert isinstance(init, StrategyInit)
    spec = init.describe()
    assert spec == {"kind": "StrategyInit", "strategy": "kcenter", "params": {}}
    loop, oracle = _loop(digits_split, parse_initializer(spec))
    query = loop.propose()
    assert loop.pool.n_labelled == 0 and len(set(query.ids.tolist())) == 10
    # Loop 0 is named after the strategy that chose it; the named kinds keep the class names stored runs carry.
    assert loop.record(oracle.collect(query)).strategy == "initial:kcenter"
    assert [parse_initializer(kind).name for kind in ("random", "diverse", "typiclust", "probcover")] == [
        "RandomInit", "DiverseInit", "TypiClustInit", "ProbCoverInit"
    ]
    again, _ = _loop(digits_split, StrategyInit("kcenter"))
    assert np.array_equal(again.propose().positions, query.positions)
    with pytest.raises(ConfigError, match="strategy 'margin' cannot choose loop 0: it needs proba"):
        parse_initializer("margin")
    with pytest.raises(ConfigError, match="initialisation 'typiclust': .*unexpected keyword argument 'nope'"):
        parse_initializer({"kind": "typiclust", "nope": 1})


def test_the_named_initialisers_select_what_their_strategies_select(digits_split) -> None:
    X = digits_split[0][:300]
    ids = np.arange(300).astype(str)
    for init, name in ((TypiClustInit(), "typiclust"), (ProbCoverInit(n_clusters=5), "probcover"), (DiverseInit(), "diverse")):
        params = init.describe()
        params.pop("kind")
        got = init.select(X, ids, 12, np.random.default_rng(4))
        expected = make_strategy(name, **params).select(StrategyInputs(candidates=np.arange(300), features=X), 12, np.random.default_rng(4))
        assert np.array_equal(got, expected.positions), name


def test_every_loop_zero_strategy_is_an_initialiser_kind() -> None:
    kinds = initializer_kinds()
    assert kinds[:5] == ["random", "diverse", "ids", "typiclust", "probcover"]
    assert {"kcenter", "kcenter_normalized"} <= set(kinds) and "margin" not in kinds

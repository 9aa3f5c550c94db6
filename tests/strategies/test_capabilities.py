"""Every registered strategy declares its capabilities, and each declaration matches what the strategy does."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.core.records import Selection
from loopwise.core.tokens import TokenMarginals
from loopwise.distributed import LocalExecutor
from loopwise.errors import ConfigError
from loopwise.learners import as_learner
from loopwise.loop import StrategyInit, loop_zero_strategies
from loopwise.loop._initial import loop_zero_strategy
from loopwise.strategies import (
    BUILTIN,
    CLASSIFICATION,
    FEATURES,
    MULTILABEL,
    PROBA,
    REGRESSION,
    TASKS,
    TOP_K,
    Capabilities,
    ChunkedScorer,
    History,
    Strategy,
    StrategyInputs,
    available,
    capabilities,
    describe,
    make_strategy,
    registered,
    registered_classes,
    row_local_names,
    select_streaming,
    strategy_class,
)

N, K, D = 240, 4, 6


def _token_marginals(n: int, seed: int) -> TokenMarginals:
    """Tag marginals of ``n`` sentences of 1-12 tokens over 5 tags (own generator: the other inputs stay as they were)."""
    rng = np.random.default_rng([seed, 14])
    sentences = [rng.dirichlet(np.full(5, 0.5), size=int(rng.integers(1, 13))) for _ in range(n)]
    return TokenMarginals.from_sentences(sentences, rng.uniform(0.05, 1.0, size=n))


def _task(name: str) -> str:
    """The task a strategy's inputs are drawn for: classification when it serves it, else the one it serves."""
    tasks = strategy_class(name).capabilities.tasks
    return CLASSIFICATION if CLASSIFICATION in tasks else sorted(tasks)[0]


def _inputs(n: int = N, seed: int = 0, task: str = CLASSIFICATION) -> StrategyInputs:
    """Every input a strategy may ask for, over ``n`` candidates (positions 0..n-1 of an n-record pool).

    ``proba``, the committee and the labelled records' labels take the form of ``task``:
    marginals over K labels and 0/1 label rows (multilabel), mean and std columns and
    float targets (regression).
    """
    inputs = _classification_inputs(n, seed)
    rng = np.random.default_rng([seed, 15])  # own generator: the classification inputs stay as they were
    if task == MULTILABEL:
        return replace(
            inputs,
            proba=rng.uniform(size=(n, K)).astype(np.float32),
            labelled_labels=(rng.uniform(size=(20, K)) < 0.4).astype(np.int64),
            labelled_proba=rng.uniform(size=(20, K)).astype(np.float32),
        )
    if task == REGRESSION:
        def mean_std(*shape: int) -> np.ndarray:
            return np.stack([rng.normal(size=shape), rng.uniform(0.1, 2.0, size=shape)], axis=-1).astype(np.float32)

        return replace(
            inputs, proba=mean_std(n), committee=mean_std(5, n), mc_samples=mean_std(6, n),
            labelled_labels=rng.normal(size=20), labelled_proba=mean_std(20),
        )
    return inputs


def _classification_inputs(n: int, seed: int) -> StrategyInputs:
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.ones(K), size=n).astype(np.float32)
    history = History()
    history.append(1, rng.dirichlet(np.ones(K), size=n).astype(np.float32))
    samples = rng.dirichlet(np.ones(K), size=(6, n))
    return StrategyInputs(
        candidates=np.arange(n),
        proba=proba,
        features=rng.normal(size=(n, D)),
        labelled_features=rng.normal(size=(20, D)),
        embeddings=rng.normal(size=(n, D)).astype(np.float32),
        labelled_embeddings=rng.normal(size=(20, D)).astype(np.float32),
        committee=samples[:5],
        mc_samples=samples,
        history=history,
        token_marginals=_token_marginals(n, seed),
    )


def _rows(inputs: StrategyInputs, rows: slice) -> StrategyInputs:
    """The same inputs for a block of candidates only (per-candidate arrays cut along their candidate axis)."""
    return StrategyInputs(
        candidates=inputs.candidates[rows],
        proba=inputs.proba[rows],
        features=inputs.features[rows],
        labelled_features=inputs.labelled_features,
        embeddings=inputs.embeddings[rows],
        labelled_embeddings=inputs.labelled_embeddings,
        committee=inputs.committee[:, rows],
        mc_samples=inputs.mc_samples[:, rows],
        history=inputs.history,
        token_marginals=inputs.token_marginals.take(rows),
        labelled_labels=inputs.labelled_labels,
        labelled_proba=inputs.labelled_proba,
    )


def _chunked_scores(strategy: Strategy, inputs: StrategyInputs, size: int) -> np.ndarray:
    n = len(inputs.candidates)
    return np.concatenate([np.asarray(strategy.score(_rows(inputs, slice(s, s + size)))) for s in range(0, n, size)])


def _names(**wanted: Any) -> list[str]:
    """Registered names whose declaration has every field equal to ``wanted``."""
    return [c.name for c in registered_classes() if all(getattr(c.capabilities, f) == v for f, v in wanted.items())]


@pytest.mark.parametrize("name", available())
def test_every_registered_strategy_declares_its_capabilities(name: str) -> None:
    cls = strategy_class(name)
    assert cls.name == name
    declared = [c for c in cls.__mro__ if c is not Strategy and "capabilities" in vars(c)]
    assert declared, f"{cls.__name__} inherits the base class's empty declaration; give it `capabilities = Capabilities(...)`"
    caps = capabilities(cls)
    assert isinstance(caps, Capabilities)
    assert caps.tasks and caps.tasks <= TASKS
    info = describe(make_strategy(name))
    assert info["name"] == name and info["requires"] == sorted(make_strategy(name).requires)


def test_the_registry_table_names_every_class_by_its_own_name() -> None:
    assert set(BUILTIN) <= set(available())
    for name in BUILTIN:
        assert strategy_class(name).name == name


@pytest.mark.parametrize("name", _names(row_local=True))
def test_a_row_local_strategy_scores_the_same_in_chunks_as_whole(name: str) -> None:
    strategy = make_strategy(name)
    inputs = _inputs(task=_task(name))
    whole = np.asarray(strategy.score(inputs))
    for size in (1, 7, 100):
        assert np.array_equal(_chunked_scores(strategy, inputs, size), whole), size
    # And it streams: the running top k over chunks is the whole selection.
    chunks = [_rows(inputs, slice(s, s + 50)) for s in range(0, N, 50)]
    expected = strategy.select(inputs, 30, np.random.default_rng(2))
    got = select_streaming(strategy, chunks, 30, np.random.default_rng(2))
    assert np.array_equal(got.positions, expected.positions)


@pytest.mark.parametrize("name", _names(row_local=False, ranks=True))
def test_a_ranking_strategy_not_declared_row_local_does_score_differently_in_chunks(name: str) -> None:
    # The declaration is not merely cautious: a pool-wide term really changes the scores of a chunk alone.
    strategy = make_strategy(name)
    inputs = _inputs(task=_task(name))
    assert not np.allclose(_chunked_scores(strategy, inputs, 60), np.asarray(strategy.score(inputs)))
    with pytest.raises(ValueError, match="cannot stream"):
        ChunkedScorer(strategy)


@pytest.mark.parametrize("name", _names(ranks=True))
def test_a_ranking_strategy_selects_the_top_of_its_scores(name: str) -> None:
    strategy = make_strategy(name)
    inputs = _inputs(task=_task(name))
    scores = np.asarray(strategy.score(inputs), dtype=np.float64)
    selection = strategy.select(inputs, 25, np.random.default_rng(0))
    assert np.allclose(selection.scores, scores[selection.positions])
    rest = np.setdiff1d(np.arange(N), selection.positions)
    assert selection.scores.min() >= scores[rest].max()
    # A batch of every candidate is a ranking of them all, best first (what the server shows annotators).
    full = strategy.select(inputs, N, np.random.default_rng(0))
    assert sorted(full.positions.tolist()) == list(range(N))
    assert np.all(np.diff(full.scores) <= 0)


def test_strategies_that_override_select_do_not_claim_to_rank() -> None:
    for cls in registered_classes():
        if cls.capabilities.ranks:
            assert cls.select is Strategy.select, cls.name


LOOP_ZERO = loop_zero_strategies()


def test_the_cold_start_methods_are_loop_zero_strategies() -> None:
    assert {"random", "diverse", "typiclust", "probcover", "kcenter"} <= set(LOOP_ZERO)
    assert "margin" not in LOOP_ZERO and "badge" not in LOOP_ZERO


@pytest.mark.parametrize("name", LOOP_ZERO)
def test_a_loop_zero_strategy_selects_with_no_labels_and_no_model(name: str) -> None:
    strategy = make_strategy(name)
    assert set(strategy.requires) <= {FEATURES}
    X = _inputs().features
    bare = StrategyInputs(candidates=np.arange(N), features=X if FEATURES in strategy.requires else None)
    selection = strategy.select(bare, 15, np.random.default_rng(3))
    assert selection.positions.shape == (15,) and len(set(selection.positions.tolist())) == 15
    assert selection.positions.min() >= 0 and selection.positions.max() < N
    again = StrategyInit(name).select(X, np.arange(N).astype(str), 15, np.random.default_rng(3))
    assert np.array_equal(again, selection.positions)


@pytest.mark.parametrize("name", sorted(set(available()) - set(LOOP_ZERO)))
def test_a_strategy_that_needs_a_model_is_refused_for_loop_zero(name: str) -> None:
    with pytest.raises(ConfigError, match=f"strategy {name!r} cannot choose loop 0: .*loop-0 strategies: .*typiclust"):
        loop_zero_strategy(name)


def _pool_and_model(n: int = 600) -> tuple[np.ndarray, Any]:
    rng = np.random.default_rng(5)
    y = rng.integers(0, K, n)
    X = (rng.normal(scale=3, size=(K, D))[y] + rng.normal(size=(n, D))).astype(np.float32)
    X[100:140] = X[0]  # tied rows for the merged top-k to break as the whole does
    model = as_learner(LogisticRegression(max_iter=300), K)
    model.fit(X[:80], y[:80])
    return X, model


def _in_process(strategy: Strategy, model: Any, X: np.ndarray, candidates: np.ndarray, labelled: np.ndarray, k: int) -> Selection:
    proba = model.predict_proba(X).astype(np.float32)
    inputs = StrategyInputs(candidates=candidates, proba=proba[candidates], features=X[candidates], labelled_features=X[labelled])
    return strategy.select(inputs, k, np.random.default_rng(9))


@pytest.mark.parametrize("name", available())
def test_executors_run_exactly_the_strategies_that_declare_a_partitioning(name: str) -> None:
    X, model = _pool_and_model()
    labelled = np.arange(0, 600, 7)
    candidates = np.setdiff1d(np.arange(600), labelled)
    strategy = make_strategy(name)
    if capabilities(strategy).partition is None:
        with pytest.raises(ConfigError, match=f"strategy {name!r} cannot run on partitions.*kcenter.*margin"):
            LocalExecutor(3).propose(strategy, model, X, candidates, labelled, 20, np.random.default_rng(9))
        return
    got, _ = LocalExecutor(3).propose(strategy, model, X, candidates, labelled, 20, np.random.default_rng(9))
    expected = _in_process(strategy, model, X, candidates, labelled, 20)
    assert np.array_equal(got.positions, expected.positions)
    assert np.array_equal(got.scores, expected.scores)


class _SecondBest(Strategy):
    """A strategy of a user's own: the second class's probability. Row-local and declared so."""

    name = "test_capabilities_second_best"
    requires = frozenset({PROBA})
    capabilities = Capabilities(row_local=True, ranks=True, partition=TOP_K)

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        return np.sort(inputs.require(PROBA), axis=1)[:, -2]


class _Undeclared(_SecondBest):
    """The same scores with nothing claimed: the executors and streaming must refuse it."""

    name = "test_capabilities_undeclared"
    capabilities = Capabilities()


def test_a_new_strategy_is_run_by_its_declaration_not_its_name() -> None:
    X, model = _pool_and_model()
    labelled = np.arange(50)
    candidates = np.arange(50, 600)
    with registered(_SecondBest), registered(_Undeclared):
        declared = make_strategy("test_capabilities_second_best")
        got, _ = LocalExecutor(4).propose(declared, model, X, candidates, labelled, 15, np.random.default_rng(9))
        assert np.array_equal(got.positions, _in_process(declared, model, X, candidates, labelled, 15).positions)
        assert "test_capabilities_second_best" in row_local_names()
        undeclared = make_strategy("test_capabilities_undeclared")
        with pytest.raises(ConfigError, match="cannot run on partitions"):
            LocalExecutor(4).propose(undeclared, model, X, candidates, labelled, 15, np.random.default_rng(9))
        with pytest.raises(ValueError, match="cannot stream"):
            ChunkedScorer(undeclared)
        with pytest.raises(ConfigError, match="cannot choose loop 0"):
            loop_zero_strategy("test_capabilities_second_best")
    assert "test_capabilities_second_best" not in available()


def test_inconsistent_declarations_are_refused() -> None:
    with pytest.raises(ValueError, match="declare row_local=True and ranks=True"):
        Capabilities(partition=TOP_K)
    with pytest.raises(ValueError, match="partition must be one of"):
        Capabilities(partition="spark")
    with pytest.raises(ValueError, match="tasks must be a non-empty subset"):
        Capabilities(tasks=frozenset({"ranking"}))

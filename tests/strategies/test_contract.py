"""The contract every registered strategy must keep (run over the whole registry)."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest

from loopwise.core.tokens import TokenMarginals
from loopwise.errors import ConfigError
from loopwise.strategies import (
    CLASSIFICATION,
    MULTILABEL,
    REGRESSION,
    History,
    StrategyInputs,
    available,
    make_strategy,
    strategy_class,
)

N_POOL, N_CLASSES, N_FEATURES = 120, 4, 5


def _token_marginals(n: int, seed: int) -> TokenMarginals:
    """Tag marginals of ``n`` sentences of 1-12 tokens over 5 tags (own generator: the other inputs stay as they were)."""
    rng = np.random.default_rng([seed, 14])
    sentences = [rng.dirichlet(np.full(5, 0.5), size=int(rng.integers(1, 13))) for _ in range(n)]
    return TokenMarginals.from_sentences(sentences, rng.uniform(0.05, 1.0, size=n))


def _inputs(seed: int = 0, task: str = CLASSIFICATION) -> StrategyInputs:
    """Inputs over 90 candidates; labels and model outputs in the form of ``task`` (see test_capabilities)."""
    inputs = _classification_inputs(seed)
    rng = np.random.default_rng([seed, 15])
    n = len(inputs.candidates)
    if task == MULTILABEL:
        return replace(
            inputs, proba=rng.uniform(size=(n, N_CLASSES)), labelled_labels=(rng.uniform(size=(30, N_CLASSES)) < 0.4).astype(np.int64),
            labelled_proba=rng.uniform(size=(30, N_CLASSES)),
        )
    if task == REGRESSION:
        def mean_std(*shape: int) -> np.ndarray:
            return np.stack([rng.normal(size=shape), rng.uniform(0.1, 2.0, size=shape)], axis=-1)

        return replace(inputs, proba=mean_std(n), committee=mean_std(5, n), labelled_labels=rng.normal(size=30), labelled_proba=mean_std(30))
    return inputs


def _task_of(name: str) -> str:
    tasks = strategy_class(name).capabilities.tasks
    return CLASSIFICATION if CLASSIFICATION in tasks else sorted(tasks)[0]


def _classification_inputs(seed: int = 0) -> StrategyInputs:
    rng = np.random.default_rng(seed)
    candidates = np.sort(rng.choice(N_POOL, size=90, replace=False))
    proba = rng.dirichlet(np.ones(N_CLASSES), size=len(candidates))
    history = History()
    history.append(1, rng.dirichlet(np.ones(N_CLASSES), size=N_POOL).astype(np.float32))
    return StrategyInputs(
        candidates=candidates,
        proba=proba,
        features=rng.normal(size=(len(candidates), N_FEATURES)),
        labelled_features=rng.normal(size=(30, N_FEATURES)),
        embeddings=rng.normal(size=(len(candidates), N_FEATURES)).astype(np.float32),
        labelled_embeddings=rng.normal(size=(30, N_FEATURES)).astype(np.float32),
        committee=rng.dirichlet(np.ones(N_CLASSES), size=(5, len(candidates))),
        history=history,
        mc_samples=rng.dirichlet(np.ones(N_CLASSES), size=(8, len(candidates))),
        token_marginals=_token_marginals(len(candidates), seed),
    )


@pytest.fixture(params=available())
def strategy_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.mark.parametrize("batch_size", [1, 10, 90])
def test_selects_the_right_number_of_distinct_candidates(strategy_name: str, batch_size: int) -> None:
    inputs = _inputs(task=_task_of(strategy_name))
    sel = make_strategy(strategy_name).select(inputs, batch_size, np.random.default_rng(0))
    assert sel.positions.shape == (batch_size,)
    assert len(np.unique(sel.positions)) == batch_size
    assert sel.positions.min() >= 0 and sel.positions.max() < len(inputs.candidates)
    assert sel.scores.shape == (batch_size,)


def test_seeded_reproducibility(strategy_name: str) -> None:
    inputs = _inputs(task=_task_of(strategy_name))
    s = make_strategy(strategy_name)
    a = s.select(inputs, 15, np.random.default_rng(7)).positions
    b = s.select(inputs, 15, np.random.default_rng(7)).positions
    assert np.array_equal(a, b)


def test_inputs_are_not_mutated(strategy_name: str) -> None:
    inputs = _inputs(task=_task_of(strategy_name))
    before = copy.deepcopy(inputs)
    make_strategy(strategy_name).select(inputs, 12, np.random.default_rng(0))
    fields = ("candidates", "proba", "features", "embeddings", "committee", "labelled_embeddings", "labelled_features", "mc_samples")
    fields += ("labelled_labels", "labelled_proba")
    for field in fields:
        assert np.array_equal(getattr(inputs, field), getattr(before, field)), field
    for part in ("values", "offsets", "path_proba"):
        assert np.array_equal(getattr(inputs.token_marginals, part), getattr(before.token_marginals, part)), part
    assert np.array_equal(inputs.history.proba_by_loop[0], before.history.proba_by_loop[0])


def test_chunked_equals_whole(strategy_name: str) -> None:
    s = make_strategy(strategy_name)
    if "chunk_size" not in s.get_params():
        pytest.skip(f"{strategy_name} scores the batch as a whole")
    inputs = _inputs(task=_task_of(strategy_name))
    whole = s.select(inputs, 20, np.random.default_rng(3))
    chunked = make_strategy(strategy_name, chunk_size=7).select(inputs, 20, np.random.default_rng(3))
    assert np.array_equal(whole.positions, chunked.positions)
    assert np.allclose(whole.scores, chunked.scores)


def test_requires_only_known_inputs(strategy_name: str) -> None:
    from loopwise.strategies import KNOWN_REQUIREMENTS

    assert set(make_strategy(strategy_name).requires) <= KNOWN_REQUIREMENTS


def test_informative_strategies_prefer_uncertain_records() -> None:
    inputs = _inputs()
    confident = np.zeros_like(inputs.proba)
    confident[:, 0] = 1.0
    confident[5] = 1.0 / N_CLASSES  # one maximally uncertain candidate
    sure = StrategyInputs(candidates=inputs.candidates, proba=confident, features=inputs.features)
    for name in ("least_confidence", "margin", "entropy", "information_density"):
        assert make_strategy(name).select(sure, 1, np.random.default_rng(0)).positions[0] == 5, name


def test_unknown_strategy_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown strategy 'nope'; known strategies: .*margin"):
        make_strategy("nope")

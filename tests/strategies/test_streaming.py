"""Streaming selection over chunks of model output equals selection over the whole output."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from loopwise.core.tokens import TokenMarginals
from loopwise.loop import LinearSoftmax, iter_proba, predict_proba_pool
from loopwise.strategies import (
    ChunkedScorer,
    StrategyInputs,
    entropy,
    is_row_local,
    least_confidence,
    make_strategy,
    margin,
    row_local_names,
    select_streaming,
)


def _textbook(proba: np.ndarray) -> dict[str, np.ndarray]:
    """The scoring functions as first written (row reductions), for the fast versions to match bit for bit."""
    top2 = np.partition(proba, proba.shape[1] - 2, axis=1)[:, -2:] if proba.shape[1] > 1 else None
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(proba > 0, np.log(np.where(proba > 0, proba, 1.0)), 0.0)
    return {
        "least_confidence": 1.0 - proba.max(axis=1),
        "margin": 1.0 - (top2[:, 1] - top2[:, 0]) if top2 is not None else np.zeros(len(proba), proba.dtype),
        "entropy": -(proba * logp).sum(axis=1),
    }


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40_000),
    k=st.integers(1, 40),
    float32=st.booleans(),
    layout=st.sampled_from(["C", "F", "strided"]),
    seed=st.integers(0, 999),
)
def test_fast_scores_equal_the_textbook_ones(n: int, k: int, float32: bool, layout: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.full(k, 0.3), size=n).astype(np.float32 if float32 else np.float64)
    if n > 2:
        proba[1] = proba[0]
        proba[2] = 0.0
        proba[2, 0] = 1.0
    if layout == "F":
        proba = np.asfortranarray(proba)
    elif layout == "strided":
        proba = proba[::2]
    expected = _textbook(proba)
    for name, fn in (("least_confidence", least_confidence), ("margin", margin), ("entropy", entropy)):
        got = fn(proba)
        assert got.dtype == expected[name].dtype
        assert np.array_equal(got, expected[name]), name


@pytest.mark.parametrize("name", row_local_names())
def test_row_local_strategies_stream_to_the_whole_selection(name: str) -> None:
    rng = np.random.default_rng(0)
    n = 3000
    proba = rng.dirichlet(np.ones(6), size=n).astype(np.float32)
    proba[100:400] = proba[0]  # a block of ties for the generator to break
    committee = rng.dirichlet(np.ones(6), size=(5, n))
    sentences = [rng.dirichlet(np.ones(5), size=int(rng.integers(1, 9))) for _ in range(n)]
    sentences[100:400] = [sentences[0]] * 300  # the same ties for the sentence strategies
    tokens = TokenMarginals.from_sentences(sentences, np.r_[np.full(400, 0.5), rng.uniform(size=n - 400)])
    features = rng.normal(size=(n, 4))
    features[100:400] = features[0]
    # The labelled records' 0/1 label rows and outputs (multilabel strategies read them with the marginals).
    labelled = {"labelled_labels": (rng.uniform(size=(20, 6)) < 0.4).astype(np.int64), "labelled_proba": rng.uniform(size=(20, 6))}
    whole = StrategyInputs(
        candidates=np.arange(n), proba=proba, committee=committee, mc_samples=committee, token_marginals=tokens,
        features=features, **labelled,
    )
    strategy = make_strategy(name)
    expected = strategy.select(whole, 150, np.random.default_rng(4))
    chunks = [
        StrategyInputs(
            candidates=np.arange(s, min(n, s + 700)), proba=proba[s : s + 700], committee=committee[:, s : s + 700],
            mc_samples=committee[:, s : s + 700], token_marginals=tokens.take(slice(s, s + 700)),
            features=features[s : s + 700], **labelled,
        )
        for s in range(0, n, 700)
    ]
    got = select_streaming(strategy, chunks, 150, np.random.default_rng(4))
    assert np.array_equal(got.positions, expected.positions)
    assert np.array_equal(got.scores, expected.scores)


def test_select_streaming_with_a_function_and_a_linear_model() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20_000, 16)).astype(np.float32)
    y = rng.integers(0, 5, 20_000)
    estimator = LogisticRegression(max_iter=200).fit(X[:500], y[:500])
    model = LinearSoftmax.from_estimator(estimator, chunk_size=1500)
    proba = model.predict_proba(X)
    assert proba.dtype == np.float32
    assert np.allclose(proba, estimator.predict_proba(X), atol=1e-5)
    expected = make_strategy("least_confidence").select(StrategyInputs(candidates=np.arange(len(X)), proba=proba), 100, np.random.default_rng(2))
    got = select_streaming(least_confidence, iter_proba(model, X), 100, np.random.default_rng(2))
    assert np.array_equal(got.positions, expected.positions)
    assert np.array_equal(got.scores, expected.scores)
    assert np.array_equal(ChunkedScorer("least_confidence").select(model.predict_proba_chunks(X, 777), 100, np.random.default_rng(2)).positions, expected.positions)


def test_linear_softmax_binary_and_unseen_classes() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] > 0).astype(int) * 2  # classes 0 and 2 of 3
    estimator = LogisticRegression().fit(X, y)
    model = LinearSoftmax.from_estimator(estimator, n_classes=3)
    proba = model.predict_proba(X)
    assert proba.shape == (300, 3) and np.all(proba[:, 1] == 0)
    assert np.allclose(proba[:, [0, 2]], estimator.predict_proba(X), atol=1e-5)


def test_pool_probabilities_chunked_equal_whole() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5000, 8))
    estimator = LogisticRegression(max_iter=300).fit(X[:300], rng.integers(0, 4, 300))
    whole = estimator.predict_proba(X).astype(np.float32)
    assert np.array_equal(predict_proba_pool(estimator, X, chunk_size=333), whole)
    assert np.array_equal(np.concatenate(list(iter_proba(estimator, X, 1000))), whole)


def test_batch_aware_strategies_refuse_to_stream() -> None:
    assert is_row_local(make_strategy("margin"))
    assert not is_row_local(make_strategy("kcenter"))
    assert not is_row_local(make_strategy("information_density"))
    with pytest.raises(ValueError, match="cannot stream"):
        ChunkedScorer("badge")

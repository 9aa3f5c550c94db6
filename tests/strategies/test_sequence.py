"""Sentence-level strategies over per-token marginals, against brute force and SciPy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import entropy as scipy_entropy

from loopwise.core.tokens import TokenMarginals
from loopwise.errors import DataError
from loopwise.strategies import StrategyInputs, make_strategy, serves_task
from loopwise.strategies._sequence import sequence_least_confidence, sequence_margin, token_entropy


def _independent(sentences: list[np.ndarray]) -> TokenMarginals:
    """Marginals of a per-token model, whose best path has probability the product of the per-token maxima."""
    return TokenMarginals.from_sentences(sentences, [float(np.prod(s.max(axis=1))) for s in sentences])


@st.composite
def _sentences(draw: st.DrawFn, max_tokens: int = 4, max_tags: int = 4) -> list[np.ndarray]:
    n_tags = draw(st.integers(2, max_tags))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(1, 6))
    return [rng.dirichlet(np.full(n_tags, 0.4), size=int(rng.integers(1, max_tokens + 1))) for _ in range(n)]


@settings(max_examples=60, deadline=None)
@given(_sentences())
def test_sequence_margin_is_exact_for_a_per_token_model(sentences: list[np.ndarray]) -> None:
    # Brute force: every tag sequence's probability under independent tokens; margin of the two best.
    marginals = _independent(sentences)
    expected = []
    for s in sentences:
        probs = sorted((float(np.prod([s[t, j] for t, j in enumerate(path)])) for path in itertools.product(range(s.shape[1]), repeat=len(s))), reverse=True)
        expected.append(1.0 - (probs[0] - probs[1]))
    assert np.allclose(sequence_margin(marginals), expected, atol=1e-6)
    best = [max(float(np.prod([s[t, j] for t, j in enumerate(p)])) for p in itertools.product(range(s.shape[1]), repeat=len(s))) for s in sentences]
    assert np.allclose(sequence_least_confidence(marginals), 1.0 - np.asarray(best), atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(_sentences(max_tokens=12, max_tags=9))
def test_token_entropy_reductions_equal_scipy_per_sentence(sentences: list[np.ndarray]) -> None:
    marginals = _independent(sentences)
    per_sentence = [scipy_entropy(np.asarray(s, dtype=np.float32).astype(np.float64), axis=1) for s in sentences]
    inputs = StrategyInputs(candidates=np.arange(len(sentences)), token_marginals=marginals)
    for name, reduce in (("token_entropy_mean", np.mean), ("token_entropy_max", np.max), ("token_entropy_sum", np.sum)):
        assert np.allclose(make_strategy(name).score(inputs), [reduce(e) for e in per_sentence], atol=1e-6), name
    assert np.allclose(token_entropy(marginals), np.concatenate(per_sentence), atol=1e-6)


def test_each_strategy_picks_the_sentence_it_should() -> None:
    sure = np.array([[0.98, 0.01, 0.01]] * 3)
    torn = np.array([[0.98, 0.01, 0.01], [0.34, 0.33, 0.33], [0.98, 0.01, 0.01]])  # one token in doubt
    long_sure = np.array([[0.9, 0.05, 0.05]] * 30)  # mildly unsure everywhere: largest total entropy
    marginals = _independent([sure, torn, long_sure])
    inputs = StrategyInputs(candidates=np.arange(3), token_marginals=marginals)
    rng = np.random.default_rng(0)
    picks = {name: int(make_strategy(name).select(inputs, 1, rng).positions[0]) for name in
             ("seq_least_confidence", "seq_margin", "token_entropy_mean", "token_entropy_max", "token_entropy_sum")}
    assert picks == {"seq_least_confidence": 2, "seq_margin": 1, "token_entropy_mean": 1, "token_entropy_max": 1, "token_entropy_sum": 2}


def test_entropy_kcenter_takes_uncertain_sentences_unlike_the_labelled_ones() -> None:
    rng = np.random.default_rng(3)
    n = 40
    sentences = [rng.dirichlet(np.full(3, 0.2 if i < 20 else 5.0), size=5) for i in range(n)]  # 20..39 uncertain
    features = rng.normal(size=(n, 4))
    features[20:30] = features[20] + 1e-3 * rng.normal(size=(10, 4))  # ten near-copies among the uncertain
    labelled = features[[20]]  # ...of a sentence already labelled
    inputs = StrategyInputs(candidates=np.arange(n), token_marginals=_independent(sentences), features=features, labelled_features=labelled)
    selection = make_strategy("seq_entropy_kcenter", factor=4).select(inputs, 5, np.random.default_rng(0))
    assert set(selection.positions.tolist()) <= set(range(30, 40))
    assert make_strategy("token_entropy_mean").select(inputs, 20, np.random.default_rng(0)).positions.min() >= 20


def test_sequence_strategies_serve_token_classification_only() -> None:
    for name in ("seq_least_confidence", "seq_margin", "token_entropy_mean", "token_entropy_max", "token_entropy_sum", "seq_entropy_kcenter"):
        strategy = make_strategy(name)
        assert serves_task(strategy, "token_classification") and not serves_task(strategy, "classification"), name
    with pytest.raises(ValueError, match="factor must be an integer >= 1, got 0"):
        make_strategy("seq_entropy_kcenter", factor=0)


def test_token_marginals_take_and_bad_shapes() -> None:
    rng = np.random.default_rng(1)
    sentences = [rng.dirichlet(np.ones(3), size=k) for k in (2, 1, 4, 3)]
    marginals = TokenMarginals.from_sentences(sentences, [0.1, 0.2, 0.3, 0.4])
    part = marginals.take(np.array([2, 0]))
    assert np.array_equal(part.sentence(0), sentences[2].astype(np.float32)) and np.array_equal(part.sentence(1), sentences[0].astype(np.float32))
    assert part.lengths.tolist() == [4, 2] and np.allclose(part.path_proba, [0.3, 0.1])
    assert marginals.take(slice(1, 3)).lengths.tolist() == [1, 4]
    with pytest.raises(DataError, match="sentence 1 has no tokens"):
        TokenMarginals(np.ones((2, 3), np.float32), np.array([0, 2, 2]), np.ones(2, np.float32))
    with pytest.raises(DataError, match="path_proba must hold one value per sentence \\(2\\)"):
        TokenMarginals(np.ones((3, 3), np.float32), np.array([0, 2, 3]), np.ones(3, np.float32))

"""BALD, mean STD and variation ratio over Monte-Carlo samples: known values, bounds, chunks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from loopwise.strategies import BALD, MC_SAMPLES, MeanSTD, StrategyInputs, VariationRatios, bald, entropy, mean_std, variation_ratio


@st.composite
def sample_stacks(draw: st.DrawFn) -> np.ndarray:
    t, n, k = draw(st.integers(2, 8)), draw(st.integers(1, 30)), draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return rng.dirichlet(np.ones(k) * draw(st.floats(0.1, 3)), size=(t, n))


@settings(max_examples=40, deadline=None)
@given(sample_stacks())
def test_bald_is_entropy_of_mean_minus_mean_entropy(samples: np.ndarray) -> None:
    t, n, k = samples.shape
    expected = entropy(samples.mean(0)) - np.mean([entropy(s) for s in samples], axis=0)
    assert np.allclose(bald(samples), np.maximum(expected, 0), atol=1e-12)
    assert np.all(bald(samples) <= np.log(k) + 1e-9)
    assert np.all((variation_ratio(samples) >= 0) & (variation_ratio(samples) <= 1 - 1 / k + 1e-12))
    assert np.all(mean_std(samples) >= 0)
    for fn in (bald, mean_std, variation_ratio):
        assert np.allclose(np.concatenate([fn(samples[:, :2]), fn(samples[:, 2:])]), fn(samples))


def test_all_zero_when_the_samples_agree() -> None:
    p = np.random.default_rng(0).dirichlet(np.ones(4), size=10)
    agree = np.stack([p] * 5)
    assert np.allclose(bald(agree), 0, atol=1e-12) and np.allclose(mean_std(agree), 0) and np.all(variation_ratio(agree) == 0)


def test_known_values() -> None:
    split = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])  # two confident samples that disagree
    assert np.isclose(bald(split)[0], np.log(2))
    assert np.isclose(mean_std(split)[0], 0.5)
    assert variation_ratio(split)[0] == 0.5
    votes = np.array([[[0.6, 0.4]], [[0.7, 0.3]], [[0.2, 0.8]]])
    assert np.isclose(variation_ratio(votes)[0], 1 - 2 / 3)


def test_strategies_pick_the_disagreement_and_ask_for_samples() -> None:
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(3) * 5, size=20)
    samples = np.stack([p] * 6)
    samples[:, 4] = np.eye(3)[[0, 1, 2, 0, 1, 2]]  # record 4: confident members that disagree
    inputs = StrategyInputs(candidates=np.arange(20), mc_samples=samples)
    for cls in (BALD, MeanSTD, VariationRatios):
        strategy = cls(n_samples=6)
        assert strategy.requires == frozenset({MC_SAMPLES}) and strategy.n_members == 6
        assert strategy.select(inputs, 1, np.random.default_rng(0)).positions[0] == 4
        chunked = cls(chunk_size=3).select(inputs, 5, np.random.default_rng(0))
        assert np.array_equal(chunked.positions, cls().select(inputs, 5, np.random.default_rng(0)).positions)

"""Bayesian disagreement over Monte-Carlo samples of the predictive distribution: BALD, mean STD, variation ratio."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from loopwise.strategies._capabilities import Capabilities
from loopwise.strategies._base import MC_SAMPLES, Strategy, StrategyInputs
from loopwise.strategies._pairwise import check_chunk_size, chunks
from loopwise.strategies._uncertainty import entropy


def _samples(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 3:
        raise ValueError(f"samples must be n_samples x n_candidates x k, got shape {samples.shape}")
    return samples


def bald(samples: np.ndarray) -> np.ndarray:
    """Mutual information between the label and the model: ``H(mean_t p_t) - mean_t H(p_t)`` (Houlsby et al. 2011).

    High when each sample is confident but the samples disagree; zero when
    they agree. ``samples`` is ``n_samples x n_candidates x k``.
    """
    samples = _samples(samples)
    t, n, k = samples.shape
    expected_entropy = entropy(samples.reshape(t * n, k)).reshape(t, n).mean(axis=0)
    return np.maximum(entropy(samples.mean(axis=0)) - expected_entropy, 0.0)


def mean_std(samples: np.ndarray) -> np.ndarray:
    """Standard deviation of each class probability across samples, averaged over classes (Kampffmeyer et al. 2016)."""
    return _samples(samples).std(axis=0).mean(axis=1)


def variation_ratio(samples: np.ndarray) -> np.ndarray:
    """``1 - (votes for the modal class) / n_samples`` over the samples' hard predictions (Freeman 1965)."""
    samples = _samples(samples)
    t, n, k = samples.shape
    votes = samples.argmax(axis=2)
    counts = np.zeros((n, k), dtype=np.int64)
    np.add.at(counts, (np.broadcast_to(np.arange(n), votes.shape).ravel(), votes.ravel()), 1)
    return 1.0 - counts.max(axis=1) / t


def _over_candidates(fn: Callable[[np.ndarray], np.ndarray], samples: np.ndarray, chunk_size: int | None) -> np.ndarray:
    """``fn`` applied to candidate chunks (axis 1); equals ``fn(samples)``."""
    n = samples.shape[1]
    if chunk_size is None or chunk_size >= n:
        return fn(samples)
    return np.concatenate([fn(samples[:, rows]) for rows in chunks(n, chunk_size)])


class _MonteCarloStrategy(Strategy):
    requires = frozenset({MC_SAMPLES})
    # Row-local, but the samples come from the loop (or its bagged committee), so not on partitions.
    capabilities = Capabilities(row_local=True, ranks=True)
    _score_fn = staticmethod(bald)

    def __init__(self, n_samples: int = 10, chunk_size: int | None = None) -> None:
        if n_samples < 2:
            raise ValueError(f"n_samples must be at least 2, got {n_samples!r}")
        check_chunk_size(chunk_size)
        self.n_samples = n_samples
        self.chunk_size = chunk_size

    @property
    def n_members(self) -> int:
        """Committee size when the loop falls back to a bagged committee for the samples."""
        return self.n_samples

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        return _over_candidates(self._score_fn, inputs.require(MC_SAMPLES), self.chunk_size)


class BALD(_MonteCarloStrategy):
    """Bayesian Active Learning by Disagreement (Houlsby, Huszár, Ghahramani & Lengyel 2011; Gal et al. 2017).

    The loop asks the learner for ``n_samples`` draws through
    ``predict_proba_samples(X, n_samples, rng)`` (MC dropout, an ensemble,
    a posterior); a learner without one gets a bagged committee of
    ``n_samples`` bootstrap replicas instead.
    """

    name = "bald"
    _score_fn = staticmethod(bald)


class MeanSTD(_MonteCarloStrategy):
    """Mean standard deviation of the class probabilities over Monte-Carlo samples (Kampffmeyer et al. 2016)."""

    name = "mean_std"
    _score_fn = staticmethod(mean_std)


class VariationRatios(_MonteCarloStrategy):
    """Variation ratio of the samples' votes (Freeman 1965; Gal, Islam & Ghahramani 2017); ties broken by the seeded generator."""

    name = "variation_ratio"
    _score_fn = staticmethod(variation_ratio)

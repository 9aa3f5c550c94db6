"""Sentence-level strategies for token classification over per-token marginals (Settles & Craven 2008).

Each scores a sentence from the tag marginals of its own tokens, so all are
row-local rankings; what a sentence costs to label (its tokens) is the loop's
business, not the score's. ``SequenceEntropyKCenter`` adds diversity over
sentence vectors (the pool's TF-IDF rows or embeddings).
"""

from __future__ import annotations

import numpy as np

from loopwise.core.records import Selection
from loopwise.core.tokens import TokenMarginals
from loopwise.core.topk import top_k
from loopwise.strategies._base import FEATURES, TOKEN_MARGINALS, Strategy, StrategyInputs
from loopwise.strategies._capabilities import TOKEN_CLASSIFICATION, Capabilities
from loopwise.strategies._kcenter import k_center_greedy
from loopwise.strategies._pairwise import check_use, vectors

_SENTENCES = Capabilities(row_local=True, ranks=True, tasks=frozenset({TOKEN_CLASSIFICATION}))


def token_entropy(marginals: TokenMarginals) -> np.ndarray:
    """Shannon entropy (nats) of each token's tag distribution: one value per token row."""
    p = np.asarray(marginals.values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    return np.asarray(-terms.sum(axis=1))


def sequence_least_confidence(marginals: TokenMarginals) -> np.ndarray:
    """``1 - P(y* | x)`` for the most likely tag sequence ``y*`` (Settles & Craven 2008, LC)."""
    return np.asarray(1.0 - np.asarray(marginals.path_proba, dtype=np.float64))


def sequence_margin(marginals: TokenMarginals) -> np.ndarray:
    """``1 - (P(y*) - P(y2))``, with ``y2`` the best sequence that differs from ``y*`` (Settles & Craven 2008, M).

    ``P(y2)`` is estimated from the marginals: ``y2`` changes the one token
    whose runner-up tag is closest to its best, so ``P(y2) = P(y*) *
    max_t p2_t / p1_t``. This is exact for a per-token model and the usual
    approximation for a CRF, whose exact second-best path would need N-best
    decoding that CRFsuite does not offer.
    """
    p = np.asarray(marginals.values, dtype=np.float64)
    if p.shape[1] < 2:
        return np.zeros(len(marginals))
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    ratio = np.divide(top2[:, 0], top2[:, 1], out=np.ones(len(p)), where=top2[:, 1] > 0)
    best = np.asarray(marginals.path_proba, dtype=np.float64)
    return np.asarray(1.0 - best * (1.0 - marginals.reduce(ratio, "max")))


class _SentenceScore(Strategy):
    """A sentence strategy that ranks by one score computed from the sentence's own marginals."""

    requires = frozenset({TOKEN_MARGINALS})
    capabilities = _SENTENCES

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        marginals: TokenMarginals = inputs.require(TOKEN_MARGINALS)
        if len(marginals) != len(inputs.candidates):
            raise ValueError(f"token_marginals cover {len(marginals)} sentences for {len(inputs.candidates)} candidates")
        return self._score(marginals)

    def _score(self, marginals: TokenMarginals) -> np.ndarray:
        raise NotImplementedError


class SequenceLeastConfidence(_SentenceScore):
    """Least confidence of the best tag sequence (Settles & Craven 2008, "An Analysis of Active Learning Strategies for Sequence Labeling Tasks")."""

    name = "seq_least_confidence"
    capabilities = _SENTENCES

    def _score(self, marginals: TokenMarginals) -> np.ndarray:
        return sequence_least_confidence(marginals)


class SequenceMargin(_SentenceScore):
    """Margin between the best and second-best tag sequences (Settles & Craven 2008; second best estimated from marginals)."""

    name = "seq_margin"
    capabilities = _SENTENCES

    def _score(self, marginals: TokenMarginals) -> np.ndarray:
        return sequence_margin(marginals)


class TokenEntropyMean(_SentenceScore):
    """Mean token entropy of the sentence: uncertainty per token labelled (Settles & Craven 2008, normalised TE)."""

    name = "token_entropy_mean"
    capabilities = _SENTENCES

    def _score(self, marginals: TokenMarginals) -> np.ndarray:
        return marginals.reduce(token_entropy(marginals), "mean")


class TokenEntropyMax(_SentenceScore):
    """Largest token entropy in the sentence: its single most uncertain token."""

    name = "token_entropy_max"
    capabilities = _SENTENCES

    def _score(self, marginals: TokenMarginals) -> np.ndarray:
        return marginals.reduce(token_entropy(marginals), "max")


class TokenEntropySum(_SentenceScore):
    """Total token entropy of the sentence (Settles & Craven 2008, TE): favours long sentences, which cost more."""

    name = "token_entropy_sum"
    capabilities = _SENTENCES

    def _score(self, marginals: TokenMarginals) -> np.ndarray:
        return marginals.reduce(token_entropy(marginals), "sum")


class SequenceEntropyKCenter(Strategy):
    """Uncertain and diverse: the ``factor * batch`` sentences of highest mean token entropy, then greedy k-center among them.

    The two-step "uncertainty, then diversity" of Shen et al. 2017 ("Deep
    Active Learning for Named Entity Recognition") and Zhdanov 2019, with
    k-center over sentence vectors (``use="features"``: the pool's rows, TF-IDF
    of the sentence in ``loopwise.sequence``; ``"embeddings"``: a learner's
    ``embed()``); the labelled sentences are centres already, so a batch
    avoids sentences like those labelled.
    """

    name = "seq_entropy_kcenter"
    capabilities = Capabilities(tasks=frozenset({TOKEN_CLASSIFICATION}))

    def __init__(self, factor: int = 5, use: str = FEATURES) -> None:
        if not isinstance(factor, int) or isinstance(factor, bool) or factor < 1:
            raise ValueError(f"factor must be an integer >= 1, got {factor!r}")
        check_use(use)
        self.factor = factor
        self.use = use

    @property
    def requires(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset({TOKEN_MARGINALS, self.use})

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        marginals: TokenMarginals = inputs.require(TOKEN_MARGINALS)
        entropy = marginals.reduce(token_entropy(marginals), "mean")
        shortlist = np.asarray(top_k(entropy, min(len(entropy), self.factor * batch_size), rng), dtype=np.int64)
        X, labelled = vectors(inputs, self.use)
        picks = k_center_greedy(X[shortlist], labelled, batch_size, rng=rng)
        positions = shortlist[picks]
        return Selection(positions=positions, scores=entropy[positions])


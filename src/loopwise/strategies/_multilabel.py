"""Multi-label strategies over the label marginals (``proba`` is ``n x L``: ``P(label j) `` per record).

Brinker (2006), "On active learning in multi-label classification" (binary-relevance uncertainty,
averaged or the minimum margin over labels); Yang, Sun, Wang, Chen & Zhu (2009), "Effective multi-label
active learning for text classification" (MMC: maximum loss reduction with maximal confidence);
Li & Guo (2013), "Active learning with multi-label SVM classification" (label cardinality inconsistency);
Reyes, Morell & Ventura (2018), "Effective active learning strategy for multi-label learning" (CVIRS).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from loopwise.strategies._base import FEATURES, LABELS, PROBA, Strategy, StrategyInputs, score_in_chunks
from loopwise.strategies._capabilities import MULTILABEL, TOP_K, Capabilities

_MULTILABEL = frozenset({MULTILABEL})
_EPS = 1e-12


def _margins(proba: np.ndarray) -> np.ndarray:
    """``|P(j) - P(not j)| = |2 P(j) - 1|`` per record and label: 0 when the label is a coin toss."""
    return np.abs(2.0 * np.asarray(proba, dtype=np.float64) - 1.0)


def mean_uncertainty(proba: np.ndarray) -> np.ndarray:
    """``1 - mean_j |2p_j - 1|``: binary-relevance uncertainty averaged over labels."""
    return np.asarray(1.0 - _margins(proba).mean(axis=1))


def min_margin(proba: np.ndarray) -> np.ndarray:
    """``1 - min_j |2p_j - 1|``: the label the model is least sure of decides."""
    return np.asarray(1.0 - _margins(proba).min(axis=1))


def cardinality_inconsistency(proba: np.ndarray, labelled: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """``|#{j: p_j > threshold} - mean labels per labelled record|``: a predicted label count unlike the data's."""
    cardinality = float(np.asarray(labelled).sum(axis=1).mean()) if len(labelled) else 0.0
    return np.asarray(np.abs((np.asarray(proba) > threshold).sum(axis=1) - cardinality), dtype=np.float64)


def mmc_scores(proba: np.ndarray, labelled_proba: np.ndarray, labelled: np.ndarray, seed: int = 0) -> np.ndarray:
    """Expected loss reduction with the label count predicted from the sorted marginals (Yang et al. 2009).

    A logistic regression learns, on the labelled records, how many labels a record has from its
    marginals sorted in descending order; a candidate's ``m`` most likely labels are taken as its labels,
    and its score is the binary loss they imply, ``sum_j (1 - y_j f_j) / 2`` with ``f_j = 2 p_j - 1``.
    With a single label count among the labelled records, that count stands for every candidate.
    """
    P = np.asarray(proba, dtype=np.float64)
    order = np.argsort(-P, axis=1, kind="stable")
    counts = np.asarray(labelled).sum(axis=1).astype(np.int64)
    if len(np.unique(counts)) < 2:
        m = np.full(len(P), counts[0] if len(counts) else 1, dtype=np.int64)
    else:
        features = -np.sort(-np.asarray(labelled_proba, dtype=np.float64), axis=1)
        clf = LogisticRegression(max_iter=1000, random_state=seed).fit(features, counts)
        m = clf.predict(np.take_along_axis(P, order, axis=1)).astype(np.int64)
    m = np.clip(m, 1, P.shape[1])
    Y = -np.ones_like(P)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(P.shape[1])[None, :].repeat(len(P), axis=0), axis=1)
    Y[ranks < m[:, None]] = 1.0
    return np.asarray(((1.0 - Y * (2.0 * P - 1.0)) / 2.0).sum(axis=1))


def _ranking_scores(proba: np.ndarray) -> np.ndarray:
    """CVIRS's uncertainty: per label, candidates ranked by margin (most uncertain first), then the ranks
    aggregated as Borda counts, ``sum_j (N - rank_j) / (L (N - 1))`` in [0, 1]."""
    margins = _margins(proba)
    n, n_labels = margins.shape
    ranks = np.empty_like(margins)
    order = np.argsort(margins, axis=0, kind="stable")
    ranks[order, np.arange(n_labels)[None, :]] = np.arange(1, n + 1)[:, None]
    return np.asarray((n - ranks).sum(axis=1) / (n_labels * max(n - 1, 1)))


def _entropy(k: np.ndarray, n: np.ndarray | float) -> np.ndarray:
    ratio = np.asarray(k, dtype=np.float64) / (np.asarray(n, dtype=np.float64) + _EPS)
    return np.asarray(-ratio * np.log2(ratio + _EPS))


def vector_inconsistency(predicted: np.ndarray, labelled: np.ndarray) -> np.ndarray:
    """CVIRS's inconsistency: the mean normalised entropy distance from a candidate's predicted label vector to
    each labelled record's, 1 where the two vectors disagree on every label (Reyes et al. 2018, eq. 5-7)."""
    A = np.asarray(predicted, dtype=np.float64)
    B = np.asarray(labelled, dtype=np.float64)
    q = A.shape[1]
    a = A @ B.T  # both 1
    d = (1 - A) @ (1 - B).T  # both 0
    b = (1 - A) @ B.T
    c = A @ (1 - B).T
    h_a = (_entropy(A.sum(axis=1), q) + _entropy(q - A.sum(axis=1), q))[:, None]
    h_b = (_entropy(B.sum(axis=1), q) + _entropy(q - B.sum(axis=1), q))[None, :]
    joint = _entropy(b + c, q) + _entropy(a + d, q)
    joint += (b + c) / q * (_entropy(b, b + c) + _entropy(c, b + c))
    joint += (a + d) / q * (_entropy(a, a + d) + _entropy(d, a + d))
    distance = (2 * joint - h_a - h_b) / (joint + _EPS)
    distance[(b + c) == q] = 1.0
    return np.asarray(distance.mean(axis=1))


class _PerRecord(Strategy):
    requires = frozenset({PROBA})
    capabilities = Capabilities(row_local=True, ranks=True, partition=TOP_K, tasks=_MULTILABEL)

    def __init__(self, chunk_size: int | None = None) -> None:
        self.chunk_size = chunk_size


class MeanUncertainty(_PerRecord):
    """Binary-relevance uncertainty averaged over labels (Brinker 2006; the mean of each label's margin)."""

    name = "ml_mean_uncertainty"

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        return score_in_chunks(mean_uncertainty, inputs.require("proba"), self.chunk_size)


class MinMargin(_PerRecord):
    """Binary-relevance minimum margin over labels (Brinker 2006's "min" aggregation)."""

    name = "ml_min_margin"

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        return score_in_chunks(min_margin, inputs.require("proba"), self.chunk_size)


class MMC(Strategy):
    """Maximum loss reduction with maximal confidence (MMC; Yang et al. 2009), with the label count of each
    candidate predicted from its sorted marginals by a logistic regression fit on the labelled records."""

    name = "mmc"
    requires = frozenset({PROBA, LABELS})
    # The label-count model is fit on the labelled records alone, so a candidate's score is its own.
    capabilities = Capabilities(row_local=True, ranks=True, tasks=_MULTILABEL)

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        return mmc_scores(inputs.require("proba"), inputs.require("labelled_proba"), inputs.require("labelled_labels"))


class CardinalityInconsistency(Strategy):
    """Label cardinality inconsistency (Li & Guo 2013): the predicted number of labels far from the labelled
    records' mean number of labels."""

    name = "label_cardinality"
    requires = frozenset({PROBA, LABELS})
    capabilities = Capabilities(row_local=True, ranks=True, tasks=_MULTILABEL)

    def __init__(self, threshold: float = 0.5) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold!r}")
        self.threshold = threshold

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        return cardinality_inconsistency(inputs.require("proba"), inputs.require("labelled_labels"), self.threshold)


class CVIRS(Strategy):
    """Category vector inconsistency and ranking of scores (CVIRS; Reyes, Morell & Ventura 2018): rank-aggregated
    label margins times the entropy distance of the predicted label vector to the labelled ones."""

    name = "cvirs"
    requires = frozenset({PROBA, LABELS})
    capabilities = Capabilities(ranks=True, tasks=_MULTILABEL)

    def __init__(self, threshold: float = 0.5) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold!r}")
        self.threshold = threshold

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        proba = np.asarray(inputs.require("proba"), dtype=np.float64)
        predicted = (proba > self.threshold).astype(np.float64)
        return _ranking_scores(proba) * vector_inconsistency(predicted, inputs.require("labelled_labels"))


def text_view(texts: Any, labelled: Any = None, n_components: int = 50, seed: int = 0) -> np.ndarray:
    """Dense rows for ``texts``: TF-IDF (fit on candidates and labelled texts) reduced by truncated SVD.

    Numeric rows pass through unchanged, so the typicality below also serves vector learners.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    arr = np.asarray(texts, dtype=object) if not isinstance(texts, np.ndarray) else texts
    if arr.dtype != object and arr.dtype.kind not in "US":
        return np.asarray(arr, dtype=np.float32)
    docs = [str(t) for t in arr]
    extra = [] if labelled is None else [str(t) for t in np.asarray(labelled, dtype=object)]
    tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(docs + extra)
    M = tfidf.transform(docs)
    k = max(1, min(int(n_components), M.shape[1] - 1, M.shape[0] - 1))
    return np.asarray(TruncatedSVD(n_components=k, random_state=seed).fit_transform(M), dtype=np.float32)


class TypicalMMC(Strategy):
    """MMC restricted to typical candidates: only the ``fraction`` of candidates with the highest typicality
    (TypiClust's inverse mean distance to the K nearest neighbours, Hacohen et al. 2022, here in a TF-IDF→SVD
    view of the texts) are ranked by MMC; the rest rank below them, by MMC as well.

    The regression benchmark showed uncertainty spending its budget on outliers; this keeps MMC's choice of
    informative records to the dense part of the pool.
    """

    name = "mmc_typical"
    requires = frozenset({PROBA, LABELS, FEATURES})
    capabilities = Capabilities(ranks=True, tasks=_MULTILABEL)

    def __init__(self, fraction: float = 0.5, n_neighbors: int = 20, n_components: int = 50) -> None:
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"fraction must lie in (0, 1], got {fraction!r}")
        self.fraction = fraction
        self.n_neighbors = n_neighbors
        self.n_components = n_components

    def score(self, inputs: StrategyInputs) -> np.ndarray:
        from loopwise.strategies._typiclust import typicality

        mmc = mmc_scores(inputs.require("proba"), inputs.require("labelled_proba"), inputs.require("labelled_labels"))
        typ = typicality(text_view(inputs.require("features"), inputs.labelled_features, self.n_components), self.n_neighbors)
        n_typical = max(1, int(np.ceil(self.fraction * len(typ))))
        typical = np.zeros(len(typ), dtype=bool)
        typical[np.argsort(-typ, kind="stable")[:n_typical]] = True
        # MMC's loss lies in [0, L]; shifting the typical candidates by L + 1 ranks every one above the rest.
        return np.asarray(mmc + typical * (np.asarray(inputs.proba).shape[1] + 1.0))

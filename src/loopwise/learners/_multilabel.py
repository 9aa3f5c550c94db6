"""Multi-label learners: one-vs-rest logistic regression over features, TF-IDF or sentence embeddings."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import clone as sk_clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline

from loopwise.core.tasks import MULTILABEL
from loopwise.errors import ConfigError, LearnerError
from loopwise.learners._adapter import EstimatorLearner
from loopwise.learners._cache import EmbeddingCache
from loopwise.learners._text import SentenceEmbedder, TfidfSVDEmbedder


def _ovr(seed: int, C: float, class_weight: str | None = None) -> OneVsRestClassifier:
    # Binary relevance (one logistic regression per label; Boutell et al. 2004, Tsoumakas & Katakis 2007).
    # liblinear: each label is a small binary problem, where it is many times faster than lbfgs on sparse TF-IDF.
    return OneVsRestClassifier(
        LogisticRegression(C=C, solver="liblinear", max_iter=1000, random_state=seed, class_weight=class_weight)
    )


def ovr_logistic_regression(seed: int = 0, C: float = 1.0) -> OneVsRestClassifier:
    """One logistic regression per label over featurised rows."""
    return _ovr(seed, C)


def tfidf_ovr_logistic_regression(seed: int = 0, C: float = 10.0) -> Pipeline:
    """TF-IDF (word 1-2 grams), then one logistic regression per label, on raw texts."""
    return Pipeline(
        [("tfidf", TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1)), ("clf", _ovr(seed, C))]
    )


def tfidf_ovr_balanced_logistic_regression(seed: int = 0, C: float = 10.0) -> Pipeline:
    """As ``tfidf_ovr_logreg``, with each label's positives and negatives weighted to equal mass (``class_weight="balanced"``).

    With a few positives a label (goemotions: 1.18 labels a record over 28), an unweighted model seldom puts
    a marginal above 0.5, so it predicts almost nothing and its margins say little; balanced weights move
    each label's 0.5 point to where its positives are (King & Zeng 2001 on rare events).
    """
    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1)),
            ("clf", _ovr(seed, C, class_weight="balanced")),
        ]
    )


def tfidf_svd_ovr_logistic_regression(seed: int = 0, C: float = 10.0, n_components: int = 64) -> Pipeline:
    """TF-IDF + truncated SVD embeddings, then one logistic regression per label; ``embed()`` gives the SVD vectors."""
    return Pipeline([("embed", TfidfSVDEmbedder(n_components=n_components, seed=seed)), ("clf", _ovr(seed, C))])


def minilm_ovr_logistic_regression(seed: int = 0, C: float = 10.0) -> Pipeline:
    """Frozen all-MiniLM-L6-v2 sentence embeddings, then one logistic regression per label (``text`` extra)."""
    return Pipeline([("embed", SentenceEmbedder()), ("clf", _ovr(seed, C))])


class MultiLabelLearner(EstimatorLearner):
    """A scikit-learn multi-label classifier whose ``predict_proba`` gives the ``n x L`` label marginals.

    ``y`` is an ``n x L`` 0/1 matrix over the project's labels. A label that every
    labelled record has, or none has, gets a constant marginal (scikit-learn's
    one-vs-rest does that itself, quietly here: early loops miss rare labels by
    design). Embeddings come as for :class:`EstimatorLearner`.
    """

    task = MULTILABEL

    def __init__(self, estimator: Any, n_classes: int, embedding_cache: EmbeddingCache | None = None) -> None:
        super().__init__(estimator, n_classes, embedding_cache)

    def clone(self) -> MultiLabelLearner:
        return MultiLabelLearner(self.estimator, self.n_classes, self.embedding_cache)

    takes_sample_weight = False  # multilabel fits train unweighted

    def fit(self, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        if sample_weight is not None:
            raise ConfigError(f"multilabel learners train unweighted; {self.name} takes no sample_weight")
        Y = np.asarray(y, dtype=np.int64)
        if Y.ndim != 2 or Y.shape[1] != self.n_classes:
            raise LearnerError(f"{self.name}: a multilabel fit needs an n x {self.n_classes} 0/1 matrix, got shape {Y.shape}")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
            self.model_ = sk_clone(self.estimator).fit(X, Y)

    def fit_more(self, X: Any, y: np.ndarray, *, new_only: bool) -> None:
        raise ConfigError(f"multilabel learners retrain from scratch; {self.name} cannot continue training")

    def predict_proba(self, X: Any) -> np.ndarray:
        if self.model_ is None:
            raise LearnerError(f"{self.name} has not been fitted yet")
        n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
        raw = np.asarray(self.model_.predict_proba(X), dtype=np.float64)
        if raw.shape != (n_rows, self.n_classes):
            raise LearnerError(f"{self.name}.predict_proba returned shape {raw.shape}; expected ({n_rows}, {self.n_classes})")
        bad = ~(np.isfinite(raw) & (raw >= -1e-6) & (raw <= 1 + 1e-6)).all(axis=1)
        if bad.any():
            raise LearnerError(f"{self.name}.predict_proba row {int(np.flatnonzero(bad)[0])} holds a marginal outside [0, 1]")
        return raw

    @property
    def predict_proba_samples(self) -> Any:
        raise AttributeError(f"{self.name} draws no posterior samples")

"""A small built-in model library, by name, for the command line and quick starts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from loopwise.errors import ConfigError
from loopwise.learners._text import SentenceEmbedder, TfidfSVDEmbedder
from loopwise.learners._torch_mlp import MCDropoutMLP


def logistic_regression(seed: int = 0, C: float = 1.0) -> LogisticRegression:
    """Multinomial logistic regression: fast, calibrated enough for uncertainty sampling."""
    return LogisticRegression(C=C, max_iter=1000, random_state=seed)


def tfidf_logistic_regression(seed: int = 0, C: float = 10.0) -> Pipeline:
    """TF-IDF (word 1-2 grams) + logistic regression, on raw texts."""
    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1)),
            ("clf", LogisticRegression(C=C, max_iter=1000, random_state=seed)),
        ]
    )


def hist_gradient_boosting(seed: int = 0) -> HistGradientBoostingClassifier:
    """Histogram gradient boosting for tabular data; early stopping off so small sets stay deterministic."""
    return HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=seed)


def tfidf_svd_logistic_regression(seed: int = 0, C: float = 10.0, n_components: int = 64) -> Pipeline:
    """TF-IDF + truncated SVD embeddings, then logistic regression, on raw texts; ``embed()`` gives the SVD vectors.

    The text embedder that needs no optional package.
    """
    return Pipeline(
        [
            ("embed", TfidfSVDEmbedder(n_components=n_components, seed=seed)),
            ("clf", LogisticRegression(C=C, max_iter=1000, random_state=seed)),
        ]
    )


def minilm_logistic_regression(seed: int = 0, C: float = 10.0) -> Pipeline:
    """Frozen all-MiniLM-L6-v2 sentence embeddings, then logistic regression, on raw texts (``text`` extra).

    ``embed()`` gives the 384-dimensional sentence vectors; they do not depend
    on the labels, so the embedding cache serves every loop after the first.
    """
    return Pipeline(
        [
            ("embed", SentenceEmbedder()),
            ("clf", LogisticRegression(C=C, max_iter=1000, random_state=seed)),
        ]
    )


def mc_dropout_mlp(seed: int = 0) -> MCDropoutMLP:
    """A one-hidden-layer (128) PyTorch MLP with MC dropout 0.25 (``torch`` extra); samples for BALD, embeddings for BADGE."""
    return MCDropoutMLP(hidden_layer_sizes=(128,), dropout=0.25, seed=seed)


def random_forest(seed: int = 0) -> RandomForestClassifier:
    """A random forest: non-linear, quick to refit on small labelled sets, usable probabilities."""
    return RandomForestClassifier(n_estimators=200, min_samples_leaf=1, random_state=seed, n_jobs=1)


LIBRARY: dict[str, Callable[..., Any]] = {
    "logreg": logistic_regression,
    "tfidf_logreg": tfidf_logistic_regression,
    "hgb": hist_gradient_boosting,
    "rf": random_forest,
    "tfidf_svd": tfidf_svd_logistic_regression,
    "minilm": minilm_logistic_regression,
    "mlp": mc_dropout_mlp,
}

# Library learners that take the raw texts of a text dataset rather than its featurised rows.
TEXT_LEARNERS = frozenset({"tfidf_logreg", "tfidf_svd", "minilm"})


def make_estimator(name: str, seed: int = 0) -> Any:
    """Build a library model by name; an unknown name lists the known ones."""
    try:
        factory = LIBRARY[name]
    except KeyError:
        raise ConfigError(f"unknown learner {name!r}; known learners: {', '.join(sorted(LIBRARY))}") from None
    return factory(seed=seed)

"""A small built-in model library, by name, for the command line and quick starts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from loopwise.errors import ConfigError


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


LIBRARY: dict[str, Callable[..., Any]] = {
    "logreg": logistic_regression,
    "tfidf_logreg": tfidf_logistic_regression,
    "hgb": hist_gradient_boosting,
}


def make_estimator(name: str, seed: int = 0) -> Any:
    """Build a library model by name; an unknown name lists the known ones."""
    try:
        factory = LIBRARY[name]
    except KeyError:
        raise ConfigError(f"unknown learner {name!r}; known learners: {', '.join(sorted(LIBRARY))}") from None
    return factory(seed=seed)

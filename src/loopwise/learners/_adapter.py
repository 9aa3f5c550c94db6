"""Adapters that give any scikit-learn classifier the loop's learner contract."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone as sk_clone
from sklearn.dummy import DummyClassifier

from loopwise.core.validation import check_proba
from loopwise.errors import ConfigError, LearnerError


class EstimatorLearner:
    """A scikit-learn classifier whose probabilities always span the project's full label set.

    Classes with no labels yet get probability 0. While the labelled set holds a
    single class, a prior-only ``DummyClassifier`` stands in, because most
    estimators refuse to fit one class.
    """

    def __init__(self, estimator: Any, n_classes: int) -> None:
        if not hasattr(estimator, "fit") or not hasattr(estimator, "predict_proba"):
            raise ConfigError(
                f"learner {type(estimator).__name__} needs fit() and predict_proba(); "
                "wrap other models in loopwise.learners.CallbackLearner"
            )
        self.estimator = estimator
        self.n_classes = n_classes
        self.model_: Any = None

    @property
    def name(self) -> str:
        return type(self.estimator).__name__

    def clone(self) -> EstimatorLearner:
        return EstimatorLearner(self.estimator, self.n_classes)

    def fit(self, X: Any, y: np.ndarray) -> None:
        y = np.asarray(y)
        if np.unique(y).size < 2:
            self.model_ = DummyClassifier(strategy="prior").fit(np.zeros((len(y), 1)), y)
        else:
            self.model_ = sk_clone(self.estimator).fit(X, y)

    def fit_more(self, X: Any, y: np.ndarray, *, new_only: bool) -> None:
        """Continue from the current model: ``partial_fit`` on new data, or a warm-started refit."""
        if new_only:
            if not hasattr(self.estimator, "partial_fit"):
                raise ConfigError(
                    f"retrain mode 'new_only' needs a learner with partial_fit(); {self.name} has none "
                    "(use 'scratch' or 'warm_start', or a learner such as SGDClassifier)"
                )
            if self.model_ is None:
                self.model_ = sk_clone(self.estimator)
            self.model_.partial_fit(X, y, classes=np.arange(self.n_classes))
            return
        params = self.estimator.get_params()
        if "warm_start" not in params:
            raise ConfigError(f"retrain mode 'warm_start' needs an estimator with a warm_start parameter; {self.name} has none")
        previous = self.model_
        same_classes = (
            previous is not None
            and not isinstance(previous, DummyClassifier)
            and np.array_equal(np.asarray(getattr(previous, "classes_", [])), np.unique(y))
        )
        if not same_classes:
            # A warm start cannot reuse coefficients when the class set grew; start that fit afresh.
            self.fit(X, y)
            if not isinstance(self.model_, DummyClassifier):
                self.model_.set_params(warm_start=True)
            return
        previous.set_params(warm_start=True)
        previous.fit(X, y)

    def predict_proba(self, X: Any) -> np.ndarray:
        if self.model_ is None:
            raise LearnerError(f"{self.name} has not been fitted yet")
        n_rows = X.shape[0]
        model = self.model_
        raw = model.predict_proba(np.zeros((n_rows, 1)) if isinstance(model, DummyClassifier) else X)
        classes = np.asarray(model.classes_, dtype=np.int64)
        raw = check_proba(raw, n_rows, len(classes), who=self.name)
        if len(classes) == self.n_classes and np.array_equal(classes, np.arange(self.n_classes)):
            return raw
        aligned = np.zeros((n_rows, self.n_classes), dtype=raw.dtype)
        aligned[:, classes] = raw
        return aligned

    def embed(self, X: Any) -> np.ndarray:
        """Embeddings from the estimator's ``transform`` (a pipeline's feature step), if it has one."""
        model = self.model_
        if model is not None and hasattr(model, "transform"):
            return np.asarray(model.transform(X), dtype=np.float32)
        raise ConfigError(f"{self.name} cannot embed records: it has no transform()")

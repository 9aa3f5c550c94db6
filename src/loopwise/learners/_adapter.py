"""Adapters that give any scikit-learn classifier the loop's learner contract."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone as sk_clone
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import has_fit_parameter

from loopwise.core.validation import check_proba
from loopwise.errors import ConfigError, LearnerError
from loopwise.learners._cache import EmbeddingCache


class EstimatorLearner:
    """A scikit-learn classifier whose probabilities always span the project's full label set.

    Classes with no labels yet get probability 0. While the labelled set holds a
    single class, a prior-only ``DummyClassifier`` stands in, because most
    estimators refuse to fit one class (in a pipeline, it replaces only the
    last step, so the feature steps can still embed).

    ``embed()`` returns, in this order of preference, the fitted estimator's
    own ``embed()``, the output of a pipeline's steps before the classifier,
    its ``transform()``, or else the dense features themselves (the input of
    a linear model's only layer). With an ``embedding_cache``, computed
    embeddings are kept per model version (see :class:`EmbeddingCache`).
    ``predict_proba_samples`` exists when the estimator has one (e.g.
    :class:`MCDropoutMLP`), with its samples aligned to the full label set.
    """

    def __init__(self, estimator: Any, n_classes: int, embedding_cache: EmbeddingCache | None = None) -> None:
        if not hasattr(estimator, "fit") or not hasattr(estimator, "predict_proba"):
            raise ConfigError(
                f"learner {type(estimator).__name__} needs fit() and predict_proba(); "
                "wrap other models in loopwise.learners.CallbackLearner"
            )
        self.estimator = estimator
        self.n_classes = n_classes
        self.embedding_cache = embedding_cache
        self.model_: Any = None

    @property
    def name(self) -> str:
        return type(self.estimator).__name__

    def clone(self) -> EstimatorLearner:
        return EstimatorLearner(self.estimator, self.n_classes, self.embedding_cache)

    @property
    def takes_sample_weight(self) -> bool:
        """Whether the estimator's ``fit`` (a pipeline's last step's) accepts ``sample_weight``."""
        return has_fit_parameter(_final_step(self.estimator), "sample_weight")

    def fit(self, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        """Fit on ``(X, y)``; ``sample_weight`` (one per row) goes to the estimator's ``fit``, which must accept it."""
        y = np.asarray(y)
        fit_params: dict[str, Any] = {}
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.shape != (len(y),):
                raise LearnerError(f"{self.name}: sample_weight has shape {sample_weight.shape}; expected ({len(y)},)")
            if not self.takes_sample_weight:
                raise ConfigError(
                    f"learner {self.name} does not take sample_weight in fit(), so rows cannot be weighted "
                    "(weak labels at a lower weight); use an estimator that does, such as LogisticRegression or "
                    "HistGradientBoostingClassifier"
                )
        if np.unique(y).size < 2 and isinstance(self.estimator, Pipeline) and len(self.estimator.steps) > 1:
            steps = list(sk_clone(self.estimator).steps)
            steps[-1] = (steps[-1][0], DummyClassifier(strategy="prior"))
            if sample_weight is not None:
                fit_params[f"{steps[-1][0]}__sample_weight"] = sample_weight
            self.model_ = Pipeline(steps).fit(X, y, **fit_params)
        elif np.unique(y).size < 2:
            self.model_ = DummyClassifier(strategy="prior").fit(np.zeros((len(y), 1)), y, sample_weight=sample_weight)
        else:
            if sample_weight is not None:
                key = f"{self.estimator.steps[-1][0]}__sample_weight" if isinstance(self.estimator, Pipeline) else "sample_weight"
                fit_params[key] = sample_weight
            with warnings.catch_warnings():
                # Early loops have few labels per class by design; scikit-learn's "looks like
                # regression" warning is noise there.
                warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
                self.model_ = sk_clone(self.estimator).fit(X, y, **fit_params)

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
        return self._aligned(raw, classes)

    def _aligned(self, raw: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """Columns of ``raw`` (the model's ``classes``) placed on the full label set; missing classes get 0."""
        if len(classes) == self.n_classes and np.array_equal(classes, np.arange(self.n_classes)):
            return raw
        aligned = np.zeros((*raw.shape[:-1], self.n_classes), dtype=raw.dtype)
        aligned[..., classes] = raw
        return aligned

    @property
    def predict_proba_samples(self) -> Callable[[Any, int, np.random.Generator], np.ndarray]:
        """``(X, n_samples, rng) -> n_samples x n x n_classes`` posterior samples, when the estimator draws them.

        Absent (``AttributeError``) otherwise, so the loop falls back to a bagged committee.
        """
        if not hasattr(self.estimator, "predict_proba_samples"):
            raise AttributeError(f"{self.name} has no predict_proba_samples()")
        return self._predict_proba_samples

    def _predict_proba_samples(self, X: Any, n_samples: int, rng: np.random.Generator) -> np.ndarray:
        if self.model_ is None:
            raise LearnerError(f"{self.name} has not been fitted yet")
        if not hasattr(self.model_, "predict_proba_samples"):
            # The one-class stand-in: every sample is the prior, so the samples agree.
            return np.repeat(self.predict_proba(X)[None], n_samples, axis=0)
        raw = np.asarray(self.model_.predict_proba_samples(X, n_samples, rng))
        classes = np.asarray(self.model_.classes_, dtype=np.int64)
        n_rows = X.shape[0]
        if raw.shape != (n_samples, n_rows, len(classes)):
            raise LearnerError(
                f"{self.name}.predict_proba_samples returned shape {raw.shape}; expected {(n_samples, n_rows, len(classes))}"
            )
        flat = check_proba(raw.reshape(-1, len(classes)), n_samples * n_rows, len(classes), who=self.name)
        # float32 like the model's own output: n_samples copies of the pool in float64 add up.
        return self._aligned(flat.reshape(raw.shape).astype(np.float32), classes)

    def embed(self, X: Any) -> np.ndarray:
        """``n x d`` float32 embeddings of the records ``X`` under the current model (see the class docstring)."""
        model = self.model_
        if model is None:
            raise LearnerError(f"{self.name} has not been fitted yet")
        if hasattr(model, "embed"):
            source, compute = model, model.embed
        elif isinstance(model, Pipeline) and len(model.steps) > 1:
            source = model.steps[0][1] if len(model.steps) == 2 else model[:-1]
            compute = model[:-1].transform
        elif hasattr(model, "transform"):
            source, compute = model, model.transform
        else:
            return self._features_as_embeddings(X)

        def dense(rows: Any) -> np.ndarray:
            out = compute(rows)
            if sp.issparse(out):
                raise ConfigError(
                    f"{self.name} embeds records as a sparse {out.shape[0]} x {out.shape[1]} matrix; strategies "
                    "need dense vectors: use tfidf_svd or minilm for texts, or a strategy on use='features'"
                )
            return np.asarray(out, dtype=np.float32)

        if self.embedding_cache is None:
            return dense(X)
        return self.embedding_cache.get_or_compute(source, X, dense)

    def _features_as_embeddings(self, X: Any) -> np.ndarray:
        if sp.issparse(X):
            raise ConfigError(
                f"{self.name} has no embeddings of its own and the features are sparse; use a learner that "
                "embeds (mlp, tfidf_svd, minilm) or a strategy on use='features'"
            )
        try:
            return np.asarray(X, dtype=np.float32).reshape(X.shape[0], -1)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{self.name} cannot embed records of type {type(X).__name__}: it has no embeddings of its own "
                "and the records are not numeric features; use a learner that embeds (mlp, tfidf_svd, minilm)"
            ) from None


def _final_step(estimator: Any) -> Any:
    """The estimator that sees ``sample_weight``: a pipeline's last step, else the estimator itself."""
    return estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator

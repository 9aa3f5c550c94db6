"""CallbackLearner: training and inference stay in the user's own code (PyTorch or anything)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from loopwise.core.validation import check_proba
from loopwise.errors import ConfigError, LearnerError


class CallbackLearner:
    """A learner made of two plain functions.

    ``train_fn(X, y) -> model`` fits a model (it may also accept ``previous=``
    to continue from the last model in warm-start or new-data-only modes, and
    ``sample_weight=`` to train on weighted rows such as weak labels);
    ``infer_fn(model, X) -> proba`` returns an ``n x n_classes`` matrix over the
    project's full label set. ``embed_fn(model, X)`` is optional.
    """

    def __init__(
        self,
        train_fn: Callable[..., Any],
        infer_fn: Callable[[Any, Any], Any],
        embed_fn: Callable[[Any, Any], Any] | None = None,
        n_classes: int | None = None,
    ) -> None:
        if not callable(train_fn) or not callable(infer_fn):
            raise ConfigError("CallbackLearner needs callable train_fn and infer_fn")
        self.train_fn = train_fn
        self.infer_fn = infer_fn
        self.embed_fn = embed_fn
        self.n_classes = n_classes
        self.model_: Any = None
        self.fitted_ = False

    @property
    def name(self) -> str:
        return getattr(self.train_fn, "__name__", "CallbackLearner")

    def clone(self) -> CallbackLearner:
        return CallbackLearner(self.train_fn, self.infer_fn, self.embed_fn, self.n_classes)

    @property
    def takes_sample_weight(self) -> bool:
        """Whether ``train_fn`` accepts a ``sample_weight=`` argument."""
        return "sample_weight" in inspect.signature(self.train_fn).parameters

    def fit(self, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        """``train_fn(X, y)``; with ``sample_weight``, ``train_fn(X, y, sample_weight=...)``, which it must accept."""
        if sample_weight is None:
            self.model_ = self.train_fn(X, np.asarray(y))
        elif not self.takes_sample_weight:
            raise ConfigError(
                f"{self.name} does not accept sample_weight=, so rows cannot be weighted (weak labels at a lower "
                "weight); add a sample_weight parameter to train_fn"
            )
        else:
            self.model_ = self.train_fn(X, np.asarray(y), sample_weight=np.asarray(sample_weight, dtype=np.float64))
        self.fitted_ = True

    def fit_more(self, X: Any, y: np.ndarray, *, new_only: bool) -> None:
        if "previous" not in inspect.signature(self.train_fn).parameters:
            mode = "new_only" if new_only else "warm_start"
            raise ConfigError(f"retrain mode {mode!r} needs train_fn to accept a `previous=` argument")
        self.model_ = self.train_fn(X, np.asarray(y), previous=self.model_)
        self.fitted_ = True

    def predict_proba(self, X: Any) -> np.ndarray:
        if not self.fitted_:
            raise LearnerError(f"{self.name}: predict_proba called before training")
        if self.n_classes is None:
            raise ConfigError("CallbackLearner.n_classes is unknown; build it through loopwise.learners.as_learner")
        return check_proba(self.infer_fn(self.model_, X), X.shape[0], self.n_classes, who=self.name)

    def embed(self, X: Any) -> np.ndarray:
        if self.embed_fn is None:
            raise ConfigError(f"{self.name} cannot embed records: no embed_fn was given")
        return np.asarray(self.embed_fn(self.model_, X), dtype=np.float32)

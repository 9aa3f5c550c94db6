"""Protocols the loop relies on, so it never depends on a particular ML library."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Learner(Protocol):
    """A model the loop can train and query, with probabilities over the full label set.

    ``loopwise.learners.as_learner`` wraps any scikit-learn classifier or a
    ``CallbackLearner`` into this shape; the loop never sees the raw estimator.
    """

    n_classes: int

    def fit(self, X: Any, y: np.ndarray) -> None: ...

    def predict_proba(self, X: Any) -> np.ndarray: ...

    def clone(self) -> Learner: ...


class ContinuedLearner(Learner, Protocol):
    """A learner that can continue from its current state (warm start / new data only)."""

    def fit_more(self, X: Any, y: np.ndarray, *, new_only: bool) -> None: ...


class Embedder(Protocol):
    """A learner that also turns records into dense vectors."""

    def embed(self, X: Any) -> np.ndarray: ...

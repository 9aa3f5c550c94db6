"""Incremental learner: a scikit-learn ``partial_fit`` classifier over incrementally standardised features."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.preprocessing import StandardScaler

from loopwise.errors import ConfigError


def _sgd(seed: int) -> Any:
    return SGDClassifier(loss="log_loss", alpha=1e-4, learning_rate="optimal", random_state=seed)


def _nb(seed: int) -> Any:
    return GaussianNB()


LEARNERS = {"sgd": _sgd, "nb": _nb}


class IncrementalLearner:
    """A ``partial_fit`` classifier; the scaler is refreshed from every record seen (features only) at each update.

    Until the first label the model knows nothing and predicts uniform probabilities.
    Records seen since the last update wait in ``pending`` and enter the scaler's
    running mean and variance when the next label arrives, so the features the model
    is trained on and predicts from only change when the model itself changes.
    """

    def __init__(self, kind: str, n_classes: int, seed: int = 0) -> None:
        if kind not in LEARNERS:
            raise ConfigError(f"unknown stream learner {kind!r}; choose one of {', '.join(LEARNERS)}")
        self.kind = kind
        self.classes = np.arange(n_classes)
        self.model = LEARNERS[kind](seed)
        self.scaler = StandardScaler()
        self.fitted = False
        self.pending: list[np.ndarray] = []

    def see(self, X: np.ndarray) -> None:
        """Note records whose features the scaler has not taken in yet."""
        if len(X):
            self.pending.append(np.asarray(X, dtype=np.float64))

    def proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities of the rows of ``X`` under the current model (uniform before any label)."""
        if not self.fitted:
            return np.full((len(X), len(self.classes)), 1.0 / len(self.classes))
        return np.asarray(self.model.predict_proba(self.scaler.transform(X)), dtype=np.float64)

    def learn(self, x: np.ndarray, label: int) -> None:
        """Refresh the scaler with the pending records, then update the model with one labelled record."""
        if self.pending:
            self.scaler.partial_fit(np.concatenate(self.pending))
            self.pending = []
        row = self.scaler.transform(np.asarray(x, dtype=np.float64).reshape(1, -1))
        self.model.partial_fit(row, np.array([label]), classes=self.classes)
        self.fitted = True

"""Prequential (test-then-train) accuracy: cumulative and over a sliding window of the latest records."""

from __future__ import annotations

import numpy as np


class Prequential:
    """Running accuracy of predictions made before each record's label was used (Gama et al. 2013)."""

    def __init__(self, window: int = 1000) -> None:
        self.window = int(window)
        self.n_seen = 0
        self.n_correct = 0
        self.recent = np.zeros(0, dtype=bool)

    def update(self, correct: np.ndarray) -> None:
        """Add the correctness (True/False) of the next records' predictions, in stream order."""
        flags = np.asarray(correct, dtype=bool)
        self.n_seen += int(flags.size)
        self.n_correct += int(flags.sum())
        self.recent = np.concatenate([self.recent, flags])[-self.window :]

    @property
    def accuracy(self) -> float:
        """Cumulative prequential accuracy over every record so far (0.0 before any)."""
        return self.n_correct / self.n_seen if self.n_seen else 0.0

    @property
    def window_accuracy(self) -> float:
        """Prequential accuracy over the latest ``window`` records (0.0 before any)."""
        return float(self.recent.mean()) if self.recent.size else 0.0

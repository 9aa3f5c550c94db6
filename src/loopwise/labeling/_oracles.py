"""Oracles: who answers a query with labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from loopwise.core.records import Query


class Oracle(Protocol):
    """Answers a query with class indices aligned to ``query.positions``."""

    def collect(self, query: Query) -> np.ndarray: ...


class SimulatedOracle:
    """Answers from ground truth, for experiments: the standard simulated-annotator setting."""

    def __init__(self, y_true: np.ndarray) -> None:
        # As given: class indices, a 0/1 label matrix, or float targets (an int cast would truncate these).
        self.y_true = np.asarray(y_true)

    def collect(self, query: Query) -> np.ndarray:
        return self.y_true[query.positions]


class CallbackOracle:
    """Answers through a user function ``fn(record_ids) -> class indices``."""

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        self.fn = fn

    def collect(self, query: Query) -> np.ndarray:
        return np.asarray(self.fn(query.ids), dtype=np.int64)

"""Plain records that cross the loop: a query, a selection, and what a loop recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Selection:
    """Positions into the candidate set chosen by a strategy, best first, with their scores.

    ``info`` is what the strategy wants recorded about its choice (JSON-able;
    the loop copies it into :attr:`LoopRecord.extra`).
    """

    positions: np.ndarray
    scores: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Query:
    """A request for labels: the pool positions and record ids of one loop."""

    loop_index: int
    positions: np.ndarray
    ids: np.ndarray
    scores: np.ndarray


@dataclass
class LoopRecord:
    """Everything one loop produced, ready to persist.

    ``metrics`` holds the test-set figures (accuracy, macro_f1, per_class_f1,
    confusion_matrix, log_loss); ``timings`` the wall seconds of infer, select
    and train; ``pool_proba`` the probabilities the selection saw (``None`` for
    loop 0); ``stop_predictions`` the predicted classes on the fixed stop set.
    """

    loop_index: int
    strategy: str
    positions: np.ndarray
    ids: np.ndarray
    labels: np.ndarray
    n_labelled: int
    metrics: dict[str, Any]
    timings: dict[str, float]
    stop_predictions: np.ndarray
    pool_proba: np.ndarray | None = None
    scores: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

"""Weak labels as extra training rows: checked once, then the loop's labelled set plus them, at a lower weight."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from loopwise.core.tasks import CLASSIFICATION
from loopwise.errors import ConfigError


@dataclass(frozen=True)
class WeakTraining:
    """Weak labels of pool ``positions`` (classes ``labels``) that train at ``weight``, or each at its ``row_weights``
    entry when given; people's labels weigh 1."""

    positions: np.ndarray
    labels: np.ndarray
    weight: float
    row_weights: np.ndarray | None = None

    @classmethod
    def checked(cls, positions: Any, labels: Any, weight: float, loop: Any, row_weights: Any = None) -> WeakTraining:
        """Validate what ``Loop.set_weak_labels`` was given for ``loop``, naming the argument and the allowed values."""
        n_pool, n_classes, learner = len(loop.pool), loop.learner.n_classes, loop.learner
        positions = np.asarray(positions, dtype=np.int64)
        labels = np.asarray(labels, dtype=np.int64)
        # No weak labels turns weak training off, whatever the loop's task and retrain mode.
        if len(positions) and loop.task != CLASSIFICATION:
            raise ConfigError(f"weak labels train classification pools only; this pool is {loop.task}")
        if len(positions) and loop.retrain != "scratch":
            raise ConfigError(f"weak labels need retrain mode 'scratch'; got {loop.retrain!r}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0.0 <= float(weight) <= 1.0:
            raise ConfigError(f"weak_weight must be a number in [0, 1]; got {weight!r}")
        if row_weights is not None:
            row_weights = np.asarray(row_weights, dtype=np.float64)
            if row_weights.shape != positions.shape or not np.all((row_weights >= 0.0) & (row_weights <= 1.0)):
                raise ConfigError(f"row_weights must be one weight in [0, 1] per position; got shape {row_weights.shape} "
                                  f"for {positions.shape} positions")
        if positions.ndim != 1 or positions.shape != labels.shape:
            raise ConfigError(f"give one weak label per position; got {positions.shape} positions and {labels.shape} labels")
        if len(positions) and (positions.min() < 0 or positions.max() >= n_pool or len(np.unique(positions)) != len(positions)):
            raise ConfigError(f"weak label positions must be distinct pool positions in 0..{n_pool - 1}")
        if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise ConfigError(
                f"weak labels must be classes 0..{n_classes - 1} (abstentions left out); got {sorted(set(labels.tolist()))[:5]}"
            )
        if len(positions) and not getattr(learner, "takes_sample_weight", False):
            raise ConfigError(
                f"learner {getattr(learner, 'name', type(learner).__name__)} cannot train on weighted rows "
                "(its fit takes no sample_weight), so weak labels cannot enter training at a lower weight"
            )
        return cls(positions, labels, float(weight), row_weights)

    def rows(self, labelled_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The weak labels of records no person has labelled: positions and classes."""
        keep = ~labelled_mask[self.positions]
        return self.positions[keep], self.labels[keep]

    def weights(self, labelled_mask: np.ndarray) -> np.ndarray:
        """The weight of each of :meth:`rows`: ``weight``, or the rows' own ``row_weights``."""
        keep = ~labelled_mask[self.positions]
        return np.full(int(keep.sum()), self.weight) if self.row_weights is None else self.row_weights[keep]

    def summary(self, labelled_mask: np.ndarray) -> dict[str, Any]:
        """What a loop record keeps of them: how many rows trained and their weight (the mean, with ``row_weights``)."""
        weights = self.weights(labelled_mask)
        weight = self.weight if self.row_weights is None else float(weights.mean()) if len(weights) else 0.0
        return {"n_weak": int(len(weights)), "weight": weight}

    def training_set(self, labelled: np.ndarray, y: np.ndarray, labelled_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions, classes and weights: the labelled records (``labelled``, ``y``) at 1, then the weak rows."""
        weak_positions, weak_y = self.rows(labelled_mask)
        weights = np.concatenate([np.ones(len(labelled)), self.weights(labelled_mask)])
        return np.concatenate([labelled, weak_positions]), np.concatenate([y, weak_y]), weights

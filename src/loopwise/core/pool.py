"""The pool: features, record ids, and which loop labelled each record."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loopwise.core.tasks import CLASSIFICATION, empty_labels
from loopwise.core.validation import check_features
from loopwise.errors import DataError

UNLABELLED = -1


@dataclass
class Pool:
    """Records available for labelling.

    ``labels`` holds class indices into the label set, ``-1`` for unlabelled
    (other tasks: a row of 0/1 per label, a number, a tag sequence; see
    :func:`loopwise.core.tasks.empty_labels`);
    ``labelled_at`` the loop that labelled each record (``-1`` if none), so one
    integer array gives the labelled mask, the current loop, and "new in loop k".
    ``order`` keeps the sequence in which records were labelled, which makes
    training sets (and so results) reproducible.
    """

    ids: np.ndarray
    X: object
    labels: np.ndarray
    labelled_at: np.ndarray
    order: list[int]

    @classmethod
    def new(cls, ids: np.ndarray, X: object, task: str = CLASSIFICATION, n_labels: int | None = None) -> Pool:
        """An unlabelled pool of ``task`` (``n_labels``: the width of a multilabel pool's label rows)."""
        ids = np.asarray(ids)
        if len(np.unique(ids)) != len(ids):
            uniq, counts = np.unique(ids, return_counts=True)
            dup = uniq[counts > 1]
            raise DataError(f"duplicate record ids in pool: {dup[:5].tolist()} ({len(dup)} duplicated)")
        n = len(ids)
        shape = getattr(X, "shape", None)
        n_rows = int(shape[0]) if shape is not None and len(shape) else (len(X) if hasattr(X, "__len__") else None)  # type: ignore[arg-type]
        if n_rows is not None and n_rows != n:
            raise DataError(f"pool: {n} record ids but {n_rows} feature rows; give one row per record id")
        if isinstance(X, np.ndarray) and X.ndim == 2:
            check_features(X, ids, "pool features")  # type: ignore[arg-type]  # NaN or inf would only fail later, inside the learner
        return cls(
            ids=ids,
            X=X,
            labels=empty_labels(task, n, n_labels),
            labelled_at=np.full(n, -1, dtype=np.int64),
            order=[],
        )

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def labelled_mask(self) -> np.ndarray:
        return self.labelled_at >= 0

    @property
    def labelled_positions(self) -> np.ndarray:
        """Positions of labelled records in the order they were labelled."""
        return np.asarray(self.order, dtype=np.int64)

    @property
    def unlabelled_positions(self) -> np.ndarray:
        return np.flatnonzero(~self.labelled_mask)

    @property
    def n_labelled(self) -> int:
        return len(self.order)

    def label(self, positions: np.ndarray, labels: np.ndarray, loop_index: int) -> None:
        """Record labels for ``positions``; a record can be labelled once per run."""
        positions = np.asarray(positions, dtype=np.int64)
        already = positions[self.labelled_mask[positions]]
        if already.size:
            raise DataError(f"records already labelled: {self.ids[already][:5].tolist()}")
        self.labels[positions] = labels
        self.labelled_at[positions] = loop_index
        self.order.extend(int(p) for p in positions)

    def relabel(self, positions: np.ndarray, labels: np.ndarray) -> None:
        """Correct the class of records already labelled (a later vote, an adjudication); when and in what order they were labelled stays."""
        positions = np.asarray(positions, dtype=np.int64)
        unlabelled = positions[~self.labelled_mask[positions]]
        if unlabelled.size:
            raise DataError(f"records not labelled yet, so nothing to correct: {self.ids[unlabelled][:5].tolist()}")
        self.labels[positions] = labels

    def rows(self, positions: np.ndarray) -> object:
        """Features of the given positions (works for arrays and sparse matrices)."""
        return self.X[positions]  # type: ignore[index]

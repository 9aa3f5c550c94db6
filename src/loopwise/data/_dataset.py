"""The Dataset record: ids, features, labels and split of one loaded source."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from loopwise.core.tasks import CLASSIFICATION, MULTILABEL, REGRESSION, TOKEN_CLASSIFICATION, check_task
from loopwise.errors import ConfigError, DataError

TASKS = ("text", "tabular", "image")


@dataclass
class Dataset:
    """Everything loaded from one source, before any split or featurization.

    Row ``i`` of ``ids``, ``y``, ``split`` and of ``frame`` (text, tabular) or
    ``images`` (image and ``.npz`` sources) describe the same record.

    Attributes
    ----------
    name : str
        Short name: the bundled or shared dataset's name, else the file stem.
    source : str
        What the user passed to :func:`load_dataset` (a name or a path).
    task : str
        The kind of records: ``'text'``, ``'tabular'`` or ``'image'``.
    ids : ndarray of str
        Record ids from the source's id column, else the 0-based row position.
    frame : DataFrame or None
        Feature columns only (no id, label or split) for text and tabular data.
    images : ndarray of float32 or None
        ``N x D`` flattened pixels in ``[0, 1]`` for image data.
    y : ndarray
        The labels, in the form of ``label_task``: int64 class indices into
        ``label_names`` (classification); an int64 ``N x L`` 0/1 matrix over the
        ``L = len(label_names)`` labels (multilabel); float64 targets
        (regression); one int64 array of tag indices per record (token
        classification).
    label_names : list of str
        Class, label or tag names in index order; for regression, the target's name.
    split : ndarray of str or None
        ``'train'`` / ``'test'`` per record when the source defines a split.
    text_columns, categorical_columns, numeric_columns : list of str
        The role of each column of ``frame``; the default featurizer reads them.
    label_task : str
        What is learnt (:data:`loopwise.core.tasks.TASKS`): ``'classification'``
        (the default), ``'multilabel'``, ``'regression'`` or ``'token_classification'``.
    """

    name: str
    source: str
    task: str
    ids: np.ndarray
    frame: pd.DataFrame | None
    images: np.ndarray | None
    y: np.ndarray
    label_names: list[str]
    split: np.ndarray | None
    text_columns: list[str] = field(default_factory=list)
    categorical_columns: list[str] = field(default_factory=list)
    numeric_columns: list[str] = field(default_factory=list)
    label_task: str = CLASSIFICATION

    def __post_init__(self) -> None:
        # Users may build a Dataset from their own arrays, so the invariants the
        # splitter and featurizer rely on are checked here, once.
        if self.task not in TASKS:
            raise DataError(f"Dataset {self.name!r}: task must be one of {list(TASKS)}, got {self.task!r}")
        try:
            check_task(self.label_task, f"Dataset {self.name!r}: label_task")
        except ConfigError as exc:
            raise DataError(str(exc)) from None
        self.ids = np.asarray(self.ids).astype(str)
        n = len(self.ids)
        self._check_labels(n)
        if self.frame is None and self.images is None:
            raise DataError(f"Dataset {self.name!r}: needs either a feature frame or an images array")
        if self.frame is not None and len(self.frame) != n:
            raise DataError(f"Dataset {self.name!r}: frame has {len(self.frame)} rows but there are {n} ids")
        if self.images is not None and (self.images.ndim != 2 or self.images.shape[0] != n):
            raise DataError(
                f"Dataset {self.name!r}: images must be an N x D array with N = {n}; got shape {self.images.shape}"
            )
        if self.split is not None:
            self.split = np.asarray(self.split).astype(str)
            if self.split.shape != (n,):
                raise DataError(f"Dataset {self.name!r}: split has shape {self.split.shape}; expected ({n},)")
            odd = sorted(set(np.unique(self.split).tolist()) - {"train", "test"})
            if odd:
                raise DataError(f"Dataset {self.name!r}: split values must be 'train' or 'test', found {odd}")
        missing = [
            c
            for c in (*self.text_columns, *self.categorical_columns, *self.numeric_columns)
            if self.frame is None or c not in self.frame.columns
        ]
        if missing:
            raise DataError(f"Dataset {self.name!r}: column roles name columns the frame lacks: {missing}")

    def _check_labels(self, n: int) -> None:
        """``y`` in the form of ``label_task``, with one label per id."""
        k = len(self.label_names)
        if self.label_task == TOKEN_CLASSIFICATION:
            self.y = np.asarray(self.y, dtype=object)
            if self.y.shape != (n,):
                raise DataError(f"Dataset {self.name!r}: y has shape {self.y.shape}; expected ({n},), one tag sequence per id")
            return
        if self.label_task == REGRESSION:
            self.y = np.asarray(self.y, dtype=np.float64)
            if self.y.shape != (n,):
                raise DataError(f"Dataset {self.name!r}: y has shape {self.y.shape}; expected ({n},), one target per id")
            bad = ~np.isfinite(self.y)
            if bad.any():
                raise DataError(f"Dataset {self.name!r}: target of record id {str(self.ids[np.flatnonzero(bad)[0]])!r} is not finite")
            return
        self.y = np.asarray(self.y, dtype=np.int64)
        if self.label_task == MULTILABEL:
            if self.y.shape != (n, k):
                raise DataError(
                    f"Dataset {self.name!r}: y has shape {self.y.shape}; expected ({n}, {k}), a 0/1 row per id over label_names"
                )
            if n and not np.isin(self.y, (0, 1)).all():
                raise DataError(f"Dataset {self.name!r}: a multilabel y holds values other than 0 and 1")
            return
        if self.y.shape != (n,):
            raise DataError(f"Dataset {self.name!r}: y has shape {self.y.shape}; expected ({n},), one label per id")
        if n and (self.y.min() < 0 or self.y.max() >= k):
            raise DataError(
                f"Dataset {self.name!r}: y holds class indices outside 0..{k - 1} "
                f"(label_names has {k} names)"
            )

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    def __repr__(self) -> str:
        split = ""
        if self.split is not None:
            values, counts = np.unique(self.split, return_counts=True)
            split = f", split={ {str(v): int(c) for v, c in zip(values, counts)} }"
        kind = "" if self.label_task == CLASSIFICATION else f", label_task={self.label_task!r}"
        return (
            f"Dataset(name={self.name!r}, task={self.task!r}{kind}, n_rows={len(self)}, "
            f"n_classes={self.n_classes}{split})"
        )

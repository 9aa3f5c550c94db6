"""The Dataset record: ids, features, labels and split of one loaded source."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from loopwise.errors import DataError

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
        ``'text'``, ``'tabular'`` or ``'image'``.
    ids : ndarray of str
        Record ids from the source's id column, else the 0-based row position.
    frame : DataFrame or None
        Feature columns only (no id, label or split) for text and tabular data.
    images : ndarray of float32 or None
        ``N x D`` flattened pixels in ``[0, 1]`` for image data.
    y : ndarray of int64
        Class index of each record into ``label_names``.
    label_names : list of str
        Class names in index order.
    split : ndarray of str or None
        ``'train'`` / ``'test'`` per record when the source defines a split.
    text_columns, categorical_columns, numeric_columns : list of str
        The role of each column of ``frame``; the default featurizer reads them.
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

    def __post_init__(self) -> None:
        # Users may build a Dataset from their own arrays, so the invariants the
        # splitter and featurizer rely on are checked here, once.
        if self.task not in TASKS:
            raise DataError(f"Dataset {self.name!r}: task must be one of {list(TASKS)}, got {self.task!r}")
        self.ids = np.asarray(self.ids).astype(str)
        self.y = np.asarray(self.y, dtype=np.int64)
        n = len(self.ids)
        if self.y.shape != (n,):
            raise DataError(f"Dataset {self.name!r}: y has shape {self.y.shape}; expected ({n},), one label per id")
        if n and (self.y.min() < 0 or self.y.max() >= len(self.label_names)):
            raise DataError(
                f"Dataset {self.name!r}: y holds class indices outside 0..{len(self.label_names) - 1} "
                f"(label_names has {len(self.label_names)} names)"
            )
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
        return (
            f"Dataset(name={self.name!r}, task={self.task!r}, n_rows={len(self)}, "
            f"n_classes={self.n_classes}{split})"
        )

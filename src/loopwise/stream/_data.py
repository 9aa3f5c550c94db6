"""The I/O edge of streams: a dataset read in time order (or file order) as a float feature matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loopwise.data import load_dataset
from loopwise.errors import DataError


@dataclass
class StreamData:
    """A stream: ids, features and class indices in replay order, and how that order was chosen."""

    name: str
    ids: np.ndarray
    X: np.ndarray
    y: np.ndarray
    label_names: list[str]
    order: str


def load_stream(source: str, limit: int | None = None) -> StreamData:
    """Load ``source`` (a dataset name or file) in ``t`` order when it has a ``t`` column, else in file order.

    Numeric columns are kept as they are (missing cells take the column median);
    categorical ones are one-hot coded over the categories in the file.
    """
    data = load_dataset(source)
    if data.task != "tabular" or data.frame is None:
        raise DataError(f"{source}: a stream needs a tabular dataset, got a {data.task} one")
    frame = data.frame
    order = "file order"
    positions = np.arange(len(frame))
    if "t" in frame.columns:
        t = pd.to_numeric(frame["t"], errors="coerce").to_numpy()
        if np.isnan(t).any():
            row = int(np.flatnonzero(np.isnan(t))[0])
            raise DataError(f"{source}: row {row + 1} (id {data.ids[row]}), column t: the time order must be a number")
        positions = np.argsort(t, kind="stable")
        frame = frame.drop(columns=["t"])
        order = "time order (column t)"
    numeric = [c for c in data.numeric_columns if c in frame.columns]
    parts = [frame[numeric].apply(pd.to_numeric, errors="coerce")]
    parts[0] = parts[0].fillna(parts[0].median())
    categorical = [c for c in data.categorical_columns if c in frame.columns]
    if categorical:
        parts.append(pd.get_dummies(frame[categorical].astype(str), dtype=np.float64))
    X = pd.concat(parts, axis=1).to_numpy(dtype=np.float64)[positions]
    if limit is not None:
        positions = positions[:limit]
        X = X[:limit]
    return StreamData(data.name, np.asarray(data.ids)[positions], X, np.asarray(data.y)[positions], list(data.label_names), order)

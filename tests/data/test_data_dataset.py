"""Dataset: the invariants a hand-built Dataset must keep, checked at construction."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopwise.data import Dataset, featurize
from loopwise.errors import DataError


def build(**changes: Any) -> Dataset:
    fields: dict[str, Any] = {
        "name": "hand",
        "source": "memory",
        "task": "tabular",
        "ids": [1, 2, 3],
        "frame": pd.DataFrame({"x": [1.0, 2.0, 3.0]}),
        "images": None,
        "y": [0, 1, 0],
        "label_names": ["a", "b"],
        "split": None,
        "numeric_columns": ["x"],
    }
    fields.update(changes)
    return Dataset(**fields)


def test_ids_become_strings_and_y_int64() -> None:
    ds = build()
    assert ds.ids.tolist() == ["1", "2", "3"] and ds.y.dtype == np.int64
    assert len(ds) == 3 and ds.n_classes == 2 and ds.text_columns == []


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"task": "audio"}, "task"),
        ({"y": [0, 1]}, "y has shape"),
        ({"y": [0, 1, 2]}, "class indices"),
        ({"frame": None}, "frame or an images"),
        ({"frame": pd.DataFrame({"x": [1.0]})}, "frame has 1 rows"),
        ({"images": np.zeros((2, 4), np.float32), "frame": None, "numeric_columns": []}, "images must be"),
        ({"split": ["train", "valid", "test"]}, "'valid'"),
        ({"numeric_columns": ["x", "nope"]}, "'nope'"),
    ],
)
def test_broken_invariants_are_refused(changes: dict[str, Any], says: str) -> None:
    with pytest.raises(DataError, match=says):
        build(**changes)


def test_featurizer_failure_becomes_a_data_error() -> None:
    # Text made only of stop-word-free single characters gives TF-IDF no vocabulary.
    ds = build(frame=pd.DataFrame({"t": ["a", "b", "c"]}), task="text", numeric_columns=[], text_columns=["t"])
    with pytest.raises(DataError, match="hand"):
        featurize(ds, np.array([0, 1]), np.array([2]))

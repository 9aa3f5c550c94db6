"""The learning task is read from the data: label sets (multilabel) and numbers (regression), and their bad values."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from loopwise.data import Dataset, load_dataset, split_pool_test
from loopwise.errors import DataError
from tests.data.conftest import make_shared_folder


def _real_slice(real_shared: Path, name: str, tmp_path: Path, rows: int) -> Path:
    """A folder with the real ``meta.json`` of ``name`` and the first ``rows`` rows of its data file."""
    folder = tmp_path / "datasets" / name
    folder.mkdir(parents=True)
    shutil.copy(real_shared / name / "meta.json", folder / "meta.json")
    with gzip.open(real_shared / name / "data.csv.gz", "rt", encoding="utf-8") as fh:
        head = [next(fh) for _ in range(rows + 1)]
    with gzip.open(folder / "data.csv.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(head)
    return folder


def test_goemotions_meta_makes_a_multilabel_text_dataset(real_shared: Path, tmp_path: Path) -> None:
    folder = _real_slice(real_shared, "goemotions", tmp_path, 200)
    ds = load_dataset(folder)
    names = json.loads((folder / "meta.json").read_text())["label_names"]
    assert (ds.task, ds.label_task, ds.label_names, ds.text_columns) == ("text", "multilabel", names, ["text"])
    assert ds.y.shape == (200, 28) and set(np.unique(ds.y).tolist()) == {0, 1}
    with gzip.open(folder / "data.csv.gz", "rt", encoding="utf-8") as fh:
        fh.readline()
        first = fh.readline()
    # The first row's label cell, in the file's order of names, is the row of ones.
    cell = first.rstrip("\n").split(",")[-2]
    assert [names[j] for j in np.flatnonzero(ds.y[0])] == cell.split("|")


def test_california_housing_meta_makes_a_regression_dataset(real_shared: Path, tmp_path: Path) -> None:
    folder = _real_slice(real_shared, "california_housing", tmp_path, 300)
    ds = load_dataset(folder)
    assert (ds.task, ds.label_task, ds.label_names) == ("tabular", "regression", ["median_house_value"])
    assert ds.y.dtype == np.float64 and ds.y[0] == 452600.0
    assert "ocean_proximity" in ds.categorical_columns and "target" not in ds.frame.columns  # type: ignore[union-attr]
    pool, test = split_pool_test(ds, test_size=0.25, seed=0)
    assert len(pool) + len(test) == 300 and not set(pool) & set(test)


def test_a_label_outside_the_declared_set_is_refused_with_its_row_and_id(tmp_path: Path) -> None:
    root = tmp_path / "datasets"
    make_shared_folder(
        root, "tags", "id,text,labels\na,one two,x|y\nb,three,z\n",
        {"task": "multilabel_text", "label_names": ["x", "y"]},
    )
    with pytest.raises(DataError, match=r"row 2 \(record id 'b'\): label column 'labels' names label 'z', which is not in the label set"):
        load_dataset(root / "tags")


def test_a_missing_or_non_numeric_target_is_refused_with_its_row_and_id(write: Callable[[str, str], Path]) -> None:
    path = write("prices.csv", "id,size,target\nh1,3.0,100\nh2,4.0,\nh3,5.0,300\n")
    with pytest.raises(DataError, match=r"prices.csv, row 2 \(record id 'h2'\): label column 'target': the target is missing"):
        load_dataset(path, task="regression")
    path = write("prices2.csv", "id,size,target\nh1,3.0,100\nh2,4.0,cheap\n")
    with pytest.raises(DataError, match=r"row 2 \(record id 'h2'\): label column 'target': value 'cheap' is not a number"):
        load_dataset(path, task="regression")


def test_a_file_is_classification_unless_told_and_a_task_can_be_named(write: Callable[[str, str], Path]) -> None:
    path = write("docs.csv", "id,text,labels\n1,red apple,red|fruit\n2,green leaf,green\n3,,\n")
    ds = load_dataset(path, task="multilabel", text_column="text")
    assert ds.label_names == ["fruit", "green", "red"]  # sorted, as class names are
    assert ds.y.tolist() == [[1, 0, 1], [0, 1, 0], [0, 0, 0]]  # an empty cell is a record with no label
    assert load_dataset(write("c.csv", "id,x,label\n1,0.5,a\n2,0.7,b\n")).label_task == "classification"


def test_a_task_that_contradicts_the_folder_or_is_unknown_is_refused(tmp_path: Path, write: Callable[[str, str], Path]) -> None:
    root = tmp_path / "datasets"
    make_shared_folder(root, "nums", "id,x,target\n1,0.5,3.0\n2,0.7,4.0\n", {"task": "regression"})
    with pytest.raises(DataError, match=r"the dataset's task is 'regression' \(meta.json task 'regression'\); got task='multilabel'"):
        load_dataset(root / "nums", task="multilabel")
    with pytest.raises(ValueError, match=r"task must be one of classification, multilabel, regression, token_classification; got 'ranking'"):
        load_dataset(write("r.csv", "id,x,label\n1,0.5,a\n"), task="ranking")


def test_a_dataset_built_by_hand_checks_its_labels_against_its_task() -> None:
    frame = {"ids": np.array(["a", "b"]), "frame": None, "images": np.zeros((2, 3), dtype=np.float32)}
    with pytest.raises(DataError, match=r"y has shape \(2,\); expected \(2, 2\), a 0/1 row per id"):
        Dataset("m", "m", "image", frame["ids"], None, frame["images"], np.array([0, 1]), ["p", "q"], None, label_task="multilabel")
    with pytest.raises(DataError, match=r"target of record id 'b' is not finite"):
        Dataset("r", "r", "image", frame["ids"], None, frame["images"], np.array([1.0, np.inf]), ["t"], None, label_task="regression")

"""load_dataset: every source type loads, with ids, labels, split and column roles from the source."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopwise.data import BUNDLED, Dataset, load_dataset

Write = Callable[[str, str], Path]

LONG = "this sentence is long enough to be free text rather than a category or number "


# --- bundled scikit-learn datasets -------------------------------------------------------------


def test_digits_is_an_image_task_scaled_to_unit_range() -> None:
    ds = load_dataset("digits")
    assert (ds.name, ds.source, ds.task) == ("digits", "digits", "image")
    assert ds.frame is None and ds.images is not None
    assert ds.images.shape == (1797, 64) and ds.images.dtype == np.float32
    assert ds.images.min() == 0.0 and ds.images.max() == 1.0
    assert ds.label_names == [str(d) for d in range(10)]
    assert ds.ids[:3].tolist() == ["0", "1", "2"] and len(set(ds.ids)) == 1797
    assert ds.y.dtype == np.int64 and ds.split is None


@pytest.mark.parametrize(("name", "n_rows", "n_features", "n_classes"), [("breast_cancer", 569, 30, 2), ("wine", 178, 13, 3)])
def test_bundled_tabular(name: str, n_rows: int, n_features: int, n_classes: int) -> None:
    ds = load_dataset(name)
    assert ds.task == "tabular" and ds.images is None and ds.frame is not None
    assert ds.frame.shape == (n_rows, n_features)
    assert ds.numeric_columns == list(ds.frame.columns) and not ds.categorical_columns and not ds.text_columns
    assert ds.n_classes == n_classes and len(ds) == n_rows
    assert set(np.unique(ds.y)) == set(range(n_classes))


def test_bundled_names_are_listed() -> None:
    assert set(BUNDLED) == {"digits", "breast_cancer", "wine"}


# --- CSV, TSV, JSONL, Parquet --------------------------------------------------------------------


def test_csv_keeps_ids_as_written_and_infers_column_roles(write: Write) -> None:
    path = write(
        "reviews.csv",
        "id,review,colour,flag,price,label\n"
        f"007,{LONG}one,red,True,1.5,2\n"
        f"a-1,{LONG}two,blue,False,2.5,10\n"
        f"3,{LONG}three,red,True,3.5,2\n"
        f"0,{LONG}four,,False,4.5,10\n",
    )
    ds = load_dataset(path)
    assert ds.name == "reviews" and ds.source == str(path) and ds.task == "text"
    assert ds.ids.tolist() == ["007", "a-1", "3", "0"]
    # numeric-looking class names sort as numbers: '2' before '10'
    assert ds.label_names == ["2", "10"] and ds.y.tolist() == [0, 1, 0, 1]
    assert ds.text_columns == ["review"]
    assert ds.categorical_columns == ["colour", "flag"]
    assert ds.numeric_columns == ["price"]
    assert ds.frame is not None and list(ds.frame.columns) == ["review", "colour", "flag", "price"]
    assert ds.frame["flag"].tolist() == ["True", "False", "True", "False"]
    assert pd.isna(ds.frame["colour"].iloc[3])  # categorical gap is kept for the imputer
    assert ds.split is None


def test_csv_without_id_column_uses_row_positions(write: Write) -> None:
    ds = load_dataset(write("plain.csv", "x,label\n1,a\n2,b\n3,a\n"))
    assert ds.ids.tolist() == ["0", "1", "2"] and ds.task == "tabular"


def test_csv_options_name_label_text_and_id_columns(write: Write) -> None:
    path = write("named.csv", "uid,body,target,extra\nu1,hi there,yes,x\nu2,bye now,no,y\nu3,hi again,yes,x\n")
    ds = load_dataset(path, label_column="target", text_column="body", id_column="uid")
    assert ds.ids.tolist() == ["u1", "u2", "u3"]
    assert ds.text_columns == ["body"] and ds.categorical_columns == ["extra"]
    assert ds.label_names == ["no", "yes"]


def test_literal_na_is_data_in_ids_labels_and_text(write: Write) -> None:
    path = write("na.csv", "id,msg,label\nNA,None,NA\nx,null,b\ny,hi,b\n")
    ds = load_dataset(path, text_column="msg")
    assert ds.ids.tolist() == ["NA", "x", "y"]
    assert ds.label_names == ["NA", "b"]
    assert ds.frame is not None and ds.frame["msg"].tolist() == ["None", "null", "hi"]


def test_quoted_commas_and_newlines_in_text(write: Write) -> None:
    path = write("q.csv", 'id,text,label\n1,"a, b\nand c",x\n2,"say ""hi""",y\n')
    ds = load_dataset(path, text_column="text")
    assert ds.frame is not None and ds.frame["text"].tolist() == ["a, b\nand c", 'say "hi"']


@pytest.mark.parametrize("name", ["t.csv.gz", "t.tsv"])
def test_gzip_csv_and_tsv(write: Write, name: str) -> None:
    sep = "\t" if name.endswith(".tsv") else ","
    rows = ["id,x,label", "a,1,p", "b,2,q"]
    ds = load_dataset(write(name, "\n".join(r.replace(",", sep) for r in rows) + "\n"))
    assert ds.name == "t" and ds.ids.tolist() == ["a", "b"] and ds.numeric_columns == ["x"]


def test_split_column_is_kept(write: Write) -> None:
    path = write("s.csv", "id,x,label,split\na,1,p,train\nb,2,q,Train\nc,3,p,test\nd,4,q,test\n")
    ds = load_dataset(path)
    assert ds.split is not None and ds.split.tolist() == ["train", "train", "test", "test"]
    assert "split" not in ds.frame.columns  # type: ignore[union-attr]


def test_jsonl_keeps_ids_and_skips_blank_lines(write: Write) -> None:
    path = write(
        "j.jsonl",
        '{"id": 10, "text": "%s a", "n": 1, "label": "x"}\n\n'
        '{"id": 11, "text": "%s b", "label": "y", "n": 2.5, "tag": "k"}\n' % (LONG, LONG),
    )
    ds = load_dataset(path)
    assert ds.ids.tolist() == ["10", "11"]
    assert ds.text_columns == ["text"] and ds.numeric_columns == ["n"] and ds.categorical_columns == ["tag"]
    assert ds.label_names == ["x", "y"]


def test_jsonl_integer_labels_become_class_names(write: Write) -> None:
    ds = load_dataset(write("ints.jsonl", '{"x": 1, "label": 1}\n{"x": 2, "label": 0}\n{"x": 3, "label": 1}\n'))
    assert ds.label_names == ["0", "1"] and ds.y.tolist() == [1, 0, 1]


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pd.DataFrame(
        {"id": ["r1", "r2", "r3"], "city": ["a", "b", "a"], "n": [1, 2, 3], "label": [True, False, True], "split": ["train", "train", "test"]}
    ).to_parquet(path)
    ds = load_dataset(path)
    assert ds.ids.tolist() == ["r1", "r2", "r3"] and ds.name == "p"
    assert ds.label_names == ["False", "True"] and ds.y.tolist() == [1, 0, 1]
    assert ds.categorical_columns == ["city"] and ds.numeric_columns == ["n"]
    assert ds.split is not None and ds.split.tolist() == ["train", "train", "test"]


# --- .npz ---------------------------------------------------------------------------------------------


def test_npz_uint8_images_with_ids_names_and_split(tmp_path: Path) -> None:
    path = tmp_path / "img.npz"
    X = np.array([[[0, 255], [51, 102]], [[255, 0], [0, 0]], [[1, 2], [3, 4]]], dtype=np.uint8)
    np.savez(
        path,
        X=X,
        y=np.array([1, 0, 1]),
        ids=np.array(["i0", "i1", "i2"]),
        label_names=np.array(["cat", "dog"]),
        split=np.array(["train", "test", "train"]),
    )
    ds = load_dataset(path)
    assert ds.task == "image" and ds.frame is None and ds.images is not None
    assert ds.images.shape == (3, 4) and ds.images.dtype == np.float32
    np.testing.assert_allclose(ds.images[0], [0.0, 1.0, 0.2, 0.4], rtol=1e-6)
    assert ds.ids.tolist() == ["i0", "i1", "i2"]
    assert ds.label_names == ["cat", "dog"] and ds.y.tolist() == [1, 0, 1]
    assert ds.split is not None and ds.split.tolist() == ["train", "test", "train"]


def test_npz_unit_floats_are_images_and_string_labels_are_sorted(tmp_path: Path) -> None:
    path = tmp_path / "f.npz"
    np.savez(path, X=np.array([[0.0, 0.5], [1.0, 0.25]]), y=np.array(["b", "a"]))
    ds = load_dataset(path)
    assert ds.task == "image" and ds.ids.tolist() == ["0", "1"]
    assert ds.label_names == ["a", "b"] and ds.y.tolist() == [1, 0]


def test_npz_other_numbers_are_tabular_columns(tmp_path: Path) -> None:
    path = tmp_path / "emb.npz"
    np.savez(path, X=np.array([[-1.5, 3.0], [2.0, 7.0], [0.0, 1.0]]), y=np.array([3, 5, 3]))
    ds = load_dataset(path)
    assert ds.task == "tabular" and ds.images is None and ds.frame is not None
    assert ds.numeric_columns == ["x0", "x1"] and ds.frame.shape == (3, 2)
    assert ds.label_names == ["3", "5"] and ds.y.tolist() == [0, 1, 0]


# --- shared dataset folders ---------------------------------------------------------------------------


def test_shared_folder_by_name_reads_categories_as_strings(fake_shared: Path) -> None:
    ds = load_dataset("toy_tab", shared_root=fake_shared)
    assert ds.name == "toy_tab" and ds.source == "toy_tab" and ds.task == "tabular"
    assert ds.ids.tolist() == ["r0", "r1", "r2", "r3", "r4"]
    assert ds.frame is not None and ds.frame["code"].tolist()[:3] == ["007", "010", "007"]
    assert pd.isna(ds.frame["code"].iloc[3])
    # meta declares missing values, so the numeric gap is accepted (and imputed later)
    assert np.isnan(ds.frame["size"].iloc[1])
    assert ds.label_names == ["b", "a"] and ds.y.tolist() == [0, 1, 0, 1, 0]  # meta's order, not sorted
    assert ds.split is not None and ds.split.tolist() == ["train"] * 3 + ["test"] * 2


def test_shared_folder_by_path_and_by_env(fake_shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    by_path = load_dataset(fake_shared / "toy_text")
    assert by_path.task == "text" and by_path.text_columns == ["text"]
    assert by_path.frame is not None and by_path.frame["text"].tolist()[2:] == ['good "quoted" day', "NA"]
    monkeypatch.setenv("LOOPWISE_DATASETS", str(fake_shared))
    by_env = load_dataset("toy_text")
    assert by_env.ids.tolist() == by_path.ids.tolist()


def test_real_sms_spam(real_shared: Path) -> None:
    ds = load_dataset("sms_spam", shared_root=real_shared)
    assert ds.task == "text" and len(ds) == 5574 and ds.label_names == ["ham", "spam"]
    assert ds.ids[:3].tolist() == ["0", "1", "2"] and ds.text_columns == ["text"]


def test_real_trec_split_and_adult_missing_categories(real_shared: Path) -> None:
    trec = load_dataset(real_shared / "trec")
    assert trec.split is not None and (trec.split == "test").sum() == 500
    adult = load_dataset("adult", shared_root=real_shared)
    assert adult.frame is not None and adult.frame["workclass"].isna().sum() > 0
    meta = json.loads((real_shared / "adult" / "meta.json").read_text())
    cats = {f["name"] for f in meta["features"] if f["type"] == "categorical"}
    assert set(adult.categorical_columns) == cats


def test_dataset_repr_and_len() -> None:
    ds = load_dataset("wine")
    assert isinstance(ds, Dataset) and len(ds) == 178
    assert "wine" in repr(ds) and "n_rows=178" in repr(ds)

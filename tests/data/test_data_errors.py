"""Bad input: every refusal is one DataError naming the problem and where (file, row, column, id)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from loopwise.data import load_dataset
from loopwise.errors import DataError, LoopwiseError

Write = Callable[[str, str], Path]


def refused(source: object, **kwargs: object) -> str:
    """The message of the DataError that loading ``source`` raises."""
    with pytest.raises(DataError) as info:
        load_dataset(source, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_a_data_error_is_caught_as_a_loopwise_error_and_as_a_value_error(tmp_path: Path) -> None:
    # Callers may catch either base (scikit-learn's habit); each raises check stands on its own.
    with pytest.raises(LoopwiseError, match="nope.csv"):
        load_dataset(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="nope.csv"):
        load_dataset(tmp_path / "nope.csv")


def assert_mentions(message: str, *parts: str) -> None:
    missing = [p for p in parts if p not in message]
    assert not missing, f"{missing} not in message: {message}"


# --- not found ----------------------------------------------------------------------------------


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    msg = refused(tmp_path / "nope.csv")
    assert_mentions(msg, "nope.csv", "no such file", "digits")


def test_unknown_name_lists_bundled_and_shared(fake_shared: Path) -> None:
    msg = refused("no_such_set", shared_root=fake_shared)
    assert_mentions(msg, "'no_such_set'", "digits", "breast_cancer", "wine", "toy_tab", "toy_text")


def test_unsupported_suffix(write: Write) -> None:
    assert_mentions(refused(write("d.xlsx", "x")), "d.xlsx", "unsupported", ".csv", ".npz")


def test_folder_without_data_file(tmp_path: Path) -> None:
    (tmp_path / "empty_set").mkdir()
    (tmp_path / "empty_set" / "notes.txt").write_text("hi")
    assert_mentions(refused(tmp_path / "empty_set"), "empty_set", "data.csv.gz", "notes.txt")


def test_bundled_refuses_column_options() -> None:
    assert_mentions(refused("digits", label_column="y"), "digits", "label_column")


# --- columns ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "role"), [("label_column", "label"), ("text_column", "text"), ("id_column", "id")]
)
def test_unknown_column_lists_the_columns(write: Write, option: str, role: str) -> None:
    path = write("cols.csv", "id,body,label\n1,hi,a\n2,yo,b\n")
    msg = refused(path, **{option: "missing_col"})
    assert_mentions(msg, "cols.csv", f"no {role} column 'missing_col'", "'id', 'body', 'label'", option)


def test_no_label_column_by_default(write: Write) -> None:
    msg = refused(write("nolabel.csv", "id,x,target\n1,2,a\n"))
    assert_mentions(msg, "nolabel.csv", "'label'", "'target'", "label_column")


def test_one_column_two_roles(write: Write) -> None:
    msg = refused(write("roles.csv", "id,x,label\n1,2,a\n2,3,b\n"), text_column="label")
    assert_mentions(msg, "roles.csv", "two roles")


def test_no_feature_columns(write: Write) -> None:
    assert_mentions(refused(write("bare.csv", "id,label\n1,a\n2,b\n")), "bare.csv", "no feature columns")


# --- labels ------------------------------------------------------------------------------------


def test_single_class(write: Write) -> None:
    msg = refused(write("mono.csv", "id,x,label\n1,2,spam\n2,3,spam\n"))
    assert_mentions(msg, "mono.csv", "label column 'label'", "single class 'spam'")


def test_missing_label_names_row_and_id(write: Write) -> None:
    msg = refused(write("gap.csv", "id,x,label\nr1,2,a\nr2,3,b\nr3,4,\n"))
    assert_mentions(msg, "gap.csv", "row 3", "record id 'r3'", "missing label")


def test_blank_label_in_jsonl_names_the_line(write: Write) -> None:
    msg = refused(write("gap.jsonl", '{"id": "a", "x": 1, "label": "p"}\n\n{"id": "b", "x": 2, "label": " "}\n'))
    assert_mentions(msg, "gap.jsonl", "line 3", "record id 'b'", "missing label")


def test_label_outside_declared_names(fake_shared: Path) -> None:
    meta_path = fake_shared / "toy_text" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["label_names"] = ["neg", "other"]
    meta_path.write_text(json.dumps(meta))
    msg = refused("toy_text", shared_root=fake_shared)
    assert_mentions(msg, "data.csv.gz", "row 1", "record id '0'", "'pos'", "label_names")


# --- ids ---------------------------------------------------------------------------------------------


def test_duplicate_ids_name_ids_and_rows(write: Write) -> None:
    msg = refused(write("dups.csv", "id,x,label\nA,1,p\nB,2,q\nA,3,p\nC,4,q\nB,5,p\n"))
    assert_mentions(msg, "dups.csv", "'A' (rows 1, 3)", "'B' (rows 2, 5)", "2 ids")


def test_missing_id(write: Write) -> None:
    msg = refused(write("noid.csv", "id,x,label\nA,1,p\n,2,q\n"))
    assert_mentions(msg, "noid.csv", "row 2", "missing record id")


def test_duplicate_ids_in_npz(tmp_path: Path) -> None:
    path = tmp_path / "dup.npz"
    np.savez(path, X=np.zeros((3, 2)), y=np.array([0, 1, 0]), ids=np.array(["a", "b", "a"]))
    assert_mentions(refused(path), "dup.npz", "'a' (X[0], X[2])")


# --- numeric values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "kind"), [("inf", "infinite"), ("-inf", "infinite"), ("", "missing (NaN)"), ("NaN", "missing (NaN)")])
def test_bad_number_in_csv_names_file_row_column_id(write: Write, cell: str, kind: str) -> None:
    msg = refused(write("nums.csv", f"id,age,city,label\nk1,30,x,a\nk2,{cell},y,b\nk3,40,z,a\n"))
    assert_mentions(msg, "nums.csv", "row 2", "record id 'k2'", "column 'age'", kind)


def test_nan_in_jsonl_numeric_names_line(write: Write) -> None:
    msg = refused(write("n.jsonl", '{"id": 1, "v": 1.5, "label": "a"}\n{"id": 2, "v": null, "label": "b"}\n'))
    assert_mentions(msg, "n.jsonl", "line 2", "record id '2'", "column 'v'")


def test_inf_in_parquet(tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "inf.parquet"
    pd.DataFrame({"id": ["a", "b"], "v": [1.0, np.inf], "label": ["x", "y"]}).to_parquet(path)
    assert_mentions(refused(path), "inf.parquet", "row 2", "record id 'b'", "column 'v'", "infinite")


def test_shared_folder_without_declared_missing_values_refuses_nan(fake_shared: Path) -> None:
    meta_path = fake_shared / "toy_tab" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["missing_values"] = 0
    meta_path.write_text(json.dumps(meta))
    msg = refused("toy_tab", shared_root=fake_shared)
    assert_mentions(msg, "data.csv.gz", "row 2", "record id 'r1'", "column 'size'")


def test_non_number_in_declared_numeric_column(fake_shared: Path) -> None:
    import gzip

    with gzip.open(fake_shared / "toy_tab" / "data.csv.gz", "wt") as fh:
        fh.write("id,code,size,label\nr0,1,2.0,a\nr1,2,big,b\n")
    msg = refused("toy_tab", shared_root=fake_shared)
    assert_mentions(msg, "data.csv.gz", "row 2", "record id 'r1'", "column 'size'", "'big'")


def test_nan_and_inf_in_npz(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, X=np.array([[0.0, 1.0], [2.0, np.inf]]), y=np.array([0, 1]), ids=np.array(["p", "q"]))
    assert_mentions(refused(path), "bad.npz", "X[1]", "record id 'q'", "column 1", "infinite")


# --- file structure ----------------------------------------------------------------------------------


def test_malformed_jsonl_line(write: Write) -> None:
    msg = refused(write("broken.jsonl", '{"id": 1, "label": "a"}\n{"id": 2, "label": "b"\n'))
    assert_mentions(msg, "broken.jsonl", "line 2", "malformed JSON")


def test_jsonl_line_that_is_not_an_object(write: Write) -> None:
    msg = refused(write("list.jsonl", '{"id": 1, "x": 2, "label": "a"}\n[1, 2]\n'))
    assert_mentions(msg, "list.jsonl", "line 2", "JSON object")


def test_nested_values_are_refused(write: Write) -> None:
    msg = refused(write("nested.jsonl", '{"id": 1, "tags": "a", "label": "a"}\n{"id": 2, "tags": ["x"], "label": "b"}\n'))
    assert_mentions(msg, "nested.jsonl", "line 2", "column 'tags'", "list")


def test_malformed_csv(write: Write) -> None:
    msg = refused(write("ragged.csv", "id,x,label\n1,2,a\n2,3,b,extra\n"))
    assert_mentions(msg, "ragged.csv", "malformed CSV", "line 3")


@pytest.mark.parametrize(("text", "says"), [("", "empty"), ("id,x,label\n", "no data rows")])
def test_empty_files(write: Write, text: str, says: str) -> None:
    assert_mentions(refused(write("blank.csv", text)), "blank.csv", says)


def test_bad_split_value(write: Write) -> None:
    msg = refused(write("sp.csv", "id,x,label,split\na,1,p,train\nb,2,q,holdout\n"))
    assert_mentions(msg, "sp.csv", "row 2", "record id 'b'", "'holdout'", "train", "test", "dev", "validation")


@pytest.mark.parametrize("absent", ["X", "y"])
def test_npz_without_x_or_y(tmp_path: Path, absent: str) -> None:
    path = tmp_path / "part.npz"
    arrays = {"X": np.zeros((2, 3)), "y": np.array([0, 1])}
    del arrays[absent]
    np.savez(path, **arrays)  # type: ignore[arg-type]
    assert_mentions(refused(path), "part.npz", f"no array {absent}")


def test_npz_label_index_out_of_range(tmp_path: Path) -> None:
    path = tmp_path / "codes.npz"
    np.savez(path, X=np.zeros((3, 2)), y=np.array([0, 1, 2]), label_names=np.array(["a", "b"]))
    assert_mentions(refused(path), "codes.npz", "X[2]", "record id '2'", "class index")


def test_npz_object_arrays_are_refused_without_unpickling(tmp_path: Path) -> None:
    path = tmp_path / "obj.npz"
    np.savez(path, X=np.zeros((2, 2)), y=np.array([0, 1]), label_names=np.array(["a", "b"], dtype=object))
    assert_mentions(refused(path), "obj.npz", "dtype=str")


def test_not_an_npz(write: Write) -> None:
    assert_mentions(refused(write("fake.npz", "hello")), "fake.npz", "cannot read")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,x,label\n1,caf\xe9,a\n2,b,b\n".encode("latin-1"))
    assert_mentions(refused(path), "latin.csv", "UTF-8")

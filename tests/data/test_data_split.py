"""split_pool_test: the source's own split, a seeded stratified split, and bounded subsamples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopwise.data import Dataset, load_dataset, split_pool_test
from loopwise.errors import ConfigError

Write = Callable[[str, str], Path]


def toy(y: list[int] | np.ndarray, split: list[str] | None = None) -> Dataset:
    y = np.asarray(y, dtype=np.int64)
    n = len(y)
    return Dataset(
        name="toy",
        source="toy",
        task="image",
        ids=np.arange(n).astype(str),
        frame=None,
        images=np.zeros((n, 1), dtype=np.float32),
        y=y,
        label_names=[str(c) for c in range(int(y.max()) + 1)],
        split=None if split is None else np.asarray(split),
    )


def fractions(y: np.ndarray, n_classes: int) -> np.ndarray:
    return np.bincount(y, minlength=n_classes) / len(y)


def test_own_split_is_respected(write: Write) -> None:
    path = write("s.csv", "id,x,label,split\na,1,p,test\nb,2,q,train\nc,3,p,train\nd,4,q,test\ne,5,p,train\n")
    ds = load_dataset(path)
    pool, test = split_pool_test(ds, test_size=0.5, seed=3)
    assert pool.tolist() == [1, 2, 4] and test.tolist() == [0, 3]
    assert pool.dtype == np.int64 and test.dtype == np.int64


@pytest.mark.parametrize("held_out", ["dev", "validation", "val", "valid", "Dev", " VALIDATION "])
def test_dev_and_validation_rows_are_held_out_like_test(write: Write, held_out: str) -> None:
    # Issue 8, defect 14: a GLUE-style train/validation split was refused.
    path = write("glue.csv", f"id,x,label,split\na,1,p,{held_out}\nb,2,q,train\nc,3,p,train\nd,4,q,{held_out}\ne,5,p,train\n")
    ds = load_dataset(path)
    assert ds.split is not None and ds.split.tolist() == ["test", "train", "train", "test", "train"]
    pool, test = split_pool_test(ds, test_size=0.5, seed=3)
    assert pool.tolist() == [1, 2, 4] and test.tolist() == [0, 3]


def test_train_dev_test_holds_out_dev_and_test_together(write: Write) -> None:
    path = write("tdt.csv", "id,x,label,split\na,1,p,train\nb,2,q,dev\nc,3,p,test\nd,4,q,train\ne,5,p,dev\nf,6,q,test\n")
    pool, test = split_pool_test(load_dataset(path), seed=0)
    assert pool.tolist() == [0, 3] and test.tolist() == [1, 2, 4, 5]


def test_real_goemotions_train_dev_test(real_shared: Path, tmp_path: Path) -> None:
    import gzip

    # A slice of the real file with rows of each of its three splits (train 0.., dev 43410.., test 48836..).
    with gzip.open(real_shared / "goemotions" / "data.csv.gz", "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    path = tmp_path / "goemotions_slice.csv"
    path.write_text("\n".join([lines[0], *lines[1:61], *lines[43411:43431], *lines[48837:48857]]) + "\n", encoding="utf-8")
    ds = load_dataset(path, label_column="labels", text_column="text")
    pool, test = split_pool_test(ds)
    assert len(pool) == 60 and len(test) == 40
    assert ds.ids[test].tolist()[:2] == ["43410", "43411"]


def test_real_trec_split(real_shared: Path) -> None:
    ds = load_dataset("trec", shared_root=real_shared)
    pool, test = split_pool_test(ds)
    assert len(test) == 500 and len(pool) == 5452
    assert set(ds.split[test]) == {"test"}  # type: ignore[index]


def test_split_with_only_train_rows_falls_back_to_a_random_split() -> None:
    ds = toy([0, 1] * 10, split=["train"] * 20)
    pool, test = split_pool_test(ds, test_size=0.25)
    assert len(test) == 5 and len(pool) == 15


def test_stratified_split_is_seeded_disjoint_and_complete() -> None:
    ds = load_dataset("digits")
    pool, test = split_pool_test(ds, test_size=0.25, seed=7)
    again = split_pool_test(ds, test_size=0.25, seed=7)
    other = split_pool_test(ds, test_size=0.25, seed=8)
    np.testing.assert_array_equal(pool, again[0])
    np.testing.assert_array_equal(test, again[1])
    assert not np.array_equal(test, other[1])
    assert len(np.intersect1d(pool, test)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([pool, test])), np.arange(len(ds)))
    assert len(test) == 450
    np.testing.assert_allclose(fractions(ds.y[test], 10), fractions(ds.y, 10), atol=0.01)
    assert np.all(np.diff(pool) > 0)  # sorted positions


def test_integer_test_size() -> None:
    pool, test = split_pool_test(load_dataset("wine"), test_size=30)
    assert len(test) == 30 and len(pool) == 148


def test_max_pool_and_max_test_subsample_stratified_and_seeded() -> None:
    ds = load_dataset("digits")
    full_pool, full_test = split_pool_test(ds, seed=1)
    pool, test = split_pool_test(ds, seed=1, max_pool=500, max_test=200)
    assert len(pool) == 500 and len(test) == 200
    assert set(pool) <= set(full_pool) and set(test) <= set(full_test)
    np.testing.assert_allclose(fractions(ds.y[pool], 10), fractions(ds.y[full_pool], 10), atol=0.01)
    again = split_pool_test(ds, seed=1, max_pool=500, max_test=200)
    np.testing.assert_array_equal(pool, again[0])
    np.testing.assert_array_equal(test, again[1])
    # limits above the sizes change nothing
    big = split_pool_test(ds, seed=1, max_pool=10**6, max_test=10**6)
    np.testing.assert_array_equal(big[0], full_pool)


def test_max_pool_applies_to_the_own_split(write: Write) -> None:
    rows = "".join(f"r{i},{i},{'pq'[i % 2]},{'train' if i < 16 else 'test'}\n" for i in range(20))
    ds = load_dataset(write("big.csv", "id,x,label,split\n" + rows))
    pool, test = split_pool_test(ds, max_pool=6)
    assert len(pool) == 6 and set(pool) <= set(range(16)) and test.tolist() == [16, 17, 18, 19]
    assert np.bincount(ds.y[pool]).tolist() == [3, 3]


def test_singleton_class_falls_back_to_an_unstratified_split() -> None:
    ds = toy([0, 0, 0, 0, 1, 1, 1, 1, 2])
    pool, test = split_pool_test(ds, test_size=0.3, seed=0)
    assert len(pool) + len(test) == 9 and len(np.intersect1d(pool, test)) == 0
    assert np.array_equal(test, split_pool_test(ds, test_size=0.3, seed=0)[1])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"test_size": 0.0},
        {"test_size": 1.0},
        {"test_size": 500},
        {"test_size": "half"},
        {"max_pool": 0},
        {"max_test": 2.5},
        {"max_pool": True},
    ],
)
def test_bad_parameters(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as info:
        split_pool_test(load_dataset("wine"), **kwargs)  # type: ignore[arg-type]
    assert next(iter(kwargs)) in str(info.value)


@settings(max_examples=40, deadline=None)
@given(
    y=st.lists(st.integers(0, 3), min_size=4, max_size=60),
    test_size=st.floats(0.1, 0.9),
    seed=st.integers(0, 2**31 - 1),
)
def test_split_partitions_any_labels(y: list[int], test_size: float, seed: int) -> None:
    ds = toy(y)
    n_test = int(np.ceil(test_size * len(y)))
    if n_test >= len(y):
        with pytest.raises(ConfigError, match="pool rows"):
            split_pool_test(ds, test_size=test_size, seed=seed)
        return
    pool, test = split_pool_test(ds, test_size=test_size, seed=seed)
    assert len(np.intersect1d(pool, test)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([pool, test])), np.arange(len(y)))
    assert len(test) == int(np.ceil(test_size * len(y)))

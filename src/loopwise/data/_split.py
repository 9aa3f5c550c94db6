"""Pool and test positions: the source's own split, or a seeded stratified one."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.model_selection import train_test_split

from loopwise.core.tasks import CLASSIFICATION
from loopwise.data._dataset import Dataset
from loopwise.errors import ConfigError


def split_pool_test(
    dataset: Dataset,
    *,
    test_size: float = 0.25,
    seed: int = 0,
    max_pool: int | None = None,
    max_test: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (sorted int64 row indices into ``dataset``) of the pool and the test rows.

    When the dataset defines its own split with both ``train`` and ``test`` rows,
    the train rows are the pool and the test rows the test set, and ``test_size``
    is not used. Otherwise ``test_size`` (a fraction in (0, 1), or a row count) of
    the rows go to the test set by ``sklearn.model_selection.train_test_split``,
    stratified by class and seeded with ``seed``.

    ``max_pool`` / ``max_test`` then keep at most that many pool / test rows, a
    stratified sample seeded with ``seed``, for data too big to run on whole.

    Stratification needs every class at least twice and each side at least one
    row per class; when the data cannot give that (tiny data, singleton classes)
    the split falls back to a plain seeded shuffle, still reproducible.
    """
    n = len(dataset)
    _check_size("test_size", test_size, n)
    for label, value in (("max_pool", max_pool), ("max_test", max_test)):
        if value is not None and (not _is_int(value) or value < 1):
            raise ConfigError(f"{label} must be a positive integer or None; got {value!r}")
    positions = np.arange(n, dtype=np.int64)
    # Stratified by class for classification; label sets and numbers are drawn uniformly.
    y = dataset.y if dataset.label_task == CLASSIFICATION else None
    split = dataset.split
    if split is not None and (split == "train").any() and (split == "test").any():
        pool = positions[split == "train"]
        test = positions[split == "test"]
    else:
        _check_both_sides(test_size, n)
        pool, test = _draw(positions, y, test_size, seed)
    if max_pool is not None and len(pool) > max_pool:
        pool = _draw(pool, y, max_pool, seed)[1]
    if max_test is not None and len(test) > max_test:
        test = _draw(test, y, max_test, seed)[1]
    return np.sort(pool), np.sort(test)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_size(label: str, value: object, n: int) -> None:
    if _is_int(value):
        ok = 1 <= int(value) < n  # type: ignore[call-overload]
        allowed = f"an integer in 1..{n - 1}"
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        ok = 0.0 < float(value) < 1.0
        allowed = "a fraction strictly between 0 and 1"
    else:
        ok, allowed = False, "a fraction or a row count"
    if not ok:
        raise ConfigError(f"{label} must be {allowed} for {n} rows; got {value!r}")


def _check_both_sides(test_size: float | int, n: int) -> None:
    # sklearn rounds the test side up; a fraction of very few rows can leave no pool.
    n_test = int(test_size) if _is_int(test_size) else int(np.ceil(float(test_size) * n))
    if n_test < 1 or n - n_test < 1:
        raise ConfigError(
            f"test_size={test_size!r} of {n} rows gives {n_test} test and {n - n_test} pool rows; both need at least one"
        )


def _draw(positions: np.ndarray, y: np.ndarray | None, size: float | int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(rest, drawn)``: ``size`` (a fraction or a count) of ``positions`` drawn stratified by class (``y``), else uniformly."""
    if y is None:
        rest, drawn = train_test_split(positions, test_size=size, random_state=seed)
        return np.asarray(rest, dtype=np.int64), np.asarray(drawn, dtype=np.int64)
    try:
        rest, drawn = train_test_split(positions, test_size=size, random_state=seed, stratify=y[positions])
    except ValueError:
        # Too few rows of some class to stratify; an unstratified seeded split is
        # the best that data allows, and is still reproducible.
        rest, drawn = train_test_split(positions, test_size=size, random_state=seed)
    return np.asarray(rest, dtype=np.int64), np.asarray(drawn, dtype=np.int64)

"""The learning task of a pool (classification, multi-label, regression, token classification) and the label form of each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from loopwise.errors import ConfigError, DataError

CLASSIFICATION = "classification"
MULTILABEL = "multilabel"
REGRESSION = "regression"
TOKEN_CLASSIFICATION = "token_classification"
TASKS = frozenset({CLASSIFICATION, MULTILABEL, REGRESSION, TOKEN_CLASSIFICATION})
DEFAULT_TASK = CLASSIFICATION

# meta.json's "task" of the shared datasets -> the learning task (the rest, text/tabular/image/stream, classify).
META_TASKS = {"multilabel_text": MULTILABEL, "regression": REGRESSION, "token_classification": TOKEN_CLASSIFICATION}

# Each task's headline score (higher is better: what AULC and "final" figures read) and its second figure.
HEADLINE = {
    CLASSIFICATION: ("accuracy", "macro_f1"),
    MULTILABEL: ("micro_f1", "macro_f1"),
    REGRESSION: ("neg_rmse", "r2"),
    TOKEN_CLASSIFICATION: ("entity_f1", "token_accuracy"),
}
# The figures `runs show` lists per loop, by task.
TASK_METRICS = {
    CLASSIFICATION: ("accuracy", "macro_f1"),
    MULTILABEL: ("micro_f1", "macro_f1", "subset_accuracy", "hamming_loss"),
    REGRESSION: ("rmse", "mae", "r2"),
    TOKEN_CLASSIFICATION: ("entity_f1", "token_accuracy"),
}
# How reports name those figures.
METRIC_TITLES = {
    "accuracy": "accuracy",
    "macro_f1": "macro F1",
    "micro_f1": "micro F1",
    "neg_rmse": "-RMSE",
    "r2": "R²",
    "entity_f1": "entity F1",
    "token_accuracy": "token accuracy",
    "subset_accuracy": "subset accuracy",
    "hamming_loss": "Hamming loss",
    "rmse": "RMSE",
    "mae": "MAE",
}
# Multi-label names are joined with this in the store and in files (the shared layout's separator).
LABEL_SEPARATOR = "|"


def check_task(task: object, where: str = "task") -> str:
    """``task`` itself when it is one of :data:`TASKS`, else a ConfigError naming ``where`` and the allowed values."""
    if not isinstance(task, str) or task not in TASKS:
        raise ConfigError(f"{where} must be one of {', '.join(sorted(TASKS))}; got {task!r}")
    return task


def headline(task: str) -> tuple[str, str]:
    """The task's headline metric and its second figure, as the keys ``evaluate`` writes."""
    return HEADLINE[check_task(task)]


def metric_titles(task: str) -> tuple[str, str]:
    """How reports name the task's headline metric and its second figure (``accuracy``, ``micro F1``, ``-RMSE`` ...)."""
    first, second = headline(task)
    return METRIC_TITLES[first], METRIC_TITLES[second]


def empty_labels(task: str, n: int, n_labels: int | None = None) -> np.ndarray:
    """The pool's label array before any record is labelled: -1 class indices, -1 rows of a label matrix, or NaN targets."""
    task = check_task(task)
    if task == MULTILABEL:
        if n_labels is None or n_labels < 1:
            raise ConfigError(f"a multilabel pool needs n_labels >= 1, got {n_labels!r}")
        return np.full((n, n_labels), -1, dtype=np.int64)
    if task == REGRESSION:
        return np.full(n, np.nan, dtype=np.float64)
    if task == TOKEN_CLASSIFICATION:
        return np.full(n, None, dtype=object)
    return np.full(n, -1, dtype=np.int64)


def check_labels(task: str, labels: Any, n_classes: int, ids: Sequence[Any] | np.ndarray, what: str = "label") -> np.ndarray:
    """Labels of the records ``ids`` in the task's form, or a DataError naming the first record that is wrong.

    classification: class indices in ``0..n_classes-1``; multilabel: an ``n x n_classes`` 0/1
    matrix; regression: finite numbers; token_classification: one tag-index array per record.
    """
    ids = list(ids)
    n = len(ids)
    if task == REGRESSION:
        arr = np.asarray(labels, dtype=np.float64)
        if arr.shape != (n,):
            raise DataError(f"got {what}s of shape {arr.shape} for {n} records; expected one number per record")
        bad = ~np.isfinite(arr)
        if bad.any():
            raise DataError(f"{what} for record id {str(ids[int(np.flatnonzero(bad)[0])])!r} is not a finite number")
        return arr
    if task == MULTILABEL:
        arr = np.asarray(labels)
        if arr.shape != (n, n_classes):
            raise DataError(
                f"got {what}s of shape {arr.shape} for {n} records; expected {n} x {n_classes} (0/1 per label)"
            )
        bad_rows = ~np.isin(arr, (0, 1)).all(axis=1)
        if bad_rows.any():
            record_id = str(ids[int(np.flatnonzero(bad_rows)[0])])
            raise DataError(f"{what} for record id {record_id!r} holds values other than 0 and 1")
        return arr.astype(np.int64)
    if task == TOKEN_CLASSIFICATION:
        out = np.empty(n, dtype=object)
        seq = list(labels)
        if len(seq) != n:
            raise DataError(f"got {len(seq)} tag sequences for {n} records")
        for i, tags in enumerate(seq):
            tags = np.asarray(tags, dtype=np.int64)
            if tags.ndim != 1 or (tags.size and (tags.min() < 0 or tags.max() >= n_classes)):
                raise DataError(f"{what} for record id {str(ids[i])!r}: tags must be indices 0..{n_classes - 1}")
            out[i] = tags
        return out
    arr = np.asarray(labels, dtype=np.int64)
    if arr.shape != (n,):
        raise DataError(f"got {what}s of shape {arr.shape} for {n} records; expected one class per record")
    bad = (arr < 0) | (arr >= n_classes)
    if bad.any():
        record_id = str(ids[int(np.flatnonzero(bad)[0])])
        raise DataError(f"{what} out of range for record id {record_id!r}: classes are 0..{n_classes - 1}")
    return arr


def label_strings(task: str, labels: Any, label_names: Sequence[str]) -> list[str]:
    """Labels as the store keeps them: a class name, names joined by ``|``, a number, or tags joined by spaces."""
    if task == REGRESSION:
        return [repr(float(v)) for v in np.asarray(labels, dtype=np.float64)]
    if task == MULTILABEL:
        return [
            LABEL_SEPARATOR.join(label_names[int(j)] for j in np.flatnonzero(np.asarray(row) == 1))
            for row in np.asarray(labels)
        ]
    if task == TOKEN_CLASSIFICATION:
        return [" ".join(label_names[int(t)] for t in tags) for tags in labels]
    return [label_names[int(v)] for v in np.asarray(labels)]


def is_label_value(task: str, value: str, label_names: Sequence[str]) -> bool:
    """Whether ``value`` is a label as :func:`label_strings` writes it for a project with ``label_names``."""
    names = set(label_names)
    if task == REGRESSION:
        try:
            return bool(np.isfinite(float(value)))
        except ValueError:
            return False
    if task == MULTILABEL:
        return all(name in names for name in value.split(LABEL_SEPARATOR) if name)
    if task == TOKEN_CLASSIFICATION:
        return all(tag in names for tag in value.split())
    return value in names


def hard_predictions(task: str, output: np.ndarray) -> np.ndarray:
    """What a model predicts from its output, for the stop set: the top class, the labels above 0.5, or the mean."""
    out = np.asarray(output)
    if task == MULTILABEL:
        return (out >= 0.5).astype(np.int64)
    if task == REGRESSION:
        return out[:, 0].astype(np.float64)
    return out.argmax(axis=1).astype(np.int64)

"""Featurization: the default column pipeline, fitted on pool rows and checked for NaN/inf."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from loopwise.core.validation import check_features
from loopwise.data._dataset import Dataset
from loopwise.errors import ConfigError, DataError

# Below this many fitting rows, a term seen in two documents is rare enough that
# min_df=2 would prune most of the vocabulary (or all of it), so keep every term.
TINY_TEXT_ROWS = 100
MAX_TEXT_FEATURES = 50_000


def build_featurizer(dataset: Dataset, *, n_fit_rows: int | None = None) -> TransformerMixin:
    """The default, unfitted featurizer for ``dataset``.

    * text columns: ``TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2),
      max_features=50000)``, one per column; ``min_df=1`` when fewer than 100 rows
      will be fitted on (``n_fit_rows``, default ``len(dataset)``);
    * categorical columns: most-frequent imputation, then one-hot encoding that
      ignores categories unseen at fit time;
    * numeric columns: median imputation, then standardisation;

    combined in a ``ColumnTransformer`` whose output is sparse when there is text
    and dense otherwise. Image data (already on [0, 1]) passes through unchanged.
    """
    if dataset.frame is None:
        return FunctionTransformer()  # identity: pixels are already features
    n_rows = len(dataset) if n_fit_rows is None else n_fit_rows
    has_text = bool(dataset.text_columns)
    parts: list[tuple[str, Any, Any]] = []
    for col in dataset.text_columns:
        vectorizer = TfidfVectorizer(
            sublinear_tf=True,
            min_df=2 if n_rows >= TINY_TEXT_ROWS else 1,
            ngram_range=(1, 2),
            max_features=MAX_TEXT_FEATURES,
            dtype=np.float32,
        )
        # A scalar column name hands the vectorizer the 1-D sequence of documents it expects.
        parts.append((f"text:{col}", vectorizer, col))
    if dataset.categorical_columns:
        categorical = Pipeline(
            [
                ("impute", SimpleImputer(strategy="most_frequent")),
                ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=has_text, dtype=np.float32)),
            ]
        )
        parts.append(("categorical", categorical, list(dataset.categorical_columns)))
    if dataset.numeric_columns:
        numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
        parts.append(("numeric", numeric, list(dataset.numeric_columns)))
    if not parts:
        raise DataError(f"Dataset {dataset.name!r}: no text, categorical or numeric columns to featurize")
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=1.0 if has_text else 0.0)


def featurize(
    dataset: Dataset,
    pool: np.ndarray,
    test: np.ndarray,
    featurizer: Any | None = None,
) -> tuple[np.ndarray | sp.csr_matrix, np.ndarray | sp.csr_matrix]:
    """Fit ``featurizer`` on the pool rows only, then transform pool and test rows.

    Fitting never sees the test rows, nor any label. ``featurizer`` defaults to
    :func:`build_featurizer`; any object with ``fit`` and ``transform`` over the
    rows of ``dataset.frame`` (or of ``dataset.images``) works, and is fitted in
    place. Returns float32 matrices: CSR sparse when the featurizer gives sparse
    output (text), else dense arrays. NaN or infinite features are refused with a
    :class:`~loopwise.errors.DataError` naming the record id and column.
    """
    n = len(dataset)
    pool = _positions(pool, n, "pool")
    test = _positions(test, n, "test")
    if len(pool) == 0:
        raise ConfigError("pool is empty: the featurizer needs pool rows to fit on")
    if featurizer is None:
        featurizer = build_featurizer(dataset, n_fit_rows=len(pool))
    who = type(featurizer).__name__
    try:
        if hasattr(featurizer, "fit_transform"):
            raw_pool = featurizer.fit_transform(_rows(dataset, pool))
        else:
            raw_pool = featurizer.fit(_rows(dataset, pool)).transform(_rows(dataset, pool))
        raw_test = featurizer.transform(_rows(dataset, test)) if len(test) else None
    except (ValueError, TypeError) as exc:
        raise DataError(f"Dataset {dataset.name!r}: featurizer {who} failed: {exc}") from exc
    X_pool = _checked(raw_pool, dataset.ids[pool], f"{dataset.name} pool features ({who})")
    if raw_test is None:
        shape = (0, X_pool.shape[1])
        X_test = sp.csr_matrix(shape, dtype=np.float32) if sp.issparse(X_pool) else np.empty(shape, np.float32)
    else:
        X_test = _checked(raw_test, dataset.ids[test], f"{dataset.name} test features ({who})")
        if X_test.shape[1] != X_pool.shape[1]:
            raise DataError(
                f"Dataset {dataset.name!r}: featurizer {who} gave {X_pool.shape[1]} pool columns "
                f"but {X_test.shape[1]} test columns"
            )
    return X_pool, X_test


def _positions(positions: object, n: int, what: str) -> np.ndarray:
    arr = np.asarray(positions)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ConfigError(f"{what} must be a 1-D array of integer row positions; got dtype {arr.dtype}, shape {arr.shape}")
    if arr.min() < 0 or arr.max() >= n:
        raise ConfigError(f"{what} positions must lie in 0..{n - 1}; got {int(arr.min())}..{int(arr.max())}")
    return arr.astype(np.int64, copy=False)


def _rows(dataset: Dataset, positions: np.ndarray) -> pd.DataFrame | np.ndarray:
    if dataset.frame is not None:
        return dataset.frame.iloc[positions]
    assert dataset.images is not None  # Dataset guarantees frame or images
    return dataset.images[positions]


def _checked(X: object, ids: np.ndarray, source: str) -> np.ndarray | sp.csr_matrix:
    """float32 features with no NaN/inf; sparse stays sparse (CSR), anything else becomes a dense array."""
    try:
        if sp.issparse(X):
            out = sp.csr_matrix(X, dtype=np.float32)
            bad = ~np.isfinite(out.data)
            if bad.any():
                # Locate the row of the first bad stored value, and let the shared
                # check word the error from that one dense row.
                row = int(np.searchsorted(out.indptr, int(np.flatnonzero(bad)[0]), side="right") - 1)
                check_features(out[row].toarray(), cast(Sequence[object], ids[[row]]), source)
            return out
        dense = np.asarray(X, dtype=np.float32)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{source}: output is not a numeric matrix: {exc}") from exc
    return check_features(dense, cast(Sequence[object], ids), source)

"""Checks on the arrays that cross layer boundaries, with messages that say where."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from loopwise.errors import DataError, LearnerError


def check_features(X: np.ndarray, ids: Sequence[object] | None = None, source: str = "features") -> np.ndarray:
    """Refuse NaN or infinite features, naming the first offending record and column."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise DataError(f"{source}: expected a 2-D feature matrix, got shape {X.shape}")
    if np.issubdtype(X.dtype, np.floating):
        bad = ~np.isfinite(X)
        if bad.any():
            row, col = (int(v) for v in np.argwhere(bad)[0])
            where = f"record id {str(ids[row])!r}" if ids is not None else f"row {row}"
            kind = "NaN" if np.isnan(X[row, col]) else "an infinite value"
            raise DataError(
                f"{source}: {kind} in {where}, feature column {col} "
                f"({int(bad.any(axis=1).sum())} rows affected); fill or drop them first"
            )
    return X


def check_proba(proba: object, n_rows: int, n_classes: int, who: str = "learner") -> np.ndarray:
    """Check that ``proba`` is an ``n_rows x n_classes`` matrix of probability rows."""
    try:
        arr = np.asarray(proba, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise LearnerError(f"{who}.predict_proba returned something that is not a numeric array: {exc}") from None
    if arr.shape != (n_rows, n_classes):
        raise LearnerError(
            f"{who}.predict_proba returned shape {arr.shape}; expected ({n_rows}, {n_classes}) "
            f"= (rows asked for, classes in the label set)"
        )
    if n_rows == 0:
        return arr
    finite = np.isfinite(arr).all(axis=1)
    in_range = ((arr >= -1e-6) & (arr <= 1 + 1e-6)).all(axis=1)
    sums_to_one = np.abs(arr.sum(axis=1) - 1.0) <= 1e-4
    ok = finite & in_range & sums_to_one
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        raise LearnerError(
            f"{who}.predict_proba row {row} is not a probability distribution "
            f"(values {np.array2string(arr[row], precision=3, threshold=8)}, sum {arr[row].sum():.4f}); "
            f"{int((~ok).sum())} of {n_rows} rows are bad"
        )
    return arr

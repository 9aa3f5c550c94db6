"""Label columns of the tasks beyond one class a record: label sets (multilabel) and numbers (regression)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.api import types as pdt

from loopwise.core.tasks import LABEL_SEPARATOR, MULTILABEL, REGRESSION
from loopwise.errors import DataError

if TYPE_CHECKING:  # _table imports this module
    from loopwise.data._table import Locator

# The label column a task's file has when the user names none (the shared layouts' names).
DEFAULT_LABEL_COLUMN = {MULTILABEL: "labels", REGRESSION: "target"}


def encode_label_sets(
    values: pd.Series, loc: Locator, what: str, label_names: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """An ``N x L`` 0/1 matrix and the label names from a column of ``|``-joined names (an empty cell: no label).

    With ``label_names`` (a dataset's ``meta.json``) every name must be one of them and
    they keep their order; otherwise the names found are sorted into the label set.
    """
    cells = values.astype(object).where(values.notna(), "").astype(str).tolist()
    sets = [[name.strip() for name in cell.split(LABEL_SEPARATOR) if name.strip()] for cell in cells]
    names = list(label_names) if label_names is not None else sorted({name for row in sets for name in row})
    if not names:
        raise DataError(f"{loc.file}: {what} holds no label in any row; a multilabel source needs at least one")
    index = {name: j for j, name in enumerate(names)}
    Y = np.zeros((len(sets), len(names)), dtype=np.int64)
    for i, row in enumerate(sets):
        for name in row:
            j = index.get(name)
            if j is None:
                raise DataError(
                    f"{loc.at(i)}: {what} names label {name!r}, which is not in the label set "
                    f"({len(names)} labels: {', '.join(names[:10])}{', ...' if len(names) > 10 else ''})"
                )
            Y[i, j] = 1
    return Y, names


def encode_targets(values: pd.Series, loc: Locator, what: str) -> np.ndarray:
    """Float64 targets from a number column; a missing, non-numeric or infinite value is refused with its row."""
    if pdt.is_numeric_dtype(values.dtype) and not pdt.is_bool_dtype(values.dtype):
        y = np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
        text = None
    else:
        coerced = pd.to_numeric(values, errors="coerce")
        y = np.asarray(coerced.to_numpy(dtype=np.float64, na_value=np.nan))
        text = values
    bad = ~np.isfinite(y)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        if text is not None and not pd.isna(text.iloc[first]) and str(text.iloc[first]).strip():
            kind = f"value {str(text.iloc[first])!r} is not a number"
        else:
            kind = "the target is missing" if np.isnan(y[first]) else "the target is infinite"
        raise DataError(
            f"{loc.at(first)}: {what}: {kind} ({int(bad.sum())} of {len(y)} rows affected); "
            f"every record of a regression needs a finite number"
        )
    return y

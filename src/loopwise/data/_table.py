"""Turn a table read from a file into a Dataset: column roles, ids, labels and value checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from pandas.api import types as pdt

from loopwise.core.splits import HELD_OUT_NAMES
from loopwise.core.tasks import CLASSIFICATION, MULTILABEL, REGRESSION
from loopwise.data._dataset import Dataset
from loopwise.data._targets import DEFAULT_LABEL_COLUMN, encode_label_sets, encode_targets
from loopwise.errors import DataError

# An object column is free text (TF-IDF) rather than a category (one-hot) when its
# values are long, or when nearly every value is different: one-hot encoding such a
# column gives one useless feature per row.
_TEXT_MEAN_LENGTH = 30
_TEXT_UNIQUE_RATIO = 0.5
_TEXT_MIN_UNIQUE = 20
_SHOW = 5  # how many offending values an error message lists


@dataclass(frozen=True)
class Locator:
    """Says where a record sits in its source, in the terms the user would search for.

    The default is a 1-based data row (the header not counted), as in a CSV or
    Parquet file; JSONL passes its ``line`` numbers, ``.npz`` the ``X[{}]`` index.
    """

    file: str
    unit: str = "row"  # a word ('row', 'line') or a format with '{}' ('X[{}]')
    first: int = 1  # the number of position 0
    numbers: Sequence[int] | None = None  # explicit numbers, e.g. JSONL lines after skipped blanks
    ids: np.ndarray | None = None

    def number(self, pos: int) -> int:
        return int(self.numbers[pos]) if self.numbers is not None else pos + self.first

    def rows(self, positions: Sequence[int]) -> str:
        nums = [self.number(int(p)) for p in positions]
        if "{}" in self.unit:
            return ", ".join(self.unit.format(n) for n in nums)
        return f"{self.unit}{'s' if len(nums) > 1 else ''} {', '.join(map(str, nums))}"

    def row(self, pos: int) -> str:
        return self.rows([pos])

    def at(self, pos: int) -> str:
        where = f"{self.file}, {self.row(pos)}"
        if self.ids is not None:
            where += f" (record id {str(self.ids[pos])!r})"
        return where

    def with_ids(self, ids: np.ndarray) -> Locator:
        return replace(self, ids=ids)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class TableHints:
    """What a shared dataset's ``meta.json`` already says about its table."""

    task: str | None = None
    categorical: frozenset[str] = frozenset()
    numeric: frozenset[str] = frozenset()
    label_names: list[str] | None = None
    allow_missing_numeric: bool = False
    label_task: str = CLASSIFICATION


def as_strings(values: pd.Series) -> np.ndarray:
    """Values as str, writing whole floats as integers (a JSON ``1`` read as ``1.0`` is ``'1'``)."""
    if pdt.is_bool_dtype(values.dtype):
        return _str_array(values)
    if pdt.is_numeric_dtype(values.dtype):
        arr = np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
        whole = np.isfinite(arr) & (arr == np.round(arr)) & (np.abs(arr) < 2**53)
        if whole.all():
            return arr.astype(np.int64).astype(str)
    return _str_array(values)


def _str_array(values: pd.Series) -> np.ndarray:
    # Series.to_numpy(dtype=str) truncates to the first value's width in pandas 3
    # ('red' -> 'r'); numpy sizes the array itself from the Python objects.
    return np.asarray(values.to_numpy(dtype=object), dtype=str)


def _missing(values: pd.Series) -> np.ndarray:
    """Missing cells: NaN/None, or strings that are empty or only whitespace."""
    miss = np.asarray(values.isna().to_numpy(dtype=bool))
    if not pdt.is_numeric_dtype(values.dtype) and not pdt.is_bool_dtype(values.dtype):
        blank = values.astype(object).where(~miss, "").astype(str).str.strip().str.len() == 0
        miss = miss | blank.to_numpy(dtype=bool)
    return miss


def _sort_names(names: Sequence[str]) -> list[str]:
    """Sort class names numerically when they all are numbers, so '10' comes after '9'."""
    try:
        return sorted(names, key=lambda s: (float(s), s))
    except ValueError:
        return sorted(names)


def read_ids(values: pd.Series, loc: Locator, what: str) -> np.ndarray:
    """Record ids from an id column: present in every row and unique."""
    miss = _missing(values)
    if miss.any():
        first = int(np.flatnonzero(miss)[0])
        raise DataError(
            f"{loc.file}, {loc.row(first)}: missing record id in {what} "
            f"({_count(int(miss.sum()), 'row')} without an id); every record needs one"
        )
    ids = as_strings(values)
    check_unique_ids(ids, loc)
    return ids


def check_unique_ids(ids: np.ndarray, loc: Locator) -> None:
    """Refuse ids with control characters (NUL, newline, escape: unusable in URLs, terminals, PostgreSQL) or repeats."""
    odd = pd.Series(ids, dtype=object).astype(str).str.contains(r"[\x00-\x1f\x7f]", regex=True).to_numpy()
    if odd.any():
        first = int(np.flatnonzero(odd)[0])
        raise DataError(
            f"{loc.file}, {loc.row(first)}: record id {str(ids[first])!r} holds a control character "
            f"({_count(int(odd.sum()), 'id')} do); record ids must be printable text"
        )
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    rows: dict[str, list[int]] = {}
    for pos in np.flatnonzero(dup):
        rows.setdefault(str(ids[pos]), []).append(int(pos))
    shown = "; ".join(
        f"{rid!r} ({loc.rows(where[:_SHOW])}{', ...' if len(where) > _SHOW else ''})"
        for rid, where in list(rows.items())[:_SHOW]
    )
    raise DataError(
        f"{loc.file}: duplicate record ids: {shown}; {_count(len(rows), 'id')} appearing more than once. "
        f"Record ids must be unique"
    )


def encode_labels(
    values: pd.Series,
    loc: Locator,
    what: str,
    label_names: Sequence[str] | None = None,
    codes: bool = False,
) -> tuple[np.ndarray, list[str]]:
    """Class indices and class names from a label column.

    ``codes=True`` means the values already are indices into ``label_names`` (an
    ``.npz`` ``y`` with ``label_names``); otherwise they are class names, matched
    against ``label_names`` when given, else sorted into a new label set.
    """
    miss = _missing(values)
    if miss.any():
        first = int(np.flatnonzero(miss)[0])
        raise DataError(
            f"{loc.at(first)}: missing label in {what} ({_count(int(miss.sum()), 'row')} without a label); "
            f"every record needs its class, or drop the unlabelled rows"
        )
    if codes:
        assert label_names is not None  # codes only make sense with names; callers guarantee it
        names = [str(v) for v in label_names]
        arr = values.to_numpy()
        if pdt.is_integer_dtype(arr.dtype) or pdt.is_float_dtype(arr.dtype):
            whole = arr == np.round(arr)
            y = np.where(whole, arr, -1).astype(np.int64)
            bad = ~whole | (y < 0) | (y >= len(names))
        else:  # strings where indices were expected
            y = np.zeros(len(arr), dtype=np.int64)
            bad = np.ones(len(arr), dtype=bool)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{loc.at(first)}: {what} value {arr[first]!r} is not a class index into label_names "
                f"(0..{len(names) - 1}, {len(names)} names)"
            )
    else:
        strs = as_strings(values)
        if label_names is None:
            names = _sort_names(np.unique(strs).tolist())
        else:
            names = [str(v) for v in label_names]
            unknown = ~np.isin(strs, names)
            if unknown.any():
                first = int(np.flatnonzero(unknown)[0])
                raise DataError(
                    f"{loc.at(first)}: label {str(strs[first])!r} in {what} is not one of the "
                    f"declared label_names {names[:20]}"
                )
        index = {name: i for i, name in enumerate(names)}
        y = np.fromiter((index[s] for s in strs.tolist()), dtype=np.int64, count=len(strs))
    present = np.unique(y)
    if len(present) < 2:
        raise DataError(
            f"{loc.file}: {what} has a single class {names[int(present[0])]!r} ({_count(len(y), 'row')}); "
            f"a classifier needs at least two classes"
        )
    return y, names


# Held-out evaluation rows go by several names (GLUE's SST-2 ships train/validation, CoNLL-2003 and
# GoEmotions train/dev/test); every one of them (HELD_OUT_NAMES) is held out and evaluated on, exactly as 'test' is.


def parse_split(values: pd.Series, loc: Locator, what: str) -> np.ndarray:
    """'train'/'test' per row, with dev/val/valid/validation read as 'test'; any other value (or a gap) is refused, naming the row."""
    miss = _missing(values)
    if miss.any():
        first = int(np.flatnonzero(miss)[0])
        raise DataError(f"{loc.at(first)}: empty {what}; every row needs 'train' or 'test'")
    split = np.char.lower(np.char.strip(as_strings(values)))
    odd = ~np.isin(split, ["train", *HELD_OUT_NAMES])
    if odd.any():
        first = int(np.flatnonzero(odd)[0])
        others = sorted(set(split[odd].tolist()))
        raise DataError(
            f"{loc.at(first)}: {what} holds {others[:_SHOW]}; only 'train' and the held-out names "
            f"{', '.join(repr(n) for n in HELD_OUT_NAMES)} are understood "
            f"(rename the column if it is not a train/test split)"
        )
    return np.where(np.isin(split, HELD_OUT_NAMES), "test", split)


def _looks_like_free_text(strs: pd.Series) -> bool:
    present = strs.dropna().astype(str)
    if present.empty:
        return False
    n_unique = present.nunique()
    return bool(
        present.str.len().mean() > _TEXT_MEAN_LENGTH
        or (n_unique >= _TEXT_MIN_UNIQUE and n_unique > _TEXT_UNIQUE_RATIO * len(present))
    )


def _as_category(values: pd.Series) -> pd.Series:
    """Categories as strings with NaN for missing; numbers-as-codes stay exact ('007')."""
    out = pd.Series(as_strings(values), index=values.index, dtype=object)
    out[_missing(values)] = np.nan
    return out


def _check_numeric(values: np.ndarray, column: str, loc: Locator, allow_missing: bool) -> None:
    inf = np.isinf(values)
    nan = np.zeros_like(inf) if allow_missing else np.isnan(values)
    bad = inf | nan
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    if inf[first]:
        kind = "an infinite value"
        fix = "replace it with a finite number"
    else:
        kind = "a missing (NaN) value"
        fix = "fill or drop the gaps; missing numbers are refused in user files (categorical and text gaps are fine)"
    raise DataError(
        f"{loc.at(first)}, column {column!r}: {kind} in a numeric column "
        f"({_count(int(bad.sum()), 'row')} affected in this column); {fix}"
    )


def _to_numeric(values: pd.Series, column: str, loc: Locator) -> np.ndarray:
    if pdt.is_numeric_dtype(values.dtype) and not pdt.is_bool_dtype(values.dtype):
        return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
    parsed = pd.to_numeric(values, errors="coerce")
    unparsed = parsed.isna().to_numpy() & ~_missing(values)
    if unparsed.any():
        first = int(np.flatnonzero(unparsed)[0])
        raise DataError(
            f"{loc.at(first)}, column {column!r}: {values.iloc[first]!r} is not a number, "
            f"but the column is declared numeric"
        )
    return np.asarray(parsed.to_numpy(dtype=np.float64, na_value=np.nan))


def _column_list(columns: Sequence[str]) -> str:
    shown = ", ".join(repr(c) for c in columns[:40])
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > 40 else "")


def require_column(columns: Sequence[str], name: str, role: str, file: str, option: str | None) -> None:
    if name not in columns:
        hint = f"; pass {option}= to name another" if option else ""
        raise DataError(f"{file}: no {role} column {name!r}; the columns are {_column_list(list(columns))}{hint}")


def table_to_dataset(
    df: pd.DataFrame,
    *,
    name: str,
    source: str,
    loc: Locator,
    label_column: str | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    hints: TableHints | None = None,
) -> Dataset:
    """Split a table into ids, labels, split and typed feature columns, refusing bad values.

    ``loc`` carries the file name and how to name a row (``row 3``, ``line 7``);
    its ``ids`` are filled in here once the record ids are known.
    """
    hints = hints or TableHints()
    df = df.reset_index(drop=True)
    df.columns = [str(c) for c in df.columns]
    columns = list(df.columns)
    if len(df) == 0:
        raise DataError(f"{loc.file}: no data rows (columns {_column_list(columns)})")

    label_col = label_column or DEFAULT_LABEL_COLUMN.get(hints.label_task, "label")
    require_column(columns, label_col, "label", loc.file, "label_column")
    if id_column is not None:
        require_column(columns, id_column, "id", loc.file, "id_column")
    id_col = id_column if id_column is not None else ("id" if "id" in columns else None)
    if text_column is not None:
        require_column(columns, text_column, "text", loc.file, "text_column")
    roles = [c for c in (label_col, id_col, text_column) if c is not None]
    if len(set(roles)) != len(roles):
        raise DataError(f"{loc.file}: one column cannot play two roles (label, id, text): {roles}")

    if id_col is not None:
        ids = read_ids(df[id_col], loc, f"id column {id_col!r}")
    else:
        ids = np.arange(len(df)).astype(str)
    loc = loc.with_ids(ids)

    split_col = "split" if "split" in columns and "split" not in roles else None
    split = parse_split(df[split_col], loc, "split column 'split'") if split_col else None
    y, label_names = _encode(df[label_col], loc, f"label column {label_col!r}", hints)

    features = [c for c in columns if c not in (label_col, id_col, split_col)]
    if not features:
        raise DataError(f"{loc.file}: no feature columns besides id/label/split (columns {_column_list(columns)})")

    text_cols: list[str] = []
    cat_cols: list[str] = []
    num_cols: list[str] = []
    out: dict[str, object] = {}
    for col in features:
        values = df[col]
        if col == text_column or (text_column is None and hints.task == "text" and col == "text"):
            text_cols.append(col)
        elif col in hints.categorical:
            cat_cols.append(col)
        elif col in hints.numeric:
            num_cols.append(col)
        elif pdt.is_bool_dtype(values.dtype):
            cat_cols.append(col)
        elif pdt.is_numeric_dtype(values.dtype):
            num_cols.append(col)
        elif pdt.is_datetime64_any_dtype(values.dtype) or pdt.is_timedelta64_dtype(values.dtype):
            raise DataError(
                f"{loc.file}, column {col!r}: dates and durations are not features loopwise can use as they are; "
                f"convert the column to numbers or categories, or drop it"
            )
        else:
            nested = values.map(lambda v: isinstance(v, (list, dict, tuple, np.ndarray))).to_numpy(dtype=bool)
            if nested.any():
                first = int(np.flatnonzero(nested)[0])
                raise DataError(
                    f"{loc.at(first)}, column {col!r}: holds a list or an object; only flat values "
                    f"(numbers, strings, booleans) can be features"
                )
            if text_column is None and hints.task is None and _looks_like_free_text(values):
                text_cols.append(col)
            else:
                cat_cols.append(col)

    for col in features:
        if col in text_cols:
            text = df[col].astype(object).where(~_missing(df[col]), "")
            out[col] = text.astype(str).astype(object)
        elif col in cat_cols:
            out[col] = _as_category(df[col])
        else:
            arr = _to_numeric(df[col], col, loc)
            _check_numeric(arr, col, loc, hints.allow_missing_numeric)
            out[col] = arr
    frame = pd.DataFrame(out, columns=features)
    task = hints.task or ("text" if text_cols else "tabular")
    return Dataset(
        name=name,
        source=source,
        task=task,
        ids=ids,
        frame=frame,
        images=None,
        y=y,
        label_names=label_names,
        split=split,
        text_columns=text_cols,
        categorical_columns=cat_cols,
        numeric_columns=num_cols,
        label_task=hints.label_task,
    )


def _encode(values: pd.Series, loc: Locator, what: str, hints: TableHints) -> tuple[np.ndarray, list[str]]:
    """The label column in the form of the task: class indices, a 0/1 label matrix, or float targets."""
    if hints.label_task == MULTILABEL:
        return encode_label_sets(values, loc, what, hints.label_names)
    if hints.label_task == REGRESSION:
        return encode_targets(values, loc, what), list(hints.label_names or [str(values.name)])
    return encode_labels(values, loc, what, hints.label_names)

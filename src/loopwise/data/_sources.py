"""Readers: find a source by name or path and load it into a Dataset."""

from __future__ import annotations

import gzip
import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn import datasets as sk_datasets

from loopwise.core.tasks import CLASSIFICATION, META_TASKS, REGRESSION, TOKEN_CLASSIFICATION, check_task
from loopwise.data._dataset import Dataset
from loopwise.data._targets import DEFAULT_LABEL_COLUMN
from loopwise.data._table import (
    Locator,
    TableHints,
    check_unique_ids,
    encode_labels,
    parse_split,
    read_ids,
    table_to_dataset,
)
from loopwise.errors import DataError

BUNDLED = ("digits", "breast_cancer", "wine")
# Longest first, so 'x.csv.gz' is read as gzip CSV and not as an unknown '.gz'.
SUFFIXES = (".csv.gz", ".tsv.gz", ".jsonl.gz", ".csv", ".tsv", ".jsonl", ".parquet", ".npz")
# What a dataset folder (the shared layout) may hold, in the order they are looked for.
FOLDER_FILES = ("data.csv.gz", "data.csv", "data.parquet", "data.jsonl", "data.npz")
# pandas' default missing-value markers, applied to number and category columns only:
# in ids, labels and text a literal "NA" or "None" is data (a class, a message).
_NA_MARKERS = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
]  # fmt: skip
_ENV_ROOT = "LOOPWISE_DATASETS"
_FALLBACK_ROOTS = ("../shared/datasets", "/work/shared/datasets")


def shared_datasets_root(shared_root: str | os.PathLike[str] | None = None) -> Path | None:
    """The shared datasets folder: ``shared_root``, else ``$LOOPWISE_DATASETS``, else the first that exists
    of ``../shared/datasets`` (from the working directory) and ``/work/shared/datasets``."""
    if shared_root is not None:
        return Path(shared_root)
    env = os.environ.get(_ENV_ROOT)
    if env:
        return Path(env)
    for candidate in _FALLBACK_ROOTS:
        if Path(candidate).is_dir():
            return Path(candidate).resolve()
    return None


def shared_dataset_names(root: Path | None) -> list[str]:
    """Names of the dataset folders (those with a ``meta.json``) under ``root``."""
    if root is None or not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "meta.json").is_file())


def load_dataset(
    source: str | os.PathLike[str],
    *,
    label_column: str | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    shared_root: str | os.PathLike[str] | None = None,
    task: str | None = None,
) -> Dataset:
    """Load a labelled pool from a bundled dataset, a shared dataset folder, or a file.

    Parameters
    ----------
    source : str or path
        * a bundled scikit-learn dataset: ``'digits'`` (an image task, pixels / 16),
          ``'breast_cancer'``, ``'wine'`` (tabular);
        * a shared dataset by bare name (``'sms_spam'``, ``'adult'``, ...), looked up
          under ``shared_root`` (see :func:`shared_datasets_root`), or a dataset
          folder by path (``data.csv.gz`` or ``data.npz`` plus ``meta.json``);
        * a file: ``.csv``, ``.csv.gz``, ``.tsv``, ``.jsonl`` (one object a line),
          ``.parquet`` or ``.npz`` (arrays ``X`` and ``y``; optional ``ids``,
          ``label_names``, ``split``).

        A bare name (no folder separator, no known suffix) is a dataset name first
        and a local path only if no dataset has that name; write ``./wine`` to
        mean a local folder called ``wine``.
    label_column : str, optional
        Column holding the class; default ``'label'`` (``'labels'`` for a
        multilabel task, ``'target'`` for regression).
    text_column : str, optional
        Column holding free text. When not given, string columns whose values are
        long (mean over 30 characters) or nearly all different are text, other
        string and boolean columns categorical, and number columns numeric.
    id_column : str, optional
        Column holding record ids; default ``'id'`` when there is one, else ids
        are the 0-based row positions. Ids are kept as written (``'007'``).
    shared_root : str or path, optional
        Folder of the shared datasets.
    task : str, optional
        The learning task (``Dataset.label_task``): ``'classification'``,
        ``'multilabel'`` (a column of label names joined by ``|``; an empty cell
        is no label) or ``'regression'`` (a number column). A dataset folder's
        ``meta.json`` sets it (``multilabel_text``, ``regression``); otherwise
        the default is classification. A task that contradicts the folder's is refused.

    A ``split`` column (or ``.npz`` array) with values ``train``/``test`` is kept
    as the source's own split. ``dev``, ``val``, ``valid`` and ``validation``
    (any case) are held-out evaluation rows too and count as ``test``: with
    train/dev/test the test set is the dev and test rows together.

    Missing and bad values. Labels and ids must be present in every row, and ids
    unique. Gaps in categorical and text columns are fine (imputed / empty text).
    Infinite numbers are always refused. Missing numbers (empty cells, NaN) are
    refused in user files, because silently imputing them hides data problems;
    they are accepted only from a dataset folder (the shared layout) whose
    ``meta.json`` declares ``missing_values`` > 0, where the default featurizer imputes them
    with the column median. Every refusal is a :class:`~loopwise.errors.DataError`
    naming the file, the row (1-based data row; ``line`` for JSONL, ``X[i]`` for
    ``.npz``), the record id and the column.

    ``.npz`` features: integer ``X`` in 0..255 is pixels and is divided by 255,
    float ``X`` already in [0, 1] is kept; both give an image task with ``X``
    flattened to ``N x D``. Any other numeric ``X`` is a tabular task whose
    ``N x D`` matrix becomes numeric columns ``x0``, ``x1``, ...
    """
    text = os.fspath(source)
    if task is not None:
        check_task(task, "task")
    root = shared_datasets_root(shared_root)
    if _is_bare_name(text):
        if text in BUNDLED:
            options = {"label_column": label_column, "text_column": text_column, "id_column": id_column}
            given = [k for k, v in options.items() if v is not None]
            if task not in (None, CLASSIFICATION):
                given.append("task")
            if given:
                raise DataError(
                    f"{text!r} is a bundled dataset with fixed columns; {', '.join(given)} only apply to files"
                )
            return _load_bundled(text)
        if root is not None and (root / text / "meta.json").is_file():
            return _load_folder(
                root / text, source=text, label_column=label_column, text_column=text_column, id_column=id_column,
                task=task,
            )
        if not Path(text).exists():
            raise DataError(
                f"unknown dataset {text!r}: no such file or folder, and not a dataset name; {_known(root)}"
            )
    path = Path(text)
    if not path.exists():
        raise DataError(f"{text}: no such file or folder (working directory {Path.cwd()}); {_known(root)}")
    if path.is_dir():
        return _load_folder(
            path, source=text, label_column=label_column, text_column=text_column, id_column=id_column, task=task
        )
    return _load_file(
        path, source=text, label_column=label_column, text_column=text_column, id_column=id_column,
        hints=TableHints(label_task=task or CLASSIFICATION),
    )


def _known(root: Path | None) -> str:
    """The dataset names a user could have meant, for 'not found' messages."""
    if root is None:
        shared = f"no shared datasets folder was found (set ${_ENV_ROOT} or pass shared_root)"
    else:
        shared = f"shared datasets in {root}: {', '.join(shared_dataset_names(root)) or 'none'}"
    return f"bundled datasets: {', '.join(BUNDLED)}; {shared}"


def _is_bare_name(text: str) -> bool:
    return "/" not in text and os.sep not in text and _suffix(text) is None


def _suffix(name: str) -> str | None:
    lower = name.lower()
    return next((s for s in SUFFIXES if lower.endswith(s)), None)


def _load_bundled(name: str) -> Dataset:
    bunch: Any = getattr(sk_datasets, f"load_{name}")(as_frame=name != "digits")
    target = np.asarray(bunch.target, dtype=np.int64)
    ids = np.arange(len(target)).astype(str)
    names = [str(n) for n in bunch.target_names]
    if name == "digits":
        # 8x8 pixels holding 0..16 ink counts; /16 puts them on the [0, 1] image scale.
        images = np.asarray(bunch.data, dtype=np.float32) / np.float32(16.0)
        return Dataset(name, name, "image", ids, None, images, target, names, None)
    frame = bunch.data.reset_index(drop=True).astype(np.float64)
    return Dataset(
        name, name, "tabular", ids, frame, None, target, names, None, numeric_columns=list(frame.columns)
    )


def _load_folder(
    folder: Path,
    *,
    source: str,
    label_column: str | None,
    text_column: str | None,
    id_column: str | None,
    task: str | None = None,
) -> Dataset:
    meta_path = folder / "meta.json"
    meta: dict[str, object] = {}
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{meta_path}: cannot read dataset metadata: {exc}") from None
        if not isinstance(meta, dict):
            raise DataError(f"{meta_path}: expected a JSON object")
    data = next((folder / f for f in FOLDER_FILES if (folder / f).is_file()), None)
    if data is None:
        present = sorted(p.name for p in folder.iterdir())
        raise DataError(
            f"{folder}: not a dataset folder; expected one of {', '.join(FOLDER_FILES)}, found {present[:20]}"
        )
    name = str(meta.get("name") or folder.name)
    names = meta.get("label_names")
    label_names = [str(v) for v in names] if isinstance(names, list) else None
    meta_task = meta.get("task")
    label_task = META_TASKS.get(str(meta_task), CLASSIFICATION)
    if task is not None and task != label_task and (meta_task is not None or task == TOKEN_CLASSIFICATION):
        raise DataError(f"{meta_path}: the dataset's task is {label_task!r} (meta.json task {meta_task!r}); got task={task!r}")
    label_task = task or label_task
    if label_task == TOKEN_CLASSIFICATION:
        raise DataError(f"{folder}: token classification (sentences of tagged tokens) is read by the sequence loader, not load_dataset")
    modality = "text" if meta_task == "multilabel_text" else meta_task
    task_hint = modality if modality in ("text", "tabular", "image") else None
    if label_task == REGRESSION:
        target = meta.get("target")
        target_name = target.get("name") if isinstance(target, dict) else None
        label_names = [str(target_name)] if target_name else None
    features = meta.get("features")
    kinds = {
        str(f.get("name")): f.get("type") for f in (features if isinstance(features, list) else []) if isinstance(f, dict)
    }
    missing = meta.get("missing_values")
    hints = TableHints(
        task=str(task_hint) if task_hint else None,
        categorical=frozenset(c for c, t in kinds.items() if t == "categorical"),
        numeric=frozenset(c for c, t in kinds.items() if t == "numeric"),
        label_names=label_names,
        allow_missing_numeric=isinstance(missing, (int, float)) and missing > 0,
        label_task=label_task,
    )
    return _load_file(
        data,
        source=source,
        name=name,
        hints=hints,
        label_column=label_column,
        text_column=text_column,
        id_column=id_column,
    )


def _load_file(
    path: Path,
    *,
    source: str,
    label_column: str | None,
    text_column: str | None,
    id_column: str | None,
    name: str | None = None,
    hints: TableHints | None = None,
) -> Dataset:
    suffix = _suffix(path.name)
    if suffix is None:
        raise DataError(f"{path}: unsupported file type; loopwise reads {', '.join(SUFFIXES)}")
    name = name or path.name[: -len(suffix)]
    hints = hints or TableHints()
    file = str(path)
    if suffix == ".npz":
        if hints.label_task != CLASSIFICATION:
            raise DataError(f"{path}: an .npz source holds class labels; a {hints.label_task} pool comes from a table (CSV, JSONL, Parquet)")
        return _read_npz(path, name=name, source=source, hints=hints)
    if suffix in (".jsonl", ".jsonl.gz"):
        df, lines = _read_jsonl(path)
        loc = Locator(file, unit="line", numbers=lines)
    elif suffix == ".parquet":
        df = _read_parquet(path)
        loc = Locator(file)
    else:
        # Ids, labels, text and declared categories are read as strings so that
        # '007' stays '007' and codes that look numeric are not turned into numbers.
        as_str = {"split", label_column or DEFAULT_LABEL_COLUMN.get(hints.label_task, "label"), id_column or "id", text_column}
        if hints.label_task == REGRESSION:
            as_str.discard(label_column or DEFAULT_LABEL_COLUMN[REGRESSION])  # a number: read with the missing markers
        if hints.task == "text":
            as_str.add("text")
        df = _read_csv(
            path,
            sep="\t" if suffix.startswith(".tsv") else ",",
            verbatim={c for c in as_str if c},
            categorical=set(hints.categorical),
        )
        loc = Locator(file)
    return table_to_dataset(
        df,
        name=name,
        source=source,
        loc=loc,
        label_column=label_column,
        text_column=text_column,
        id_column=id_column,
        hints=hints,
    )


def _read_csv(path: Path, *, sep: str, verbatim: set[str], categorical: set[str]) -> pd.DataFrame:
    """Read a CSV; ``verbatim`` columns (ids, labels, text) are strings where only an empty
    cell is missing, ``categorical`` ones strings with the usual missing markers."""
    try:
        columns = list(pd.read_csv(path, sep=sep, nrows=0).columns)
        na_values = {c: [""] if c in verbatim else _NA_MARKERS for c in columns}
        dtype = {c: str for c in columns if c in verbatim or c in categorical}
        # low_memory=False reads each column in one go, so a column's type does not
        # depend on how pandas happened to chunk a big file.
        return pd.read_csv(
            path, sep=sep, dtype=dtype, keep_default_na=False, na_values=na_values, low_memory=False
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty (no header, no rows)") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: malformed CSV: {str(exc).strip()}") from None
    except UnicodeDecodeError as exc:
        raise DataError(_not_utf8(path, exc)) from None
    except (EOFError, zlib.error) as exc:
        raise DataError(f"{path}: truncated or corrupt gzip data ({exc}); compress the file again") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read as CSV: {exc}") from None


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> str:
    """Say which encoding a file that is not UTF-8 seems to be in (a UTF-16 byte-order mark is unmistakable)."""
    try:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rb") as fh:
            head = fh.read(4)
    except (OSError, EOFError, zlib.error):
        head = b""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return f"{path}: UTF-16 text (it starts with a UTF-16 byte-order mark); re-save the file as UTF-8"
    return f"{path}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r}); re-save the file as UTF-8"


def _read_jsonl(path: Path) -> tuple[pd.DataFrame, list[int]]:
    """Rows and the 1-based line number of each; blank lines are skipped."""
    records: list[dict[str, object]] = []
    lines: list[int] = []
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(
                        f"{path}, line {number}: malformed JSON ({exc.msg}, at column {exc.colno})"
                    ) from None
                if not isinstance(record, dict):
                    raise DataError(
                        f"{path}, line {number}: expected one JSON object per line, got {type(record).__name__}"
                    )
                records.append(record)
                lines.append(number)
    except UnicodeDecodeError as exc:
        raise DataError(_not_utf8(path, exc)) from None
    except (EOFError, zlib.error) as exc:
        raise DataError(f"{path}: truncated or corrupt gzip data ({exc}); compress the file again") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    if not records:
        raise DataError(f"{path}: no records (the file holds no JSON objects)")
    return pd.DataFrame.from_records(records), lines


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except ImportError as exc:
        raise DataError(f"{path}: reading Parquet needs pyarrow ({exc})") from None
    except (OSError, ValueError, NotImplementedError) as exc:
        # pyarrow's ArrowInvalid / ArrowIOError subclass ValueError / OSError.
        raise DataError(f"{path}: cannot read as Parquet: {exc}") from None


def _read_npz(path: Path, *, name: str, source: str, hints: TableHints) -> Dataset:
    file = str(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except ValueError as exc:
        hint = ""
        if "pickle" in str(exc):
            hint = "; save string arrays with a str dtype (np.array(names, dtype=str)), not as objects"
        raise DataError(f"{file}: cannot read as .npz: {exc}{hint}") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{file}: cannot read as .npz: {exc}") from None
    absent = [k for k in ("X", "y") if k not in arrays]
    if absent:
        raise DataError(
            f"{file}: no array {' or '.join(absent)}; a .npz source needs X (features or images, one row "
            f"per record) and y (labels); it holds {sorted(arrays) or 'no arrays'}"
        )
    X = arrays["X"]
    if X.ndim < 2 or X.shape[0] == 0:
        raise DataError(f"{file}: X must hold one row per record (N x D or N x H x W); got shape {X.shape}")
    n = X.shape[0]
    for key in ("y", "ids", "split"):
        if key in arrays and arrays[key].shape != (n,):
            raise DataError(f"{file}: {key} has shape {arrays[key].shape}; expected ({n},), one per row of X")
    loc = Locator(file, unit="X[{}]", first=0)
    if "ids" in arrays:
        ids = read_ids(pd.Series(arrays["ids"]), loc, "array 'ids'")
    else:
        ids = np.arange(n).astype(str)
        check_unique_ids(ids, loc)
    loc = loc.with_ids(ids)

    split = parse_split(pd.Series(arrays["split"]), loc, "array 'split'") if "split" in arrays else None
    names = arrays.get("label_names", hints.label_names)
    y_raw = pd.Series(arrays["y"])
    codes = names is not None and np.issubdtype(arrays["y"].dtype, np.number)
    y, label_names = encode_labels(
        y_raw, loc, "array 'y'", None if names is None else [str(v) for v in np.asarray(names).tolist()], codes
    )

    flat = X.reshape(n, -1)
    if flat.dtype == bool:
        flat = flat.astype(np.uint8)
    if not np.issubdtype(flat.dtype, np.number):
        raise DataError(f"{file}: X must be numeric; got dtype {X.dtype}")
    if np.issubdtype(flat.dtype, np.floating):
        bad = ~np.isfinite(flat)
        if bad.any():
            row, col = (int(v) for v in np.argwhere(bad)[0])
            kind = "a missing (NaN) value" if np.isnan(flat[row, col]) else "an infinite value"
            n_bad = int(bad.any(axis=1).sum())
            raise DataError(
                f"{loc.at(row)}, column {col}: {kind} in X ({n_bad} of {n} rows affected); fill or drop them first"
            )
    lo, hi = (float(flat.min()), float(flat.max()))
    if np.issubdtype(flat.dtype, np.integer) and lo >= 0 and hi <= 255:
        images = flat.astype(np.float32) / np.float32(255.0)
    elif np.issubdtype(flat.dtype, np.floating) and lo >= 0.0 and hi <= 1.0:
        images = flat.astype(np.float32)
    else:
        frame = pd.DataFrame(flat.astype(np.float64), columns=[f"x{j}" for j in range(flat.shape[1])])
        return Dataset(
            name, source, "tabular", ids, frame, None, y, label_names, split, numeric_columns=list(frame.columns)
        )
    return Dataset(name, source, "image", ids, None, images, y, label_names, split)


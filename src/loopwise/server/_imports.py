"""Read imported records: CSV, JSONL, Parquet, other tools' JSON, or images from a folder or zip; confine server-side paths."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import parse_qs, urlsplit

import numpy as np

from loopwise.core.splits import HELD_OUT_NAMES
from loopwise.errors import DataError
from loopwise.server import _interchange as ix
from loopwise.server._errors import ForbiddenError, TooLargeError
from loopwise.server._label_kinds import canonical_value, parse_value

if TYPE_CHECKING:
    import pandas as pd

TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet")
# A stored image: its content hash and format, as the image importer names it in the media folder.
MEDIA_NAME = re.compile(r"[0-9a-f]{64}\.(png|jpeg|gif|bmp|webp)")
# This server's URL of a record's image (what the Label Studio and Argilla exports write).
MEDIA_URL = re.compile(r"(?:^|/)api/projects/(\d+)/records/(\d+)/media$")
ImageResolver = Callable[[int, int], str | None]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
MEDIA_FORMATS = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif", "BMP": "bmp", "WEBP": "webp"}
MAX_IMAGES = 200_000
MAX_IMAGE_PIXELS = 50_000_000


@dataclass
class ImportedRecords:
    external_ids: list[str] = field(default_factory=list)
    payloads: list[dict[str, Any]] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    gold: list[str | None] = field(default_factory=list)
    # Labels the file carries (other tools' exports, loopwise's own), checked against the classes.
    labels: list[ix.ImportedLabel] = field(default_factory=list)
    n_predictions: int = 0

    def __len__(self) -> int:
        return len(self.external_ids)


def confine(import_dir: Path, relative: str) -> Path:
    """``relative`` resolved under ``import_dir``; anything that would leave it is refused.

    Absolute paths, ``..`` and symbolic links pointing outside all fail the same check: the fully
    resolved path must still lie inside the resolved import folder.
    """
    root = Path(import_dir).expanduser().resolve()
    if "\x00" in relative or os.path.isabs(relative) or PurePosixPath(relative).is_absolute():
        raise ForbiddenError(f"import paths are relative to the import folder; {relative!r} is absolute")
    try:
        target = (root / relative).resolve()
        inside = target == root or target.is_relative_to(root)
        found = inside and target.exists()
    except OSError as exc:  # a name too long for the file system, a loop of links
        shown = relative if len(relative) <= 80 else relative[:80] + "..."
        raise DataError(f"import path {shown!r}: not a usable path ({exc.strerror or exc})") from None
    if not inside:
        raise ForbiddenError(f"import path {relative!r} leaves the import folder")
    if not found:
        raise DataError(f"{relative}: no such file or folder in the import folder")
    return target


def read_path(
    path: Path, *, task: str, media_dir: Path, id_column: str | None, label_column: str, split_column: str,
    label_names: list[str], max_zip_bytes: int, text_field: str = "text", resolve_image: ImageResolver | None = None,
    import_dir: Path | None = None, label_kind: str = "single",
) -> ImportedRecords:
    """The records of a file or folder under the import folder (see :func:`read_upload`)."""
    if path.is_dir():
        if task != "image":
            raise DataError(f"{path.name}: a folder imports images; give a CSV, JSONL or Parquet file for a {task} project")
        return _images(_walk_folder(path), media_dir)
    name = path.name.lower()
    with path.open("rb") as handle:
        return read_upload(
            handle, name, task=task, media_dir=media_dir, id_column=id_column, label_column=label_column,
            split_column=split_column, label_names=label_names, max_zip_bytes=max_zip_bytes, text_field=text_field,
            resolve_image=resolve_image, import_dir=import_dir, label_kind=label_kind,
        )


def read_upload(
    handle: BinaryIO, filename: str, *, task: str, media_dir: Path, id_column: str | None, label_column: str,
    split_column: str, label_names: list[str], max_zip_bytes: int, text_field: str = "text",
    resolve_image: ImageResolver | None = None, import_dir: Path | None = None, label_kind: str = "single",
) -> ImportedRecords:
    """The records of an uploaded file, checked against the project (its task, text field and classes).

    Besides plain tables, it reads loopwise's own CSV and JSONL exports, Label Studio and Argilla
    JSON and Prodigy JSONL; the labels those carry come back in ``labels``. An image project takes
    a zip or folder of images, or a file whose records name images this server already holds.
    """
    import pandas as pd  # here, not at module level: `serve` starts without it (a second of imports)

    name = filename.lower()
    if name.endswith(".zip"):
        if task != "image":
            raise DataError("a zip file imports images; this project is not an image project")
        return _images(_walk_zip(handle, max_zip_bytes), media_dir)
    parsed: ix.Parsed | None = None
    if label_kind == "spans" and name.endswith((".conll", ".spans.jsonl", ".json")):
        from loopwise.server._span_exports import read_span_file

        try:
            raw = handle.read().decode("utf-8")
            if name.endswith(".conll"):
                parsed = read_span_file("conll", raw, filename, text_field)
            elif name.endswith(".jsonl"):
                parsed = read_span_file("spans_jsonl", [json.loads(line) for line in raw.splitlines() if line.strip()], filename, text_field)
            else:
                tasks = json.loads(raw)
                parsed = read_span_file("labelstudio", tasks if isinstance(tasks, list) else [tasks], filename, text_field)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{filename}: not an entity file loopwise reads ({exc})") from None
    elif name.endswith((".csv", ".tsv")):
        frame = _read_table(lambda: pd.read_csv(handle, sep="\t" if name.endswith(".tsv") else ",", dtype=object, keep_default_na=False, na_values=[""]), filename)
        frame = frame.apply(_numbers)
        if "annotator" in frame.columns and label_column in frame.columns:
            parsed = ix.table_labels(frame.to_dict(orient="records"), filename, label_column)
    elif name.endswith(".jsonl"):
        rows = _read_jsonl(handle, filename)
        if ix.is_loopwise_jsonl(rows[0]):
            parsed = ix.loopwise_jsonl(rows, filename)
        elif ix.is_prodigy(rows[0]):
            parsed = ix.prodigy_jsonl(rows, filename)
        else:
            frame = pd.DataFrame.from_records(rows)
    elif name.endswith(".json"):
        items = _read_json(handle, filename)
        if isinstance(items[0], dict) and "fields" in items[0] and "data" not in items[0]:
            parsed = ix.argilla(items, filename)
        else:
            parsed = ix.label_studio(items, filename, (text_field,) if task == "text" else ("image",) if task == "image" else ())
    elif name.endswith(".parquet"):
        frame = _read_table(lambda: pd.read_parquet(io.BytesIO(handle.read())), filename)
    else:
        raise DataError(f"{filename}: unsupported file type; import {', '.join(TABLE_SUFFIXES)}, a .zip, or a folder of images")
    present: list[set[str]] | None = None
    if parsed is not None:
        merged = ix.merge_rows(parsed.rows, filename)
        # A field one record lacks is absent from its data, not a null the table gave it.
        present = [set(row) for row in merged]
        frame = pd.DataFrame.from_records(merged)
        if id_column is None and "id" in frame.columns:
            id_column = "id"
    if task == "image" and "image" not in frame.columns:
        raise DataError(f"{filename}: an image project imports a folder or a zip of images, or records with an 'image' field")
    out = _rows(frame, filename, task, id_column, label_column, split_column, label_names, text_field, present)
    if task == "image":
        _link_images(out, filename, media_dir, resolve_image, import_dir)
    if parsed is not None:
        out.labels = _checked_labels(parsed.labels, out, filename, label_names, label_kind, text_field)
        out.n_predictions = parsed.n_predictions
    return out


def _read_json(handle: BinaryIO, filename: str) -> list[Any]:
    """A JSON file of tasks or records: a list, or one object."""
    try:
        data = json.loads(handle.read().decode("utf-8"))
    except UnicodeDecodeError:
        raise DataError(f"{filename}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{filename}, line {exc.lineno}, column {exc.colno}: malformed JSON ({exc.msg})") from None
    items = data if isinstance(data, list) else [data]
    if not items:
        raise DataError(f"{filename}: no records")
    return items


def _checked_labels(
    labels: list[ix.ImportedLabel], records: ImportedRecords, filename: str, label_names: list[str],
    label_kind: str = "single", text_field: str = "text",
) -> list[ix.ImportedLabel]:
    """The file's labels of pool records, each a class of the project (or a value of its label kind, as the
    label routes check it) and at most one per annotator and record."""
    pool = {i for i, role in zip(records.external_ids, records.roles, strict=True) if role == "pool"}
    payloads = dict(zip(records.external_ids, records.payloads, strict=True)) if label_kind != "single" else {}
    seen: set[tuple[str, str]] = set()
    kept = []
    for label in labels:
        if label.external_id not in pool:
            continue
        if label_kind != "single":
            try:
                value = canonical_value(label_kind, parse_value(label_kind, label.value), label_names, payloads[label.external_id], text_field)
            except (ValueError, DataError) as exc:
                raise DataError(f"{filename}, record {label.external_id!r}: label {label.value!r}: {exc}") from None
            label = dataclasses.replace(label, value=value)
        elif label.value not in label_names:
            raise DataError(f"{filename}, record {label.external_id!r}: label {label.value!r} is not one of {label_names}")
        key = (label.external_id, label.annotator)
        if key in seen:
            raise DataError(
                f"{filename}, record {label.external_id!r}: {label.annotator!r} labels it twice; one label per annotator and record"
            )
        seen.add(key)
        kept.append(label)
    return kept


def _link_images(
    records: ImportedRecords, filename: str, media_dir: Path, resolve: ImageResolver | None, import_dir: Path | None,
) -> None:
    """Point each record's ``image`` at a file in the media folder.

    An image may be named by a stored file name, this server's media URL, or Label Studio's local
    files URL (``/data/local-files/?d=PATH``), read from PATH under the server's import folder.
    """
    for external_id, payload in zip(records.external_ids, records.payloads, strict=True):
        value = str(payload.get("image") or "")
        stored: str | None = value if MEDIA_NAME.fullmatch(value) else None
        found = MEDIA_URL.search(value.split("?", 1)[0])
        if stored is None and found is not None and resolve is not None:
            stored = resolve(int(found.group(1)), int(found.group(2)))
        local = urlsplit(value)
        if stored is None and local.path.rstrip("/").endswith("/data/local-files") and import_dir is not None:
            relative = (parse_qs(local.query).get("d") or [""])[0]
            path = confine(import_dir, relative)
            if not path.is_file():
                raise DataError(f"{filename}, record {external_id!r}: {relative!r} is not a file in the import folder")
            stored_payload = _store_image(relative, path.read_bytes(), media_dir)
            payload.update({key: payload.get(key, stored_payload[key]) for key in ("filename", "width", "height")})
            stored = str(stored_payload["image"])
        if stored is None or not MEDIA_NAME.fullmatch(stored) or not (media_dir / stored).is_file():
            raise DataError(
                f"{filename}, record {external_id!r}: image {value[:200]!r} is not an image this server holds; "
                "import the images (a zip or a folder) first, or name them as /data/local-files/?d=PATH under the import folder"
            )
        payload["image"] = stored


def _read_table(read: Any, filename: str) -> pd.DataFrame:
    import pandas as pd

    try:
        return read()
    except pd.errors.EmptyDataError:
        raise DataError(f"{filename}: the file is empty") from None
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{filename}: cannot read: {exc}") from None


def _read_jsonl(handle: BinaryIO, filename: str) -> list[dict[str, Any]]:
    rows = []
    for number, raw in enumerate(handle, start=1):
        line = raw.decode("utf-8", errors="strict").strip() if raw else ""
        if not line:
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{filename}, line {number}: malformed JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise DataError(f"{filename}, line {number}: expected a JSON object")
        rows.append(row)
    if not rows:
        raise DataError(f"{filename}: no records")
    return rows


def _numbers(column: pd.Series) -> pd.Series:
    """A CSV column of numbers becomes numeric; anything else stays text (ids like '007' stay text)."""
    import pandas as pd

    converted = pd.to_numeric(column, errors="coerce")
    present = column.notna()
    if present.any() and converted[present].notna().all():
        as_text = column[present].astype(str)
        if not as_text.str.match(r"^0\d").any():
            return converted
    return column


def _rows(
    frame: pd.DataFrame, filename: str, task: str, id_column: str | None, label_column: str, split_column: str,
    label_names: list[str], text_field: str = "text", present: list[set[str]] | None = None,
) -> ImportedRecords:
    if frame.empty:
        raise DataError(f"{filename}: no records")
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    id_col = id_column or ("id" if "id" in columns else None)
    if id_column is not None and id_column not in columns:
        raise DataError(f"{filename}: no id column {id_column!r}; columns: {columns}")
    # Without what the learner reads, annotators would see empty records and every retrain would fail.
    if task == "text" and text_field not in columns:
        raise DataError(
            f"{filename}: no text column {text_field!r} (the project's text_field); columns: {columns}"
        )
    if task == "tabular" and not [c for c in columns if c not in (id_col, label_column, split_column)]:
        raise DataError(f"{filename}: no feature columns besides the id, label and split; columns: {columns}")
    out = ImportedRecords()
    first_at: dict[str, int] = {}
    records = frame.to_dict(orient="records")
    for position, row in enumerate(records):
        external_id = str(row.get(id_col) if id_col else position)
        if id_col and (row.get(id_col) is None or _missing(row.get(id_col))):
            raise DataError(f"{filename}, record {position + 1}: the id column {id_col!r} is empty")
        # Named here, with the file and record, rather than by the store after the whole file is read.
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in external_id):
            raise DataError(f"{filename}, record {position + 1}: id {external_id!r} holds a control character; ids must be printable text")
        if external_id in first_at:
            raise DataError(f"{filename}, record {position + 1}: id {external_id!r} repeats record {first_at[external_id]}; ids must be unique")
        first_at[external_id] = position + 1
        split = row.get(split_column)
        label = row.get(label_column)
        # dev/val/validation rows are held-out evaluation data, as in loopwise.data (GLUE, CoNLL, GoEmotions).
        role = "test" if isinstance(split, str) and split.strip().lower() in HELD_OUT_NAMES else "pool"
        gold: str | None = None
        if role == "test":
            if label is None or _missing(label):
                raise DataError(f"{filename}, record {external_id!r}: a test record needs a label in {label_column!r}")
            gold = str(label)
            if gold not in label_names:
                raise DataError(f"{filename}, record {external_id!r}: test label {gold!r} is not one of {label_names}")
        payload = {
            key: _json_value(value)
            for key, value in row.items()
            if key not in (id_col, split_column, label_column) and (present is None or key in present[position])
        }
        out.external_ids.append(external_id)
        out.payloads.append(payload)
        out.roles.append(role)
        out.gold.append(gold)
    return out


def _missing(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (str, int)):
        return value
    if isinstance(value, np.ndarray):
        return [_json_value(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return str(value)


# -- images -------------------------------------------------------------------------------------


def _walk_folder(folder: Path) -> Iterator[tuple[str, bytes]]:
    root = folder.resolve()
    count = 0
    for path in sorted(root.rglob("*")):
        # A link could point anywhere on the machine: only real files inside the folder are read.
        if path.is_symlink() or not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if not path.resolve().is_relative_to(root):
            continue
        count += 1
        if count > MAX_IMAGES:
            raise DataError(f"{folder.name}: more than {MAX_IMAGES} images; import them in parts")
        yield path.relative_to(root).as_posix(), path.read_bytes()


def _walk_zip(handle: BinaryIO, max_bytes: int) -> Iterator[tuple[str, bytes]]:
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
        while chunk := handle.read(1 << 20):
            spool.write(chunk)
        spool.seek(0)
        try:
            archive = zipfile.ZipFile(spool)
        except zipfile.BadZipFile:
            raise DataError("the upload is not a readable zip file") from None
        with archive:
            members = [m for m in archive.infolist() if not m.is_dir() and PurePosixPath(m.filename).suffix.lower() in IMAGE_SUFFIXES]
            if len(members) > MAX_IMAGES:
                raise DataError(f"the zip holds more than {MAX_IMAGES} images; import them in parts")
            total = 0
            for member in sorted(members, key=lambda m: m.filename):
                # Names are only used as record ids, never as paths to write to, so '../x' cannot escape;
                # still, refuse them as ids so exports stay clean.
                parts = PurePosixPath(member.filename).parts
                if member.filename.startswith("/") or ".." in parts:
                    continue
                total += member.file_size
                if total > max_bytes:
                    raise TooLargeError(f"the zip unpacks to more than {max_bytes} bytes")
                with archive.open(member) as source:
                    data = source.read(member.file_size + 1)
                if len(data) > member.file_size:
                    raise DataError(f"{member.filename}: the zip entry is larger than it declares")
                yield member.filename, data


def _images(files: Iterator[tuple[str, bytes]], media_dir: Path) -> ImportedRecords:
    out = ImportedRecords()
    for name, data in files:
        out.external_ids.append(name[:512])
        out.payloads.append(_store_image(name, data, media_dir))
        out.roles.append("pool")
        out.gold.append(None)
    if not out.external_ids:
        raise DataError(f"no images found; expected files ending in {', '.join(IMAGE_SUFFIXES)}")
    return out


def _store_image(name: str, data: bytes, media_dir: Path) -> dict[str, Any]:
    """Check an image and keep it in the media folder under its content hash; returns the record's payload."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    media_dir.mkdir(parents=True, exist_ok=True)
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = MEDIA_FORMATS.get(str(image.format))
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise DataError(f"{name}: not a readable image") from None
    if fmt is None:
        raise DataError(f"{name}: image format not supported; use PNG, JPEG, GIF, BMP or WebP")
    digest = hashlib.sha256(data).hexdigest()
    stored = f"{digest}.{fmt}"
    target = media_dir / stored
    if not target.exists():
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return {"image": stored, "filename": name, "width": width, "height": height}

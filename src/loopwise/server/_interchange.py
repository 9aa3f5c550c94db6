"""Read other tools' files into rows and labels: Label Studio and Argilla JSON, Prodigy and loopwise JSONL, loopwise CSV.

Each reader turns its format into the generic rows the table importer checks (an id, the record's
fields, a split and, for a held-out record, its label) plus the labels people gave, so every format
goes through the same checks of ids, text fields and classes.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from loopwise.core.splits import HELD_OUT_NAMES
from loopwise.errors import DataError
from loopwise.storage._annotation_import import ImportedLabel

# Who imported labels are by when the file does not say: a user that cannot sign in.
IMPORT_USER = "import"
# Argilla user ids are UUIDs; loopwise exports uuid5(ARGILLA_NAMESPACE, name) and lists the names.
ARGILLA_NAMESPACE = uuid.UUID("6f1c3c52-8a3e-4d55-9a43-6b1d1c6f0a11")
_NAME = re.compile(r"[A-Za-z0-9._@+-]{1,255}")


@dataclass
class Parsed:
    """What a reader found: one generic row per record (ids may repeat: labels of one record) and the labels."""

    rows: list[dict[str, Any]]
    labels: list[ImportedLabel]
    n_predictions: int = 0


def annotator_name(raw: Any, where: str) -> str:
    """A user name for an annotator named in a file: refused with ``where`` if it cannot be one."""
    name = str(raw).strip()
    if not _NAME.fullmatch(name):
        raise DataError(f"{where}: annotator {name!r} cannot be a user name (ASCII letters, digits and . _ @ + -)")
    return name


def timestamp(raw: Any, where: str) -> datetime | None:
    """An ISO 8601 time from a file (UTC when it names no zone); None when absent."""
    if raw in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise DataError(f"{where}: {raw!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def is_loopwise_jsonl(row: dict[str, Any]) -> bool:
    return isinstance(row.get("data"), dict) and isinstance(row.get("labels"), list) and "id" in row


def is_prodigy(row: dict[str, Any]) -> bool:
    return "answer" in row and ("text" in row or "image" in row)


def loopwise_jsonl(rows: list[dict[str, Any]], filename: str) -> Parsed:
    """loopwise's own JSONL export: ``{id, data, split, gold, flagged, labels: [{label, annotator, created_at}]}``."""
    out = Parsed([], [])
    for number, row in enumerate(rows, start=1):
        where = f"{filename}, line {number}"
        if not is_loopwise_jsonl(row):
            raise DataError(f"{where}: expected loopwise's export lines ({{id, data, labels}}) like the first one")
        external_id = str(row["id"])
        out.rows.append({"id": external_id, **row["data"], "split": row.get("split"), "label": row.get("gold")})
        for label in row["labels"]:
            if not isinstance(label, dict) or "label" not in label:
                raise DataError(f"{where}: each of 'labels' must be an object with a 'label'")
            out.labels.append(ImportedLabel(
                external_id, str(label["label"]), annotator_name(label.get("annotator") or IMPORT_USER, where),
                timestamp(label.get("created_at"), where),
            ))
    return out


def prodigy_jsonl(rows: list[dict[str, Any]], filename: str) -> Parsed:
    """Prodigy's annotated examples: ``text`` (or ``image``), ``label`` or ``accept`` with ``options``, ``answer``.

    Only accepted answers are labels (a rejected ``label`` says what the record is not, which a
    single-label project cannot store); an example seen by several annotators is one record.
    """
    out = Parsed([], [])
    for number, row in enumerate(rows, start=1):
        where = f"{filename}, line {number}"
        if not is_prodigy(row):
            raise DataError(f"{where}: expected a Prodigy example with 'text' and 'answer' like the first one")
        meta: dict[str, Any] = row["meta"] if isinstance(row.get("meta"), dict) else {}
        raw_id = row.get("id", meta.get("id", row.get("_input_hash")))
        if raw_id is None:
            raise DataError(f"{where}: no 'id', 'meta.id' or '_input_hash' to name the record")
        external_id = str(raw_id)
        fields: dict[str, Any] = {key: row[key] for key in ("text", "image") if key in row}
        extra = {key: value for key, value in meta.items() if key != "id"}
        out.rows.append({"id": external_id, **fields, **extra})
        if row.get("answer") != "accept":
            continue
        accepted = row.get("accept")
        if isinstance(accepted, list):
            if len(accepted) > 1:
                raise DataError(f"{where}: {len(accepted)} options accepted; a single-label project takes one")
            values = [str(v) for v in accepted]
        else:
            values = [str(row["label"])] if row.get("label") is not None else []
        who = row.get("_annotator_id") or row.get("_session_id") or IMPORT_USER
        for value in values:
            out.labels.append(ImportedLabel(external_id, value, annotator_name(who, where), _unix(row.get("_timestamp"))))
    return out


def label_studio(tasks: list[Any], filename: str, data_keys: tuple[str, ...]) -> Parsed:
    """Label Studio tasks: ``{id, data, annotations: [{completed_by, result: [choices]}], predictions}``.

    A task's record id is ``data.external_id`` (loopwise's export writes it) or the task id. An
    annotation's author is its ``created_username`` (Label Studio's "email, id"), else a
    ``completed_by`` object's email or username, else ``labelstudio-<completed_by id>``.
    Cancelled annotations and empty results are no labels; a ``ground_truth`` annotation of a
    held-out task (``data.split``) is its evaluation label. Predictions are counted, not stored:
    the project's own model makes the suggestions.
    """
    out = Parsed([], [])
    for number, task in enumerate(tasks, start=1):
        where = f"{filename}, task {number}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise DataError(f"{where}: a Label Studio task is an object with a 'data' object")
        data = dict(task["data"])
        raw_id = data.pop("external_id", task.get("id", number))
        external_id = str(raw_id)
        where = f"{filename}, task {external_id!r}"
        held_out = str(data.get("split", "")).strip().lower() in HELD_OUT_NAMES
        annotations = task.get("annotations") or []
        if not isinstance(annotations, list):
            raise DataError(f"{where}: 'annotations' must be a list")
        gold: str | None = None
        for annotation in annotations:
            if not isinstance(annotation, dict):
                raise DataError(f"{where}: each annotation must be an object")
            if annotation.get("was_cancelled"):
                continue
            label_where = f"{where}, annotation {annotation.get('id', '?')}"
            values = _choices(annotation.get("result"), label_where)
            if not values:
                continue
            if held_out:
                gold = gold or values[0]
                continue
            out.labels.append(ImportedLabel(
                external_id, values[0], _ls_author(annotation, label_where), timestamp(annotation.get("created_at"), label_where),
            ))
        predictions = task.get("predictions") or []
        for prediction in predictions if isinstance(predictions, list) else []:
            if isinstance(prediction, dict):
                _choices(prediction.get("result"), f"{where}, prediction")
                out.n_predictions += 1
        if not any(key in data for key in data_keys) and data_keys:
            raise DataError(f"{where}: its data has none of {list(data_keys)}; keys: {sorted(data)}")
        out.rows.append({"id": external_id, **data, "label": gold})
    return out


def argilla(records: list[Any], filename: str, question: str = "label") -> Parsed:
    """Argilla records (``rg.Record.to_dict()``): ``{id, fields, metadata, responses: {label: [{value, user_id}]}}``.

    A response's user is named by ``metadata.annotators`` (loopwise's export lists the names whose
    uuid5 is the user id), else ``argilla-<first 8 hex of the id>``. Only submitted responses count.
    """
    out = Parsed([], [])
    for number, record in enumerate(records, start=1):
        where = f"{filename}, record {number}"
        if not isinstance(record, dict) or not isinstance(record.get("fields"), dict):
            raise DataError(f"{where}: an Argilla record is an object with a 'fields' object")
        metadata: dict[str, Any] = record["metadata"] if isinstance(record.get("metadata"), dict) else {}
        external_id = str(record.get("id", number))
        where = f"{filename}, record {external_id!r}"
        names = {
            str(uuid.uuid5(ARGILLA_NAMESPACE, name)): name
            for name in str(metadata.get("annotators") or "").split(",") if name
        }
        times = dict(zip(names.values(), str(metadata.get("labelled_at") or "").split(","), strict=False))
        answers = record.get("responses")
        responses = (answers.get(question) if isinstance(answers, dict) else None) or []
        if not isinstance(responses, list):
            raise DataError(f"{where}: 'responses.{question}' must be a list")
        gold = metadata.get("gold")
        for response in responses:
            if not isinstance(response, dict) or response.get("status", "submitted") != "submitted":
                continue
            user = str(response.get("user_id") or "")
            who = names.get(user) or (f"argilla-{user.replace('-', '')[:8]}" if user else IMPORT_USER)
            out.labels.append(ImportedLabel(
                external_id, str(response.get("value")), annotator_name(who, where), timestamp(times.get(who), where),
            ))
        extra = {key: value for key, value in metadata.items() if key not in ("annotators", "labelled_at", "gold", "split")}
        out.rows.append({"id": external_id, **record["fields"], **extra, "split": metadata.get("split"), "label": gold})
    return out


def table_labels(rows: list[dict[str, Any]], filename: str, label_column: str) -> Parsed:
    """loopwise's CSV export: one row per label (``annotator``, ``created_at``), or one per unlabelled record."""
    out = Parsed([], [])
    for number, row in enumerate(rows, start=2):
        where = f"{filename}, row {number}"
        external_id = str(row.get("id"))
        value, who = row.pop(label_column, None), row.pop("annotator", None)
        when = row.pop("created_at", None)
        held_out = str(row.get("split") or "").strip().lower() in HELD_OUT_NAMES
        out.rows.append({**row, "label": value if held_out else None})
        if value not in (None, "") and not held_out and not _nan(value):
            author = IMPORT_USER if who in (None, "") or _nan(who) else who
            out.labels.append(ImportedLabel(external_id, str(value), annotator_name(author, where), timestamp(None if _nan(when) else when, where)))
    return out


def merge_rows(rows: list[dict[str, Any]], filename: str) -> list[dict[str, Any]]:
    """One row per id: the rows of a record seen more than once (one per label) must agree on its fields."""
    first: dict[str, dict[str, Any]] = {}
    merged = []
    for row in rows:
        key = str(row.get("id"))
        seen = first.get(key)
        if seen is None:
            first[key] = row
            merged.append(row)
        elif _comparable(seen) != _comparable(row):
            fields = sorted(k for k in set(seen) | set(row) if _comparable({k: seen.get(k)}) != _comparable({k: row.get(k)}))
            raise DataError(f"{filename}, record {key!r}: it appears twice with different {', '.join(fields)}")
    return merged


def _comparable(row: dict[str, Any]) -> str:
    return json.dumps({k: (None if _nan(v) else v) for k, v in row.items() if k != "label"}, sort_keys=True, default=str)


def _nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


def _choices(result: Any, where: str) -> list[str]:
    if result is None:
        return []
    if not isinstance(result, list):
        raise DataError(f"{where}: 'result' must be a list")
    values: list[str] = []
    for item in result:
        if not isinstance(item, dict):
            raise DataError(f"{where}: each result must be an object")
        kind = item.get("type")
        if kind != "choices":
            raise DataError(f"{where}: result type {kind!r}; loopwise imports classification ('choices') results only")
        value = item.get("value")
        chosen = value.get("choices") if isinstance(value, dict) else None
        if not isinstance(chosen, list) or len(chosen) != 1:
            raise DataError(f"{where}: a single-label project takes exactly one choice, got {chosen!r}")
        values.append(str(chosen[0]))
    if len(values) > 1:
        raise DataError(f"{where}: {len(values)} choices results; a single-label project takes one")
    return values


def _ls_author(annotation: dict[str, Any], where: str) -> str:
    username = annotation.get("created_username")
    if isinstance(username, str) and username.split(",")[0].strip():
        return annotator_name(username.split(",")[0].strip(), where)
    author = annotation.get("completed_by")
    if isinstance(author, dict):
        named = author.get("email") or author.get("username")
        if named:
            return annotator_name(named, where)
        author = author.get("id")
    if isinstance(author, int) and not isinstance(author, bool):
        return f"labelstudio-{author}"
    return IMPORT_USER


def _unix(raw: Any) -> datetime | None:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        try:
            return datetime.fromtimestamp(float(raw), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    return None

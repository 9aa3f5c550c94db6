"""The files a project exports to: loopwise's CSV and JSONL, Label Studio tasks and config, Argilla records.

Each carries what loopwise's importer needs to read it back to the same records and labels
(``data.external_id`` and ``created_username`` for Label Studio; ``metadata.annotators`` for
Argilla); the tools' formats name images by this server's media URL, which a signed-in browser loads.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from typing import Any
from xml.sax.saxutils import quoteattr

from loopwise.errors import ConfigError
from loopwise.server._interchange import ARGILLA_NAMESPACE
from loopwise.server._span_exports import SPAN_FORMATS, span_file
from loopwise.storage._annotation_store import AnnotationProjectInfo, CurrentLabel

FORMATS = ("csv", "jsonl", "labelstudio", "labelstudio_config", "argilla", "conll", "spans_jsonl")
# (media type, file name suffix) of each format.
_FILES = {
    "csv": ("text/csv", ".csv"), "jsonl": ("application/x-ndjson", ".jsonl"),
    "labelstudio": ("application/json", ".labelstudio.json"), "labelstudio_config": ("application/xml", ".labelstudio.xml"),
    "argilla": ("application/json", ".argilla.json"),
    "conll": ("text/plain", ".conll"), "spans_jsonl": ("application/x-ndjson", ".spans.jsonl"),
}
# The names the Label Studio config gives its choices and the object they label.
FROM_NAME = "label"
TO_NAMES = {"text": "text", "image": "image"}


def media_url(base_url: str, project_id: int, record_id: int) -> str:
    """The URL this server serves a record's image at."""
    return f"{base_url.rstrip('/')}/api/projects/{project_id}/records/{record_id}/media"


def record_media_url(project_id: int, record_id: int, payload: dict[str, Any] | None) -> str | None:
    """The server-relative URL of a record's image, or None for a record without one."""
    return media_url("", project_id, record_id) if payload and "image" in payload else None


def _data(project: AnnotationProjectInfo, record: Any, base_url: str) -> dict[str, Any]:
    payload = dict(record.payload or {})
    if project.task == "image" and payload.get("image"):
        payload["image"] = media_url(base_url, project.id, record.record_id)
    return payload


def _grouped(labels: list[CurrentLabel]) -> dict[int, list[CurrentLabel]]:
    grouped: dict[int, list[CurrentLabel]] = {}
    for label in labels:
        grouped.setdefault(label.record_id, []).append(label)
    return grouped


def _result(project: AnnotationProjectInfo, value: str, result_id: str) -> list[dict[str, Any]]:
    to_name = TO_NAMES.get(project.task, "table")
    return [{"id": result_id, "from_name": FROM_NAME, "to_name": to_name, "type": "choices", "origin": "manual",
             "value": {"choices": [value]}}]


def label_studio_tasks(
    project: AnnotationProjectInfo, labels: list[CurrentLabel], records: dict[int, Any], user_ids: dict[str, int],
    base_url: str,
) -> Iterator[str]:
    """Label Studio's JSON task format: one task per record, one annotation (a 'choices' result) per label.

    ``completed_by`` is the annotator's integer user id on this server, as Label Studio's own
    exports have it; ``created_username`` names them. A held-out record carries ``data.split`` and
    its evaluation label as a ``ground_truth`` annotation.
    """
    grouped = _grouped(labels)
    tasks = []
    for record_id, record in records.items():
        data = {"external_id": record.external_id, **_data(project, record, base_url)}
        if record.role == "pool":
            annotations = [
                {
                    "id": lab.label_id, "completed_by": user_ids.get(lab.annotator), "created_username": lab.annotator,
                    "created_at": lab.created_at.isoformat(), "updated_at": lab.created_at.isoformat(),
                    "was_cancelled": False, "ground_truth": False, "result": _result(project, lab.value, f"l{lab.label_id}"),
                }
                for lab in grouped.get(record_id, [])
            ]
        else:
            data["split"] = "test"
            annotations = [{"was_cancelled": False, "ground_truth": True, "result": _result(project, str(record.gold), f"g{record_id}")}]
        tasks.append({"id": record_id, "data": data, "annotations": annotations, "predictions": []})
    yield json.dumps(tasks, ensure_ascii=False, indent=1)


def label_studio_config(project: AnnotationProjectInfo, records: dict[int, Any]) -> Iterator[str]:
    """A Label Studio labelling config (XML) for the exported tasks: the record's object and one choice per class."""
    text_field = str(project.settings.get("text_field", "text"))
    if project.task == "text":
        objects = [f'  <Text name="text" value={quoteattr("$" + text_field)}/>']
    elif project.task == "image":
        objects = ['  <Image name="image" value="$image"/>']
    else:
        first = next(iter(records.values()), None)
        keys = [key for key in (first.payload or {}) if key.isidentifier()] if first is not None else []
        objects = [f'  <Header value={quoteattr(key)}/>\n  <Text name={quoteattr("table" if i == 0 else f"f_{key}")} value={quoteattr("$" + key)}/>' for i, key in enumerate(keys)]
    to_name = TO_NAMES.get(project.task, "table")
    choices = "\n".join(f"    <Choice value={quoteattr(name)}/>" for name in project.label_names)
    yield (
        "<View>\n" + "\n".join(objects) + "\n"
        f'  <Choices name="{FROM_NAME}" toName="{to_name}" choice="single" showInline="true">\n{choices}\n  </Choices>\n'
        "</View>\n"
    )


def argilla_user_id(name: str) -> str:
    """A stable Argilla user id (a UUID) for a loopwise user name."""
    return str(uuid.uuid5(ARGILLA_NAMESPACE, name))


def argilla_records(
    project: AnnotationProjectInfo, labels: list[CurrentLabel], records: dict[int, Any], base_url: str,
) -> Iterator[str]:
    """Argilla records (``rg.Record.to_dict()``'s shape) answering a LabelQuestion named ``label``.

    The record's data are its fields (an image project's image is this server's media URL; its
    file name and size go to metadata); ``metadata.annotators`` lists the names behind the
    responses' user ids (``metadata.labelled_at`` their times, in the same order), and a held-out record has ``metadata.split`` and ``metadata.gold``.
    """
    grouped = _grouped(labels)
    out = []
    for record_id, record in records.items():
        data = _data(project, record, base_url)
        if project.task == "image":
            fields = {"image": data.pop("image", None)}
            metadata: dict[str, Any] = dict(data)
        else:
            fields, metadata = data, {}
        mine = grouped.get(record_id, []) if record.role == "pool" else []
        metadata["split"] = "train" if record.role == "pool" else "test"
        if record.role != "pool":
            metadata["gold"] = record.gold
        if mine:
            metadata["annotators"] = ",".join(lab.annotator for lab in mine)
            metadata["labelled_at"] = ",".join(lab.created_at.isoformat() for lab in mine)
        out.append({
            "id": record.external_id,
            "status": "completed" if mine else "pending",
            "fields": fields,
            "metadata": metadata,
            "responses": {FROM_NAME: [{"value": lab.value, "user_id": argilla_user_id(lab.annotator), "status": "submitted"} for lab in mine]},
            "suggestions": {},
            "vectors": {},
        })
    yield json.dumps(out, ensure_ascii=False, indent=1)


HISTORY_FORMATS = ("csv", "jsonl")
HISTORY_FIELDS = (
    "label_id", "value", "source", "annotator", "run_id", "created_at", "supersedes", "superseded_by",
    "model_version", "confidence",  # an auto-label's (source auto): the loop index of the model that gave it, its probability
)


def history_rows(labels: list[Any]) -> list[dict[str, Any]]:
    """A record's label rows (``LabelInfo``, oldest first) as ``loopwise labels history --json`` gives them."""
    superseded_by = {label.supersedes_id: label.id for label in labels if label.supersedes_id is not None}
    return [
        {"label_id": label.id, "value": label.value, "source": label.source, "annotator": label.annotator,
         "run_id": label.run_id, "created_at": label.created_at.isoformat(), "supersedes": label.supersedes_id,
         "superseded_by": superseded_by.get(label.id), "model_version": label.model_version,
         "confidence": label.confidence}
        for label in labels
    ]


def export_file(
    fmt: str, project: AnnotationProjectInfo, labels: list[CurrentLabel], records: dict[int, Any],
    user_ids: dict[str, int], base_url: str, history: dict[int, list[Any]] | None = None,
) -> tuple[str, str, Iterator[str]]:
    """(media type, file name suffix, chunks) of the project in ``fmt`` (one of :data:`FORMATS`).

    With ``history`` (record id -> its label rows, oldest first), CSV has one row per label row ever
    given, superseded ones included, and JSONL a ``history`` list per record (:data:`HISTORY_FIELDS`).
    """
    media_type, suffix = _FILES[fmt]
    if history is not None and fmt not in HISTORY_FORMATS:
        raise ConfigError(f"history=true exports {' and '.join(HISTORY_FORMATS)} only; got format {fmt!r}")
    if fmt in SPAN_FORMATS and project.label_kind != "spans":
        raise ConfigError(f"format {fmt!r} exports entity spans; this project's labels are {project.label_kind!r}")
    if project.label_kind == "spans" and fmt in (*SPAN_FORMATS, "labelstudio", "labelstudio_config"):
        chunks = span_file(fmt, project, labels, records)
    elif fmt == "csv" and history is not None:
        chunks = csv_history_rows(records, history)
    elif fmt == "csv":
        chunks = csv_rows(project, labels, records)
    elif fmt == "jsonl":
        chunks = jsonl_lines(labels, records, history)
    elif fmt == "labelstudio":
        chunks = label_studio_tasks(project, labels, records, user_ids, base_url)
    elif fmt == "labelstudio_config":
        chunks = label_studio_config(project, records)
    else:
        chunks = argilla_records(project, labels, records, base_url)
    return media_type, suffix, chunks


def csv_rows(project: AnnotationProjectInfo, labels: list[CurrentLabel], records: dict[int, Any]) -> Iterator[str]:
    """One row per label in force (``id, split, <the record's fields>, label, annotator, created_at``).

    A record nobody labelled has one row with an empty label; a held-out record has ``split`` test
    and its evaluation label. Fields that are lists or objects are written as JSON.
    """
    fields: dict[str, None] = {}
    for record in records.values():
        fields.update(dict.fromkeys(record.payload or {}))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "split", *fields, "label", "annotator", "created_at"])
    grouped = _grouped(labels)
    for record_id, record in records.items():
        payload = record.payload or {}
        values = [_cell(payload.get(key)) for key in fields]
        if record.role != "pool":
            writer.writerow([record.external_id, "test", *values, record.gold, "", ""])
            continue
        mine = grouped.get(record_id, [])
        if not mine:
            writer.writerow([record.external_id, "train", *values, "", "", ""])
        for lab in mine:
            writer.writerow([record.external_id, "train", *values, lab.value, lab.annotator, lab.created_at.isoformat()])
        if buffer.tell() > 1 << 16:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_history_rows(records: dict[int, Any], history: dict[int, list[Any]]) -> Iterator[str]:
    """One row per label row of each pool record, oldest first, superseded ones included (``id, split``, then
    :data:`HISTORY_FIELDS`); a record nobody labelled has one row with empty label fields."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "split", *HISTORY_FIELDS])
    for record_id, record in records.items():
        if record.role != "pool":
            continue
        rows = history_rows(history.get(record_id, []))
        if not rows:
            writer.writerow([record.external_id, "train", *([""] * len(HISTORY_FIELDS))])
        for row in rows:
            writer.writerow([record.external_id, "train", *("" if row[k] is None else row[k] for k in HISTORY_FIELDS)])
        if buffer.tell() > 1 << 16:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_lines(labels: list[CurrentLabel], records: dict[int, Any], history: dict[int, list[Any]] | None = None) -> Iterator[str]:
    """One JSON line per record: ``{id, split, data, flagged, labels: [{label, annotator, created_at}]}``.

    A held-out record has ``split`` test, its evaluation label as ``gold`` and no labels. With ``history``,
    ``history`` lists every label row of the record, oldest first (:func:`history_rows`).
    """
    grouped = _grouped(labels)
    for record_id, record in records.items():
        pool = record.role == "pool"
        row: dict[str, Any] = {"id": record.external_id, "split": "train" if pool else "test", "data": record.payload}
        if not pool:
            row["gold"] = record.gold
        row["flagged"] = record.state == "flagged"
        row["labels"] = [
            {"label": lab.value, "annotator": lab.annotator, "created_at": lab.created_at.isoformat()}
            for lab in (grouped.get(record_id, []) if pool else [])
        ]
        if history is not None:
            row["history"] = history_rows(history.get(record_id, []) if pool else [])
        yield json.dumps(row, ensure_ascii=False) + "\n"


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value

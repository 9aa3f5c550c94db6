"""A spans project's labels as entity files: CoNLL (BIO), JSONL with character offsets, Label Studio span tasks (via _spans)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from loopwise.server import _spans
from loopwise.server._label_kinds import parse_value, record_tokens
from loopwise.storage._annotation_store import AnnotationProjectInfo, CurrentLabel

SPAN_FORMATS = ("conll", "spans_jsonl")


def sentences(project: AnnotationProjectInfo, labels: list[CurrentLabel], records: dict[int, Any]) -> Iterator[tuple[_spans.Sentence, str]]:
    """Each labelled pool record as a sentence with its BIO tags, and who labelled it (the first label in force).

    Records nobody labelled are left out: all-``O`` tags would read back as "no entities", a label nobody gave.
    """
    first: dict[int, CurrentLabel] = {}
    for label in labels:
        first.setdefault(label.record_id, label)
    text_field = str(project.settings.get("text_field", "text"))
    for record_id, record in records.items():
        found = first.get(record_id)
        if record.role != "pool" or found is None:
            continue
        label = found
        text, tokens, starts = record_tokens(record.payload, text_field)
        triples = [(s["start"], s["end"], s["label"]) for s in parse_value("spans", label.value)]
        tags = _spans.spans_to_tags(tokens, starts, triples, f"record {record.external_id!r}")
        yield _spans.Sentence(record.external_id, tokens, tags, text, starts), label.annotator


def span_file(fmt: str, project: AnnotationProjectInfo, labels: list[CurrentLabel], records: dict[int, Any]) -> Iterator[str]:
    """The chunks of ``fmt``: conll, spans_jsonl, labelstudio (span tasks) or labelstudio_config (a <Labels> config)."""
    if fmt == "labelstudio_config":
        yield _spans.label_studio_config(project.label_names)
        return
    found = list(sentences(project, labels, records))
    if fmt == "conll":
        yield _spans.write_conll(s for s, _ in found)
    elif fmt == "spans_jsonl":
        yield _spans.dumps_jsonl(s for s, _ in found)
    else:
        yield json.dumps([_spans.label_studio_task(s, who) for s, who in found], ensure_ascii=False, indent=1)


def read_span_file(kind: str, content: Any, filename: str, text_field: str) -> Any:
    """The records and labels of an entity file (``kind``: conll, spans_jsonl or labelstudio) as the importer's ``Parsed``."""
    from loopwise.server import _interchange as ix

    if kind == "conll":
        found = _spans.read_conll(content, filename)
        who = [ix.IMPORT_USER] * len(found)
    elif kind == "spans_jsonl":
        found = _spans.read_jsonl_spans(content, filename)
        who = [ix.IMPORT_USER] * len(found)
    else:
        found = _spans.read_label_studio_spans(content, filename)
        who = []
        for task in content:
            kept = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
            who.append(ix.annotator_name(kept[0].get("created_username") or ix.IMPORT_USER, filename) if kept else ix.IMPORT_USER)
    out = ix.Parsed([], [])
    for sentence, annotator in zip(found, who, strict=True):
        out.rows.append({"id": sentence.id, text_field: sentence.text})
        spans = [{"start": p.start, "end": p.end, "label": p.label} for p in _spans.tags_to_spans(sentence)]
        out.labels.append(ix.ImportedLabel(sentence.id, json.dumps(spans), annotator))
    return out

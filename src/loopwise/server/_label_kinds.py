"""A project's label kind (one class, several tags, a number, entity spans): checking a label and storing it as text.

The label column holds text. A single-class label is the class name, as it always was; the other
kinds are stored as canonical JSON text (tags in the project's class order, a float, spans sorted by
offset), so the label history, undo, consensus by equal values and the exports work unchanged, and
no migration is needed. Every value is checked here, once, before it reaches the store.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from loopwise.errors import DataError
from loopwise.server._spans import spans_to_tags

LABEL_KINDS = ("single", "multi", "number", "spans")
_WORD = re.compile(r"\S+")


def record_tokens(payload: dict[str, Any] | None, text_field: str) -> tuple[str, list[str], list[int]]:
    """A text record's text, tokens and where each token starts: its own ``tokens`` list (joined by spaces) when
    it has one, else the text split on whitespace."""
    from loopwise.server._spans import joined

    payload = payload or {}
    tokens = payload.get("tokens")
    if isinstance(tokens, list) and tokens and all(isinstance(t, str) and t for t in tokens):
        text, starts = joined(tokens)
        return text, list(tokens), starts
    raw = payload.get(text_field)
    text = "" if raw is None else str(raw)
    found = list(_WORD.finditer(text))
    return text, [m.group() for m in found], [m.start() for m in found]


def canonical_value(kind: str, value: Any, label_names: Sequence[str], payload: dict[str, Any] | None = None,
                    text_field: str = "text") -> str:
    """The text stored for ``value`` in a project of ``kind``; a value the kind does not take raises DataError saying why."""
    if kind == "single":
        if not isinstance(value, str):
            raise DataError(f"this project labels one class per record: send value as one of {list(label_names)}; got {value!r}")
        return value  # the store checks the class, as it always did
    if kind == "multi":
        return json.dumps(_tags(value, label_names))
    if kind == "number":
        return repr(_number(value))
    if kind == "spans":
        return json.dumps(_spans(value, label_names, payload, text_field))
    raise DataError(f"label_kind must be one of {', '.join(LABEL_KINDS)}; got {kind!r}")


def parse_value(kind: str, text: str) -> Any:
    """The stored text of a label back as the value the API takes (a class, a list of tags, a number, a list of spans)."""
    if kind == "single":
        return text
    if kind == "number":
        return float(text)
    return json.loads(text)


def _tags(value: Any, label_names: Sequence[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataError(f"this project takes several tags per record: send value as a list of tags from {list(label_names)}; got {value!r}")
    unknown = [v for v in value if v not in label_names]
    if unknown:
        raise DataError(f"tag {unknown[0]!r} is not a class of this project; classes: {list(label_names)}")
    if len(set(value)) != len(value):
        raise DataError(f"a tag is given twice in {value!r}")
    return [name for name in label_names if name in value]


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataError(f"this project takes a number per record: send value as a JSON number; got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise DataError(f"the number must be finite; got {value!r}")
    return number


def _spans(value: Any, label_names: Sequence[str], payload: dict[str, Any] | None, text_field: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise DataError(f"this project takes entity spans: send value as a list of {{start, end, label}}; got {value!r}")
    text, tokens, starts = record_tokens(payload, text_field)
    spans: list[tuple[int, int, str]] = []
    for i, span in enumerate(value):
        start, end, label = (span.get("start"), span.get("end"), span.get("label")) if isinstance(span, dict) else (None, None, None)
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(label, str)) or isinstance(start, bool) or isinstance(end, bool):
            raise DataError(f"span {i}: send {{start, end, label}} with integer character offsets; got {span!r}")
        if label not in label_names:
            raise DataError(f"span {i}: type {label!r} is not an entity type of this project; types: {list(label_names)}")
        if not 0 <= start < end <= len(text):
            raise DataError(f"span {i}: {start}-{end} is out of range: the text has {len(text)} characters (start < end)")
        spans.append((start, end, label))
    spans_to_tags(tokens, starts, spans, "value")  # refuses a span off token boundaries, or overlapping another
    return [{"start": a, "end": b, "label": c} for a, b, c in sorted(spans)]


__all__ = ["LABEL_KINDS", "canonical_value", "parse_value", "record_tokens"]

"""Entity labels between BIO tags and files: CoNLL (BIO), JSONL with character offsets, Label Studio spans; pure functions.

A sentence is an id, its tokens and one BIO (IOB2) tag per token. Its text is the tokens
joined by single spaces unless a file gives its own text and token offsets; spans are
character offsets into that text (``end`` exclusive), and must start and end on token
boundaries. A stray ``I-X`` (after ``O`` or another type) starts an entity, as in
conlleval and seqeval, so a sentence exports as the entities seqeval would score.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from loopwise.errors import DataError

_TAG = re.compile(r"O|[BI]-\S+")
LABEL_STUDIO_FROM = "label"  # the <Labels name=...> and <Text name=...> of the exported labelling config
LABEL_STUDIO_TO = "text"


@dataclass(frozen=True)
class Span:
    """One entity: characters ``start:end`` of the text and tokens ``token_start..token_end`` (inclusive), of type ``label``."""

    start: int
    end: int
    label: str
    token_start: int
    token_end: int


@dataclass
class Sentence:
    """A record of a token-classification project: id, tokens, BIO tags, and the character offsets of its tokens in ``text``."""

    id: str
    tokens: list[str]
    tags: list[str]
    text: str = ""
    starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.text and not self.starts:
            self.text, self.starts = joined(self.tokens)
        if len(self.tags) != len(self.tokens) or len(self.starts) != len(self.tokens):
            raise DataError(f"record {self.id!r}: {len(self.tokens)} tokens, {len(self.tags)} tags, {len(self.starts)} token offsets")
        for i, tag in enumerate(self.tags):
            if not _TAG.fullmatch(tag):
                raise DataError(f"record {self.id!r}, token {i} ({self.tokens[i]!r}): tag {tag!r} is not BIO (O, B-TYPE or I-TYPE)")


def joined(tokens: Sequence[str]) -> tuple[str, list[int]]:
    """The tokens joined by single spaces, and where each starts."""
    starts, at = [], 0
    for token in tokens:
        starts.append(at)
        at += len(token) + 1
    return " ".join(tokens), starts


def tags_to_spans(sentence: Sentence) -> list[Span]:
    """The entities of a sentence's BIO tags, as character and token spans."""
    spans: list[Span] = []
    open_type, first = None, 0
    for i, tag in enumerate([*sentence.tags, "O"]):
        kind = tag[2:] if tag != "O" else None
        if open_type is not None and (tag == "O" or tag.startswith("B-") or kind != open_type):
            last = i - 1
            end = sentence.starts[last] + len(sentence.tokens[last])
            spans.append(Span(sentence.starts[first], end, open_type, first, last))
            open_type = None
        if kind is not None and open_type is None:
            open_type, first = kind, i
    return spans


def spans_to_tags(tokens: Sequence[str], starts: Sequence[int], spans: Iterable[tuple[int, int, str]], where: str) -> list[str]:
    """BIO tags from character spans ``(start, end, label)``; a span off token boundaries, or overlapping another, is refused with ``where``."""
    ends = [s + len(t) for s, t in zip(starts, tokens, strict=True)]
    first_at = {s: i for i, s in enumerate(starts)}
    last_at = {e: i for i, e in enumerate(ends)}
    tags = ["O"] * len(tokens)
    for start, end, label in sorted(spans):
        if not label or any(ch.isspace() for ch in label):
            raise DataError(f"{where}: span {start}-{end} has label {label!r}; a type is a non-empty word")
        if start not in first_at or end not in last_at or last_at[end] < first_at[start]:
            raise DataError(f"{where}: span {start}-{end} ({label}) does not start and end on token boundaries")
        a, b = first_at[start], last_at[end]
        if any(t != "O" for t in tags[a : b + 1]):
            raise DataError(f"{where}: span {start}-{end} ({label}) overlaps another span")
        tags[a] = f"B-{label}"
        tags[a + 1 : b + 1] = [f"I-{label}"] * (b - a)
    return tags


# -- CoNLL (BIO): one token and its tag a line, a blank line between sentences ------------------
def iob2(sentence: Sentence) -> list[str]:
    """The sentence's tags in strict IOB2: each entity of :func:`tags_to_spans` as ``B-X I-X ...``."""
    tags = ["O"] * len(sentence.tokens)
    for span in tags_to_spans(sentence):
        tags[span.token_start] = f"B-{span.label}"
        tags[span.token_start + 1 : span.token_end + 1] = [f"I-{span.label}"] * (span.token_end - span.token_start)
    return tags


def write_conll(sentences: Iterable[Sentence]) -> str:
    """CoNLL text: ``# id = ...`` then ``token<TAB>tag`` lines (IOB2), a blank line after each sentence."""
    blocks = []
    for s in sentences:
        if any(not t or any(ch.isspace() for ch in t) for t in s.tokens):
            raise DataError(f"record {s.id!r}: a token is empty or holds white space, which CoNLL columns cannot carry")
        if any(ch.isspace() for ch in s.id):
            raise DataError(f"record id {s.id!r} holds white space, which a CoNLL '# id =' line cannot carry")
        blocks.append("\n".join([f"# id = {s.id}", *(f"{t}\t{g}" for t, g in zip(s.tokens, iob2(s), strict=True))]) + "\n")
    return "\n".join(blocks)


def read_conll(text: str, filename: str) -> list[Sentence]:
    """Sentences of a CoNLL file: the first column is the token, the last its BIO tag (CoNLL-2003's four columns too).

    ``-DOCSTART-`` lines are skipped; ``# id = X`` names the next sentence, otherwise it is
    ``<filename stem>-<n>`` counting from 0 (any other line is a token, ``#`` included).
    """
    sentences: list[Sentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    name: str | None = None
    stem = filename.rsplit("/", 1)[-1].split(".", 1)[0]

    def close() -> None:
        nonlocal tokens, tags, name
        if tokens:
            sentences.append(Sentence(name or f"{stem}-{len(sentences)}", tokens, tags))
        tokens, tags, name = [], [], None

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            close()
            continue
        if stripped.startswith("# id = "):
            close()
            name = stripped[len("# id = ") :].strip()
            continue
        cells = stripped.split()
        if cells[0] == "-DOCSTART-":
            close()
            continue
        if len(cells) < 2:
            raise DataError(f"{filename}, line {number}: expected a token and its tag, got {stripped!r}")
        if not _TAG.fullmatch(cells[-1]):
            raise DataError(f"{filename}, line {number}: tag {cells[-1]!r} is not BIO (O, B-TYPE or I-TYPE)")
        tokens.append(cells[0])
        tags.append(cells[-1])
    close()
    _unique_ids(sentences, filename)
    return sentences


# -- JSONL with character offsets (Prodigy's span layout) ----------------------------------------
def jsonl_record(s: Sentence) -> dict[str, Any]:
    """``{id, text, tokens: [{text, start, end, id}], spans: [{start, end, label, token_start, token_end}]}``."""
    return {
        "id": s.id,
        "text": s.text,
        "tokens": [{"text": t, "start": a, "end": a + len(t), "id": i} for i, (t, a) in enumerate(zip(s.tokens, s.starts, strict=True))],
        "spans": [{"start": p.start, "end": p.end, "label": p.label, "token_start": p.token_start, "token_end": p.token_end} for p in tags_to_spans(s)],
    }


def read_jsonl_spans(rows: Sequence[Any], filename: str) -> list[Sentence]:
    """Sentences from JSONL records with character-offset spans; without ``tokens``, the text is split at white space."""
    out = []
    for number, row in enumerate(rows, start=1):
        where = f"{filename}, line {number}"
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise DataError(f"{where}: expected an object with a 'text' string")
        record_id = str(row.get("id", f"{filename}-{number - 1}"))
        tokens, starts = _tokens(row, where)
        spans = row.get("spans") or []
        if not isinstance(spans, list):
            raise DataError(f"{where}: 'spans' must be a list")
        triples = [_offsets(span, f"{where}, span {i}") for i, span in enumerate(spans)]
        tags = spans_to_tags(tokens, starts, triples, f"{where} (record {record_id!r})")
        out.append(Sentence(record_id, tokens, tags, row["text"], starts))
    _unique_ids(out, filename)
    return out


# -- Label Studio: tasks with a "labels" result per entity ---------------------------------------
def label_studio_task(s: Sentence, annotator: str | None = None) -> dict[str, Any]:
    """A Label Studio task whose one annotation holds a ``labels`` result per entity (``value.start/end/text/labels``)."""
    result = [
        {
            "id": f"{s.id}-{i}",
            "from_name": LABEL_STUDIO_FROM,
            "to_name": LABEL_STUDIO_TO,
            "type": "labels",
            "value": {"start": p.start, "end": p.end, "text": s.text[p.start : p.end], "labels": [p.label]},
        }
        for i, p in enumerate(tags_to_spans(s))
    ]
    annotation: dict[str, Any] = {"result": result}
    if annotator:
        annotation["created_username"] = annotator
    return {"data": {"external_id": s.id, "text": s.text}, "annotations": [annotation]}


def label_studio_config(entity_types: Sequence[str]) -> str:
    """The labelling config that reads these tasks: a ``<Labels>`` over the ``<Text>``."""
    labels = "".join(f'<Label value="{t}"/>' for t in entity_types)
    return f'<View><Labels name="{LABEL_STUDIO_FROM}" toName="{LABEL_STUDIO_TO}">{labels}</Labels><Text name="{LABEL_STUDIO_TO}" value="$text"/></View>'


def read_label_studio_spans(tasks: Sequence[Any], filename: str) -> list[Sentence]:
    """Sentences from Label Studio tasks: the first annotation that is not cancelled gives the entities."""
    out = []
    for number, task in enumerate(tasks, start=1):
        where = f"{filename}, task {number}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict) or not isinstance(task["data"].get("text"), str):
            raise DataError(f"{where}: a Label Studio task is an object with data.text")
        data = task["data"]
        record_id = str(data.get("external_id", task.get("id", number)))
        tokens, starts = _tokens(data, where)
        annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        triples = []
        for i, item in enumerate(annotations[0].get("result") or [] if annotations else []):
            if not isinstance(item, dict) or item.get("type") != "labels":
                continue
            value = item.get("value")
            if not isinstance(value, dict) or not isinstance(value.get("labels"), list) or len(value["labels"]) != 1:
                raise DataError(f"{where}, result {i}: a labels result needs value.start, value.end and one value.labels")
            triples.append(_offsets({**value, "label": value["labels"][0]}, f"{where}, result {i}"))
        tags = spans_to_tags(tokens, starts, triples, f"{where} (record {record_id!r})")
        out.append(Sentence(record_id, tokens, tags, data["text"], starts))
    _unique_ids(out, filename)
    return out


def _tokens(row: dict[str, Any], where: str) -> tuple[list[str], list[int]]:
    """A record's tokens and their starts: its ``tokens`` list of ``{text, start}`` (or of strings in the text), else the text's words."""
    text: str = row["text"]
    given = row.get("tokens")
    if given is None:
        matches = list(re.finditer(r"\S+", text))
        if not matches:
            raise DataError(f"{where}: the text has no tokens")
        return [m.group() for m in matches], [m.start() for m in matches]
    if not isinstance(given, list) or not given:
        raise DataError(f"{where}: 'tokens' must be a non-empty list")
    tokens, starts, at = [], [], 0
    for i, token in enumerate(given):
        word, start = (token.get("text"), token.get("start")) if isinstance(token, dict) else (token, None)
        if not isinstance(word, str) or not word:
            raise DataError(f"{where}, token {i}: expected a non-empty token text")
        start = text.find(word, at) if start is None else start
        if not isinstance(start, int) or start < at or text[start : start + len(word)] != word:
            raise DataError(f"{where}, token {i}: {word!r} is not at offset {start} of the text")
        tokens.append(word)
        starts.append(start)
        at = start + len(word)
    return tokens, starts


def _offsets(span: Any, where: str) -> tuple[int, int, str]:
    if not isinstance(span, dict):
        raise DataError(f"{where}: a span is an object with start, end and label")
    start, end, label = span.get("start"), span.get("end"), span.get("label")
    if not isinstance(start, int) or not isinstance(end, int) or not isinstance(label, str) or start >= end:
        raise DataError(f"{where}: needs integer start < end and a label, got start={start!r}, end={end!r}, label={label!r}")
    return start, end, label


def _unique_ids(sentences: Sequence[Sentence], filename: str) -> None:
    seen: set[str] = set()
    for s in sentences:
        if s.id in seen:
            raise DataError(f"{filename}: record id {s.id!r} appears twice")
        seen.add(s.id)


def dumps_jsonl(sentences: Iterable[Sentence]) -> str:
    """The JSONL-with-offsets export, one record a line."""
    return "".join(json.dumps(jsonl_record(s), ensure_ascii=False) + "\n" for s in sentences)

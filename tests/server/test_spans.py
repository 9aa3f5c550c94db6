"""Entity labels through CoNLL, JSONL with character offsets and Label Studio spans, and back to the same tags."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopwise.errors import DataError
from loopwise.server._spans import (
    Sentence,
    dumps_jsonl,
    label_studio_config,
    label_studio_task,
    read_conll,
    read_jsonl_spans,
    read_label_studio_spans,
    tags_to_spans,
    write_conll,
)

CONLL = Path("/work/shared/datasets/conll2003/data.jsonl.gz")


def _round_trips(sentences: list[Sentence]) -> dict[str, list[Sentence]]:
    jsonl = [json.loads(line) for line in dumps_jsonl(sentences).splitlines()]
    tasks = json.loads(json.dumps([label_studio_task(s) for s in sentences]))
    return {
        "conll": read_conll(write_conll(sentences), "export.conll"),
        "jsonl": read_jsonl_spans(jsonl, "export.jsonl"),
        "label_studio": read_label_studio_spans(tasks, "export.json"),
    }


def _same(a: list[Sentence], b: list[Sentence]) -> bool:
    return [(s.id, s.tokens, s.tags) for s in a] == [(s.id, s.tokens, s.tags) for s in b]


def test_conll_sentences_come_back_with_the_same_tags_from_every_format() -> None:
    if not CONLL.is_file():
        pytest.skip("the shared CoNLL-2003 folder is not here")
    with gzip.open(CONLL, "rt", encoding="utf-8") as fh:
        rows = [json.loads(next(fh)) for _ in range(400)]
    sentences = [Sentence(r["id"], r["tokens"], r["tags"]) for r in rows]
    assert sum(len(tags_to_spans(s)) for s in sentences) > 300  # many entities, of every type
    for name, back in _round_trips(sentences).items():
        assert _same(back, sentences), name


_TYPES = st.sampled_from(["PER", "LOC", "ORG", "MISC"])


@st.composite
def _sentence(draw: st.DrawFn) -> Sentence:
    n = draw(st.integers(1, 12))
    tokens = draw(st.lists(st.text(st.characters(blacklist_categories=("Z", "C")), min_size=1, max_size=6), min_size=n, max_size=n))
    tags, previous = [], "O"
    for _ in range(n):
        choice = draw(st.sampled_from(["O", "B", "I"]))
        if choice == "I" and previous != "O":
            tags.append("I-" + previous[2:])
        elif choice == "O":
            tags.append("O")
        else:
            tags.append("B-" + draw(_TYPES))
        previous = tags[-1]
    return Sentence(draw(st.text("abc0123", min_size=1, max_size=5)), tokens, tags)


@settings(max_examples=80, deadline=None)
@given(st.lists(_sentence(), min_size=1, max_size=4, unique_by=lambda s: s.id))
def test_any_valid_bio_sentence_round_trips(sentences: list[Sentence]) -> None:
    for name, back in _round_trips(sentences).items():
        assert _same(back, sentences), name


def test_spans_are_the_entities_seqeval_reads_with_offsets_into_the_text() -> None:
    s = Sentence("r1", ["New", "York", "is", "big", "Mr", "Smith"], ["B-LOC", "I-LOC", "O", "I-MISC", "B-PER", "I-ORG"])
    spans = [(p.start, p.end, p.label, p.token_start, p.token_end) for p in tags_to_spans(s)]
    # The stray I-MISC starts an entity, and I-ORG after PER starts another (conlleval, seqeval).
    assert spans == [(0, 8, "LOC", 0, 1), (12, 15, "MISC", 3, 3), (16, 18, "PER", 4, 4), (19, 24, "ORG", 5, 5)]
    assert [s.text[a:b] for a, b, *_ in spans] == ["New York", "big", "Mr", "Smith"]
    assert read_conll(write_conll([s]), "x.conll")[0].tags == ["B-LOC", "I-LOC", "O", "B-MISC", "B-PER", "B-ORG"]


def test_label_studio_tasks_as_label_studio_writes_them() -> None:
    task = {
        "id": 7,
        "data": {"text": "Peter  Blackburn visited Brussels."},  # two spaces, and a full stop on the last word
        "annotations": [
            {"was_cancelled": True, "result": [{"type": "labels", "value": {"start": 0, "end": 5, "labels": ["ORG"]}}]},
            {"result": [
                {"from_name": "label", "to_name": "text", "type": "labels", "value": {"start": 0, "end": 16, "text": "Peter  Blackburn", "labels": ["PER"]}},
                {"from_name": "label", "to_name": "text", "type": "labels", "value": {"start": 25, "end": 34, "text": "Brussels.", "labels": ["LOC"]}},
            ]},
        ],
    }
    (s,) = read_label_studio_spans([task], "ls.json")
    assert (s.id, s.tokens, s.tags) == ("7", ["Peter", "Blackburn", "visited", "Brussels."], ["B-PER", "I-PER", "O", "B-LOC"])
    again = label_studio_task(s)["annotations"][0]["result"]
    assert [(r["value"]["start"], r["value"]["end"], r["value"]["labels"]) for r in again] == [(0, 16, ["PER"]), (25, 34, ["LOC"])]
    assert '<Label value="PER"/>' in label_studio_config(["PER", "LOC"])


def test_bad_files_are_refused_naming_where() -> None:
    with pytest.raises(DataError, match=r"x.conll, line 2: tag 'PER' is not BIO"):
        read_conll("Peter\tB-PER\nSmith\tPER\n", "x.conll")
    with pytest.raises(DataError, match=r"x.conll, line 1: expected a token and its tag"):
        read_conll("Peter\n", "x.conll")
    with pytest.raises(DataError, match=r"x.conll: record id 'a' appears twice"):
        read_conll("# id = a\nx\tO\n\n# id = a\ny\tO\n", "x.conll")
    row = {"id": "r9", "text": "Peter Smith", "spans": [{"start": 0, "end": 3, "label": "PER"}]}
    with pytest.raises(DataError, match=r"s.jsonl, line 1 \(record 'r9'\): span 0-3 \(PER\) does not start and end on token boundaries"):
        read_jsonl_spans([row], "s.jsonl")
    row["spans"] = [{"start": 0, "end": 11, "label": "PER"}, {"start": 6, "end": 11, "label": "ORG"}]
    with pytest.raises(DataError, match=r"span 6-11 \(ORG\) overlaps another span"):
        read_jsonl_spans([row], "s.jsonl")
    with pytest.raises(DataError, match=r"s.jsonl, line 1, token 1: 'Smyth' is not at offset"):
        read_jsonl_spans([{"text": "Peter Smith", "tokens": ["Peter", "Smyth"]}], "s.jsonl")
    with pytest.raises(DataError, match=r"record 'q', token 1 \('b'\): tag 'X-PER' is not BIO"):
        Sentence("q", ["a", "b"], ["O", "X-PER"])

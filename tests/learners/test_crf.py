"""The CRF tagger on a small CoNLL-2003 slice: its marginals and best-path probability against brute force."""

from __future__ import annotations

import gzip
import itertools
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from loopwise.errors import ConfigError, DataError
from loopwise.evaluation._ner import entity_scores
from loopwise.learners._crf import CRFTagger, SequenceLearner, make_sequence_learner, token_features

CONLL = Path("/work/shared/datasets/conll2003")
TAGS = ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]


def _conll(split: str, n: int) -> list[dict]:
    rows = []
    with gzip.open(CONLL / "data.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["split"] == split:
                rows.append(row)
                if len(rows) == n:
                    break
    return rows


@pytest.fixture(scope="module")
def trained() -> tuple[CRFTagger, list[dict], list[dict]]:
    if not CONLL.is_dir():
        pytest.skip("the shared CoNLL-2003 folder is not here")
    train, dev = _conll("train", 500), _conll("dev", 200)
    model = CRFTagger(TAGS, max_iterations=50)
    model.fit([r["tokens"] for r in train], [r["tags"] for r in train])
    return model, train, dev


def test_marginals_and_path_probability_equal_brute_force_over_all_tag_sequences(trained) -> None:
    model, _, dev = trained
    tagger = model.crf_.tagger_
    sentence = ["Peter", "visited", "Germany"]
    marginals = model.predict_marginals([sentence])
    tagger.set(token_features(sentence))
    seen = tagger.labels()
    probs = {path: tagger.probability(list(path)) for path in itertools.product(seen, repeat=len(sentence))}
    assert np.isclose(sum(probs.values()), 1.0, atol=1e-6)
    assert np.isclose(marginals.path_proba[0], max(probs.values()), atol=1e-6)
    for t in range(len(sentence)):
        for tag in TAGS:
            expected = sum(p for path, p in probs.items() if path[t] == tag)
            assert np.isclose(marginals.sentence(0)[t, TAGS.index(tag)], expected, atol=1e-5), (t, tag)
    assert model.predict([sentence]) == [list(max(probs, key=probs.get))]


def test_the_crf_learns_entities_and_its_marginals_are_distributions(trained) -> None:
    model, _, dev = trained
    assert isinstance(model, SequenceLearner)
    scores = entity_scores([r["tags"] for r in dev], model.predict([r["tokens"] for r in dev]))
    assert scores["entity_f1"] > 0.5  # measured 0.69 (500 sentences, 50 iterations); 300 sentences gave 0.31, a model that learnt nothing ~0
    marginals = model.predict_marginals([r["tokens"] for r in dev])
    assert marginals.lengths.tolist() == [len(r["tokens"]) for r in dev]
    assert np.allclose(marginals.values.sum(axis=1), 1.0, atol=1e-5)
    assert ((marginals.path_proba > 0) & (marginals.path_proba <= 1 + 1e-6)).all()


def test_pickle_and_clone_give_the_same_tagger(trained) -> None:
    model, train, dev = trained
    sentences = [r["tokens"] for r in dev[:50]]
    again = pickle.loads(pickle.dumps(model))
    assert again.predict(sentences) == model.predict(sentences)
    twin = model.clone()
    assert twin.crf_ is None and twin.get_params() == model.get_params()
    twin.fit([r["tokens"] for r in train], [r["tags"] for r in train])
    assert np.array_equal(twin.predict_marginals(sentences).values, model.predict_marginals(sentences).values)


def test_bad_input_is_refused_with_the_sentence_at_fault() -> None:
    model = make_sequence_learner("crf", ["O", "B-PER", "I-PER"])
    with pytest.raises(DataError, match=r"sentence 1: tags \['B-XYZ'\] are not in tag_names"):
        model.fit([["a"], ["b", "c"]], [["O"], ["B-XYZ", "O"]])
    with pytest.raises(DataError, match="sentence 0: 2 tokens but 1 tags"):
        model.fit([["a", "b"]], [["O"]])
    with pytest.raises(ConfigError, match="not trained yet"):
        model.predict([["a"]])
    with pytest.raises(ConfigError, match="unknown sequence learner 'hmm'; known sequence learners: crf"):
        make_sequence_learner("hmm", ["O"])
    with pytest.raises(ConfigError, match="c1 must be a number >= 0, got -1"):
        CRFTagger(["O"], c1=-1)

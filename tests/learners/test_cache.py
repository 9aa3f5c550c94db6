from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from loopwise.learners import EmbeddingCache, TfidfSVDEmbedder, as_learner, data_fingerprint, model_version

TEXTS = np.array(["free prize now", "call me later", "win cash prize", "see you at lunch", "cash now", "lunch at noon"])
Y = np.array([1, 0, 1, 0, 1, 0])


def test_fingerprints_follow_content_not_identity() -> None:
    X = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert data_fingerprint(X) == data_fingerprint(X.copy())
    assert data_fingerprint(X) != data_fingerprint(X[::-1])
    assert data_fingerprint(X) != data_fingerprint(X.astype(np.float64))
    assert data_fingerprint(np.asfortranarray(X)) == data_fingerprint(X)
    assert data_fingerprint(["ab", "c"]) != data_fingerprint(["a", "bc"])
    assert data_fingerprint(["ab", "c"]) == data_fingerprint(np.array(["ab", "c"], dtype=object))
    # The same sparse matrix written with a duplicate entry hashes like its canonical form.
    messy = sp.csr_matrix((np.array([1.0, 1.0]), np.array([0, 0]), np.array([0, 2, 2])), shape=(2, 3))
    assert data_fingerprint(messy) == data_fingerprint(sp.csr_matrix(np.array([[2.0, 0, 0], [0, 0, 0]])))
    assert messy.data.tolist() == [1.0, 1.0]  # the caller's matrix is left as it was
    assert data_fingerprint([{"a": 1}]) is None


def test_cache_hits_the_same_version_and_data_and_misses_otherwise(tmp_path) -> None:
    cache = EmbeddingCache(tmp_path)
    embedder = TfidfSVDEmbedder(n_components=4).fit(TEXTS)
    first = cache.get_or_compute(embedder, TEXTS, embedder.transform)
    again = cache.get_or_compute(embedder, TEXTS, embedder.transform)
    assert (cache.misses, cache.hits) == (1, 1)
    assert again.dtype == np.float32 and np.array_equal(first, again)
    [file] = [p for p in tmp_path.rglob("*.npy")]
    assert file.parent.name == file.name[:2]
    cache.get_or_compute(embedder, TEXTS[:3], embedder.transform)  # other rows
    cache.get_or_compute(TfidfSVDEmbedder(n_components=4).fit(TEXTS[:4]), TEXTS, embedder.transform)  # other model
    assert (cache.misses, cache.hits) == (3, 1)


def test_unreadable_files_are_recomputed_and_unversioned_models_are_not_cached(tmp_path) -> None:
    cache = EmbeddingCache(tmp_path)
    embedder = TfidfSVDEmbedder(n_components=4).fit(TEXTS)
    cache.get_or_compute(embedder, TEXTS, embedder.transform)
    [file] = list(tmp_path.rglob("*.npy"))
    file.write_bytes(b"not an npy file")
    assert np.array_equal(cache.get_or_compute(embedder, TEXTS, embedder.transform), embedder.transform(TEXTS))
    assert cache.misses == 2 and np.load(file).shape == (len(TEXTS), 4)

    unpicklable = lambda X: np.ones((len(X), 2))  # noqa: E731 - a lambda cannot be pickled, so it has no version
    assert model_version(unpicklable) is None
    EmbeddingCache(tmp_path / "other").get_or_compute(unpicklable, TEXTS, unpicklable)
    assert not (tmp_path / "other").exists()


def test_learner_reads_cached_embeddings_across_loops_while_the_model_version_holds(tmp_path) -> None:
    learner = as_learner("tfidf_svd", n_classes=2, embedding_cache=EmbeddingCache(tmp_path))
    learner.fit(TEXTS, Y)
    first = learner.embed(TEXTS)
    # The loop trains a fresh clone every loop; the same labelled set gives the same model version.
    same = learner.clone()
    same.fit(TEXTS, Y)
    assert same.embedding_cache is learner.embedding_cache
    assert np.array_equal(same.embed(TEXTS), first)
    assert (learner.embedding_cache.misses, learner.embedding_cache.hits) == (1, 1)
    grown = learner.clone()
    grown.fit(np.append(TEXTS, "prize cash win"), np.append(Y, 1))
    grown.embed(TEXTS)
    assert learner.embedding_cache.misses == 2


def test_features_are_the_embeddings_of_a_model_without_its_own(digits_split) -> None:
    Xp, _, yp, _ = digits_split
    learner = as_learner("logreg", n_classes=10, embedding_cache=None)
    learner.fit(Xp[:50], yp[:50])
    assert np.array_equal(learner.embed(Xp[:5]), Xp[:5].astype(np.float32))

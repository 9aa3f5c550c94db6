"""Loop-0 initialisation: random, diverse (k-means centroids' nearest records), or given ids."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.cluster.vq import kmeans2
from scipy.sparse.linalg import svds

from loopwise.errors import ConfigError


class Initializer(abc.ABC):
    """Chooses the loop-0 sample before any model exists."""

    @abc.abstractmethod
    def select(self, X: Any, ids: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        """Return ``size`` distinct pool positions."""

    def describe(self) -> dict[str, Any]:
        return {"kind": type(self).__name__, **vars(self)}


class RandomInit(Initializer):
    """A uniform random sample."""

    def select(self, X: Any, ids: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(len(ids), size=size, replace=False).astype(np.int64)


def _dense_view(X: Any, max_dims: int, rng: np.random.Generator) -> np.ndarray:
    """Dense low-dimensional view for clustering; sparse text goes through a truncated SVD."""
    if sp.issparse(X):
        k = max(1, min(max_dims, min(X.shape) - 1))
        v0 = rng.uniform(-1, 1, min(X.shape))
        u, s, _ = svds(sp.csr_matrix(X, dtype=np.float64), k=k, v0=v0)
        return u * s
    return np.asarray(X, dtype=np.float64).reshape(X.shape[0], -1)


class DiverseInit(Initializer):
    """k-means with ``size`` clusters; the record nearest each centroid (one record per centroid)."""

    def __init__(self, max_dims: int = 50) -> None:
        self.max_dims = max_dims

    def select(self, X: Any, ids: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        Z = _dense_view(X, self.max_dims, rng)
        centroids, _ = kmeans2(Z, size, minit="++", seed=rng)
        # Greedy nearest-unused assignment keeps the sample at exactly `size` distinct records.
        d2 = (Z**2).sum(1)[None, :] - 2 * centroids @ Z.T + (centroids**2).sum(1)[:, None]
        chosen: list[int] = []
        taken = np.zeros(Z.shape[0], dtype=bool)
        for row in d2:
            row = np.where(taken, np.inf, row)
            best = int(np.argmin(row))
            taken[best] = True
            chosen.append(best)
        return np.asarray(chosen, dtype=np.int64)


class GivenIds(Initializer):
    """The record ids the user chose, in their order."""

    def __init__(self, record_ids: Sequence[str]) -> None:
        self.record_ids = [str(i) for i in record_ids]

    def select(self, X: Any, ids: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        index = {str(v): i for i, v in enumerate(ids)}
        missing = [i for i in self.record_ids if i not in index]
        if missing:
            raise ConfigError(f"initial record ids not in the pool: {missing[:5]} ({len(missing)} missing)")
        if len(set(self.record_ids)) != len(self.record_ids):
            raise ConfigError("initial record ids contain duplicates")
        return np.asarray([index[i] for i in self.record_ids], dtype=np.int64)


# The cold-start initialisers subclass Initializer, so they can only be imported once it exists.
from loopwise.loop._cold_start import ProbCoverInit, TypiClustInit  # noqa: E402

_KINDS: dict[str, type[Initializer]] = {
    c.__name__: c for c in (RandomInit, DiverseInit, GivenIds, TypiClustInit, ProbCoverInit)
}
_ALIASES = {
    "random": "RandomInit",
    "diverse": "DiverseInit",
    "ids": "GivenIds",
    "typiclust": "TypiClustInit",
    "probcover": "ProbCoverInit",
}


def parse_initializer(spec: dict[str, Any] | str) -> Initializer:
    """Rebuild an initializer from ``describe()`` output or a short name (random, diverse, typiclust, probcover)."""
    if isinstance(spec, str):
        spec = {"kind": spec}
    spec = dict(spec)
    kind = _ALIASES.get(spec.get("kind", ""), spec.pop("kind", None))
    spec.pop("kind", None)
    if kind not in _KINDS:
        raise ConfigError(f"unknown initialisation {kind!r}; known: {', '.join(_ALIASES)}")
    return _KINDS[kind](**spec)

"""Top-k selection by partition, with ties broken by a seeded generator."""

from __future__ import annotations

import numpy as np


def top_k(scores: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Return the positions of the ``k`` highest scores, best first.

    Ties are broken by a random permutation drawn from ``rng`` so that equal
    scores still give a reproducible but unbiased batch. Runs in O(n) via
    ``argpartition``; only the k winners are sorted.
    """
    scores = np.asarray(scores)
    n = scores.shape[0]
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    if k >= n:
        k = n
    # Random tie-breaking key: lexsort on (random key, -score) after the partition.
    tiebreak: np.ndarray = np.asarray(rng.random(n))
    if k < n:
        # Everything strictly above the k-th value wins; the boundary value is
        # shared among tied candidates by the random key.
        kth = np.partition(scores, n - k)[n - k]
        above = np.flatnonzero(scores > kth)
        at = np.flatnonzero(scores == kth)
        need = k - above.size
        at = at[np.argsort(tiebreak[at], kind="stable")[:need]]
        chosen = np.concatenate([above, at])
    else:
        chosen = np.arange(n)
    order = np.lexsort((tiebreak[chosen], -scores[chosen]))
    return chosen[order].astype(np.int64)

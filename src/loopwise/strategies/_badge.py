"""BADGE: k-means++ seeding on last-layer gradient embeddings, never materialised (Ash et al. 2020)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from loopwise.core.records import Selection
from loopwise.strategies._capabilities import Capabilities
from loopwise.strategies._base import PROBA, Strategy, StrategyInputs
from loopwise.strategies._pairwise import (
    as_matrix,
    check_chunk_size,
    check_use,
    chunks,
    matvec,
    n_rows,
    row,
    sq_norms,
    weighted_draw,
)


def _residuals(proba: Any) -> np.ndarray:
    """``p - onehot(argmax p)``: the loss gradient w.r.t. the logits under the model's own label."""
    U = np.array(proba, dtype=np.float32)  # a copy: the caller's probabilities stay untouched
    U[np.arange(U.shape[0]), U.argmax(axis=1)] -= 1.0
    return U


def gradient_embedding(proba: Any, X: Any) -> np.ndarray:
    """The explicit ``n x (k·(d+1))`` gradient embeddings ``(p - e_ŷ) ⊗ [x, 1]``, for small data and tests.

    The trailing 1 is the intercept, whose gradient is ``p - e_ŷ`` itself.
    :func:`badge` works with the same geometry without building this matrix.
    """
    U = _residuals(proba)
    X = as_matrix(X)
    Xd = X.toarray() if sp.issparse(X) else X
    Xb = np.hstack([Xd, np.ones((Xd.shape[0], 1), dtype=np.float32)])
    return (U[:, :, None] * Xb[:, None, :]).reshape(U.shape[0], -1)


class _GradientSpace:
    """Distances between gradient embeddings from two small products.

    ``<g_i, g_j> = <u_i, u_j> · (<x_i, x_j> + 1)``, so the distance of every
    candidate to one centre costs a product with ``U`` (n x k) and one with
    ``X`` (n x d, dense or sparse), chunk by chunk.
    """

    def __init__(self, proba: Any, X: Any, chunk_size: int | None) -> None:
        self.U = _residuals(proba)
        self.X = as_matrix(X)
        if n_rows(self.X) != self.U.shape[0]:
            raise ValueError(f"proba has {self.U.shape[0]} rows but the vectors have {n_rows(self.X)}")
        self.chunk_size = chunk_size
        self.g_sq = sq_norms(self.U) * (sq_norms(self.X) + 1.0)

    def sq_distances_to(self, c: int) -> np.ndarray:
        minus_two_u_c, x_c, g_c = -2.0 * self.U[c], row(self.X, c), self.g_sq[c]
        n = self.U.shape[0]
        out = np.empty(n, dtype=np.float32)
        for rows in chunks(n, self.chunk_size if self.chunk_size is not None else n):
            inner = matvec(self.X[rows], x_c)
            inner += 1.0
            inner *= self.U[rows] @ minus_two_u_c
            inner += self.g_sq[rows]
            inner += g_c
            out[rows] = inner
        np.maximum(out, 0.0, out=out)
        return out


def _badge(proba: Any, X: Any, k: int, rng: np.random.Generator, chunk_size: int | None) -> tuple[np.ndarray, np.ndarray]:
    space = _GradientSpace(proba, X, chunk_size)
    n = space.U.shape[0]
    k = max(0, min(int(k), n))
    positions = np.empty(k, dtype=np.int64)
    scores = np.empty(k, dtype=np.float64)
    if k == 0:
        return positions, scores
    chosen = np.zeros(n, dtype=bool)
    # As in the authors' code, the first centre is the largest gradient.
    c = int(np.argmax(space.g_sq))
    min_sq = np.full(n, np.inf, dtype=np.float32)
    for t in range(k):
        if t > 0:
            if min_sq.max() > 0:
                # D² sampling: the chance of a candidate is its squared distance to the nearest centre.
                c = weighted_draw(min_sq, rng)
            else:
                # Every remaining gradient coincides with a centre: nothing to tell them apart.
                c = int(rng.choice(np.flatnonzero(~chosen)))
        positions[t] = c
        scores[t] = np.sqrt(float(min_sq[c] if t > 0 else space.g_sq[c]))
        chosen[c] = True
        np.minimum(min_sq, space.sq_distances_to(c), out=min_sq)
        min_sq[c] = 0.0  # never drawn again, even if rounding left it a sliver of distance
    return positions, scores


def badge(
    proba: Any,
    X: Any,
    batch_size: int,
    rng: np.random.Generator,
    chunk_size: int | None = None,
) -> np.ndarray:
    """k-means++ seeding (D² sampling) on gradient embeddings ``g_i = (p_i - e_ŷi) ⊗ [x_i, 1]``.

    For a softmax layer on inputs ``x`` this is the gradient of the loss under
    the predicted label; it is large when the model is unsure (uncertainty)
    and points in different directions for different inputs (diversity).
    ``X`` may be dense or sparse (TF-IDF). The ``n x k(d+1)`` embedding is
    never built: the distance to each new centre comes from one product with
    the probability residuals and one with ``X``, ``chunk_size`` rows at a
    time; the result does not depend on the chunking.
    """
    check_chunk_size(chunk_size)
    return _badge(proba, X, batch_size, rng, chunk_size)[0]


class Badge(Strategy):
    """BADGE, Batch Active learning by Diverse Gradient Embeddings (Ash et al. 2020, ICLR).

    ``use="features"`` (default) treats the learner as a linear softmax model
    on the pool's features, which is exact for logistic regression and needs
    no ``embed()``; ``use="embeddings"`` takes the learner's embeddings as the
    input of its last layer, as in the paper. Scores are the gradient
    distance of each pick to the nearest earlier pick (its norm for the first).
    """

    name = "badge"
    capabilities = Capabilities()  # batch-aware: selects the batch as a whole, after loop 0

    def __init__(self, use: str = "features", chunk_size: int | None = None) -> None:
        check_use(use)
        check_chunk_size(chunk_size)
        self.use = use
        self.chunk_size = chunk_size

    @property
    def requires(self) -> frozenset[str]:  # type: ignore[override]
        return frozenset({PROBA, self.use})

    def select(self, inputs: StrategyInputs, batch_size: int, rng: np.random.Generator) -> Selection:
        positions, scores = _badge(inputs.require("proba"), inputs.require(self.use), batch_size, rng, self.chunk_size)
        return Selection(positions=positions, scores=scores)

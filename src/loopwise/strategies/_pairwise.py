"""Chunked distances and clustering over dense or sparse rows, so batch-aware strategies stay O(n) in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from loopwise.strategies._base import StrategyInputs

# Rows x columns of one block of a pairwise matrix when the caller gave no chunk size:
# 2**22 float32 values (16 MiB) keeps a block in a few cache-friendly pieces and memory flat.
_BLOCK_VALUES = 1 << 22
_COLUMN_BLOCK = 2048

Matrix = Any  # a dense 2-D float32 ndarray or a float32 CSR matrix


def as_matrix(X: Any) -> Matrix:
    """Rows as float32: a 2-D ndarray (no copy when already float32) or a CSR matrix."""
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=np.float32)
    X = np.asarray(X, dtype=np.float32)
    return X.reshape(X.shape[0], -1) if X.ndim != 2 else X


def n_rows(X: Matrix) -> int:
    return int(X.shape[0])


def sq_norms(X: Matrix) -> np.ndarray:
    """Squared Euclidean norm of each row (float32)."""
    if sp.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1), dtype=np.float32).ravel()
    return np.einsum("ij,ij->i", X, X)


def row(X: Matrix, i: int) -> np.ndarray:
    """Row ``i`` as a dense 1-D float32 vector."""
    if sp.issparse(X):
        return np.asarray(X[i].toarray(), dtype=np.float32).ravel()
    return np.asarray(X[i], dtype=np.float32)


def dot(A: Matrix, B: Matrix) -> np.ndarray:
    """``A @ B.T`` as a dense array, whichever of the two is sparse."""
    if sp.issparse(A) or sp.issparse(B):
        out = A @ B.T
        return np.asarray(out.toarray() if sp.issparse(out) else out, dtype=np.float32)
    return A @ B.T


def matvec(X: Matrix, v: np.ndarray) -> np.ndarray:
    """``X @ v`` as a dense 1-D vector."""
    return np.asarray(X @ v, dtype=np.float32).ravel()


def chunks(n: int, chunk_size: int | None, width: int = 1) -> Iterator[slice]:
    """Row slices of ``chunk_size`` rows; ``None`` picks a size so a block of ``width`` columns stays ~16 MiB."""
    step = chunk_size if chunk_size is not None else max(1, _BLOCK_VALUES // max(1, width))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def check_chunk_size(chunk_size: int | None) -> None:
    if chunk_size is not None and (not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive integer or None, got {chunk_size!r}")


def check_max_dims(max_dims: int) -> int:
    """``max_dims`` (dimensions of the truncated-SVD view of sparse rows), refused unless a positive integer."""
    if not isinstance(max_dims, (int, np.integer)) or max_dims < 1:
        raise ValueError(f"max_dims must be a positive integer, got {max_dims!r}")
    return int(max_dims)


def unit_rows(X: Any, dtype: Any = np.float32) -> Any:
    """Rows scaled to unit L2 norm in ``dtype`` (all-zero rows stay zero); sparse rows stay sparse (CSR)."""
    if sp.issparse(X):
        M = sp.csr_matrix(X, dtype=dtype)
        norms = np.sqrt(np.asarray(M.multiply(M).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms) @ M)
    A = np.asarray(X, dtype=dtype)
    A = A.reshape(A.shape[0], -1) if A.ndim != 2 else A
    norms = np.linalg.norm(A, axis=1)
    norms[norms == 0] = 1.0
    return A / norms[:, None]


def rows_matmul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A @ B`` whose rows round the same however many rows ``A`` has.

    BLAS sends a one-row product through GEMV, which accumulates in another
    order than GEMM and can differ in the last bit; a lazy search that
    computes one row alone must get the value a whole-pool product gives.
    """
    if A.shape[0] == 1:
        return np.matmul(np.vstack([A, A]), B)[:1]
    return np.matmul(A, B)


def min_sq_distances(X: Matrix, C: Matrix, chunk_size: int | None = None, *, X_sq: np.ndarray | None = None) -> np.ndarray:
    """Squared distance from each row of ``X`` to its nearest row of ``C``, never holding more than a block.

    Uses ``||x||² + ||c||² - 2 x·c``. For dense rows the ``||c||²`` term rides
    inside the product (an extra column of ones), and the block buffers are
    reused, so each block costs one GEMM and one pass for the minimum.
    """
    return _nearest(X, C, chunk_size, X_sq, with_index=False)[1]


def nearest(X: Matrix, C: Matrix, chunk_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest row of ``C`` for each row of ``X`` (first on ties), and its squared distance."""
    return _nearest(X, C, chunk_size, None, with_index=True)


def _nearest(
    X: Matrix, C: Matrix, chunk_size: int | None, X_sq: np.ndarray | None, *, with_index: bool
) -> tuple[np.ndarray, np.ndarray]:
    n, m = n_rows(X), n_rows(C)
    out = np.full(n, np.inf, dtype=np.float32)
    index = np.zeros(n if with_index else 0, dtype=np.int64)
    if m == 0 or n == 0:
        return index, out
    X_sq = sq_norms(X) if X_sq is None else X_sq
    C_sq = sq_norms(C)
    dense = not sp.issparse(X) and not sp.issparse(C)
    for cols in chunks(m, _COLUMN_BLOCK):
        width = cols.stop - cols.start
        step = chunk_size if chunk_size is not None else max(1, _BLOCK_VALUES // width)
        if dense:
            C_aug = np.hstack([-2.0 * C[cols], C_sq[cols, None]]).astype(np.float32)
            X_aug = np.ones((min(step, n), X.shape[1] + 1), dtype=np.float32)
            part = np.empty((min(step, n), width), dtype=np.float32)
        best = np.empty(min(step, n), dtype=np.float32)
        for rows in chunks(n, step):
            size = rows.stop - rows.start
            if dense:
                X_aug[:size, :-1] = X[rows]
                block = np.matmul(X_aug[:size], C_aug.T, out=part[:size]) if size > 1 else rows_matmul(X_aug[:1], C_aug.T)
            else:
                block = dot(X[rows], C[cols])
                block *= -2.0
                block += C_sq[None, cols]
            if with_index:
                arg = block.argmin(axis=1)
                best[:size] = block[np.arange(size), arg]
                better = best[:size] < out[rows]
                index[rows][better] = arg[better] + cols.start
            else:
                block.min(axis=1, out=best[:size])
            np.minimum(out[rows], best[:size], out=out[rows])
    out += X_sq
    np.maximum(out, 0.0, out=out)  # rounding can push a zero distance below zero
    return index, out


def sq_distances(A: Matrix, B: Matrix, A_sq: np.ndarray | None = None, B_sq: np.ndarray | None = None) -> np.ndarray:
    """The full ``len(A) x len(B)`` matrix of squared distances (callers keep ``A`` to one block)."""
    A_sq = sq_norms(A) if A_sq is None else A_sq
    B_sq = sq_norms(B) if B_sq is None else B_sq
    d = dot(A, B)
    d *= -2.0
    d += A_sq[:, None]
    d += B_sq[None, :]
    np.maximum(d, 0.0, out=d)
    return d


def sq_distances_to_row(X: Matrix, X_sq: np.ndarray, i: int, chunk_size: int | None = None) -> np.ndarray:
    """Squared distances from every row of ``X`` to its row ``i``: one matrix-vector product, chunked."""
    v = row(X, i)
    v_sq = X_sq[i]
    n = n_rows(X)
    if chunk_size is None or chunk_size >= n:
        d = matvec(X, v)
        d *= -2.0
        d += X_sq
        d += v_sq
    else:
        d = np.empty(n, dtype=np.float32)
        for rows in chunks(n, chunk_size):
            part = matvec(X[rows], v)
            part *= -2.0
            part += X_sq[rows]
            part += v_sq
            d[rows] = part
    np.maximum(d, 0.0, out=d)
    return d


def truncated_svd(X: Any, max_dims: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``u, s, vt`` of the rank-``max_dims`` SVD of sparse rows (float64), its start vector drawn from ``rng``."""
    A = sp.csr_matrix(X, dtype=np.float64)
    if min(A.shape) < 2:
        # ARPACK needs k < min(A.shape); one row (the last candidate left) has a single singular triple.
        u, s, vt = np.linalg.svd(A.toarray(), full_matrices=False)
        return u[:, :1], s[:1], vt[:1]
    k = max(1, min(max_dims, min(A.shape) - 1))
    v0 = rng.uniform(-1, 1, min(A.shape))
    u, s, vt = svds(A, k=k, v0=v0)
    return u, s, vt


def dense_view(X: Any, max_dims: int, rng: np.random.Generator) -> Callable[[Any], np.ndarray]:
    """A map from rows to a dense float32 space where k-means and linkage can run.

    Dense rows map to themselves. Sparse rows (TF-IDF) go through a truncated
    SVD fitted on ``X`` (latent semantic analysis), so labelled rows can be
    mapped into the same space as the candidates.
    """
    if not sp.issparse(X):
        return as_matrix
    _, _, vt = truncated_svd(X, max_dims, rng)
    components = np.asarray(vt.T, dtype=np.float32)

    def project(rows: Any) -> np.ndarray:
        if n_rows(rows) == 0:
            return np.empty((0, components.shape[1]), dtype=np.float32)
        return np.asarray(sp.csr_matrix(rows, dtype=np.float32) @ components, dtype=np.float32)

    return project


_SAMPLE_BLOCK = 4096


def weighted_draw(weights: np.ndarray, rng: np.random.Generator) -> int:
    """One index drawn with probability proportional to ``weights`` (non-negative, some positive).

    Two levels, block sums then one block, so a draw costs one pass of
    additions instead of a float64 cumulative sum over all of ``weights``;
    that pass dominated k-means++ and BADGE seeding on a million rows.
    """
    n = weights.shape[0]
    starts = np.arange(0, n, _SAMPLE_BLOCK)
    cum_blocks = np.cumsum(np.add.reduceat(weights, starts, dtype=np.float64))
    target = rng.random() * cum_blocks[-1]
    b = min(int(np.searchsorted(cum_blocks, target, side="right")), len(starts) - 1)
    target -= cum_blocks[b - 1] if b > 0 else 0.0
    block = weights[starts[b] : starts[b] + _SAMPLE_BLOCK]
    j = int(np.searchsorted(np.cumsum(block, dtype=np.float64), target, side="right"))
    if j >= block.shape[0] or block[j] <= 0:
        # Rounding put the target on a boundary: take the nearest weighted index before it (or after).
        positive = np.flatnonzero(block > 0)
        if positive.size == 0:
            return int(np.flatnonzero(weights > 0)[-1])
        before = positive[positive <= j]
        j = int(before[-1]) if before.size else int(positive[0])
    return int(starts[b] + j)


def kmeans(Z: np.ndarray, n_clusters: int, rng: np.random.Generator, n_iter: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Centroids and labels of Lloyd's k-means after k-means++ seeding drawn from ``rng`` (Arthur & Vassilvitskii 2007).

    Written here rather than taken from ``scipy.cluster.vq.kmeans2``: scipy's
    k-means++ recomputes the distances to every earlier centre at each step
    (quadratic in k), which takes minutes for hundreds of clusters. Seeding
    keeps one min-distance vector (one matrix-vector product per centre) and
    each Lloyd step is one chunked nearest-centroid pass. An emptied cluster
    keeps its centroid and owns no rows.
    """
    Z = as_matrix(Z)
    n = Z.shape[0]
    n_clusters = max(1, min(int(n_clusters), n))
    Z_sq = sq_norms(Z)
    centres = np.empty(n_clusters, dtype=np.int64)
    centres[0] = rng.integers(n)
    min_sq = sq_distances_to_row(Z, Z_sq, int(centres[0]))
    for j in range(1, n_clusters):
        if min_sq.max() > 0:
            c = weighted_draw(min_sq, rng)
        else:  # fewer distinct rows than clusters: duplicates of a centre
            c = int(rng.integers(n))
        centres[j] = c
        np.minimum(min_sq, sq_distances_to_row(Z, Z_sq, c), out=min_sq)
    centroids = np.array(Z[centres], dtype=np.float32)
    labels = np.full(n, -1, dtype=np.int64)
    for _ in range(n_iter):
        new_labels = nearest(Z, centroids)[0]
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        counts = np.bincount(labels, minlength=n_clusters)
        owner = sp.csr_matrix((np.ones(n, dtype=np.float64), (labels, np.arange(n))), shape=(n_clusters, n))
        sums = np.asarray(owner @ np.asarray(Z, dtype=np.float64))
        filled = counts > 0
        centroids[filled] = (sums[filled] / counts[filled, None]).astype(np.float32)
    return centroids, labels


def subsample(n: int, max_points: int, rng: np.random.Generator) -> np.ndarray:
    """All ``n`` positions, or a sorted seeded sample of ``max_points`` of them."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_points, replace=False))


USES = ("features", "embeddings")


def check_use(use: str) -> str:
    if use not in USES:
        raise ValueError(f"use must be 'features' or 'embeddings', got {use!r}")
    return use


def vectors(inputs: StrategyInputs, use: str) -> tuple[Any, Any]:
    """The candidates' rows and the labelled rows in the space ``use`` names.

    A missing labelled set (inputs built by hand without it) counts as empty.
    """
    X = inputs.require(use)
    labelled = inputs.labelled_features if use == "features" else inputs.labelled_embeddings
    if labelled is None:
        labelled = np.empty((0, *X.shape[1:]), dtype=np.float32)
    return X, labelled

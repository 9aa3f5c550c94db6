"""INFER chunk by chunk: pool probabilities in float32 without holding more than a chunk of model output."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from loopwise.core._threads import blas_single_thread
from loopwise.errors import ConfigError, LearnerError

# Rows per call to the model when the loop infers over the pool: large enough that per-call
# overhead vanishes, small enough that a float64 copy of the output stays a few MiB.
POOL_CHUNK = 1 << 16


def _n_rows(X: Any) -> int:
    return int(X.shape[0]) if hasattr(X, "shape") else len(X)


def iter_proba(model: Any, X: Any, chunk_size: int | None = None) -> Iterator[np.ndarray]:
    """Class probabilities of ``X`` as float32 chunks of at most ``chunk_size`` rows, in row order.

    Uses the model's own ``predict_proba_chunks(X, chunk_size)`` when it has
    one (:class:`LinearSoftmax` does), else calls ``predict_proba`` on row
    slices. Nothing but the current chunk is held, so this feeds
    :func:`loopwise.strategies.select_streaming` on pools of any size.
    """
    if chunk_size is not None and int(chunk_size) < 1:
        raise ConfigError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    chunks = getattr(model, "predict_proba_chunks", None)
    if chunks is not None:
        yield from chunks(X, chunk_size)  # None: the model's own chunk size
        return
    size = POOL_CHUNK if chunk_size is None else int(chunk_size)
    n = _n_rows(X)
    for start in range(0, n, size):
        rows = X[start : start + size]
        proba = np.asarray(model.predict_proba(rows))
        if proba.ndim != 2 or proba.shape[0] != _n_rows(rows):
            raise LearnerError(f"predict_proba returned shape {proba.shape} for {_n_rows(rows)} rows")
        yield proba.astype(np.float32, copy=False)


def predict_proba_pool(model: Any, X: Any, chunk_size: int | None = None) -> np.ndarray:
    """All of ``X``'s class probabilities as one float32 array, filled chunk by chunk.

    Equals ``model.predict_proba(X).astype(np.float32)`` for any model that
    scores rows independently, but the model's float64 output and its
    temporaries never exceed a chunk.
    """
    n = _n_rows(X)
    size = POOL_CHUNK if chunk_size is None else int(chunk_size)
    if n <= size and getattr(model, "predict_proba_chunks", None) is None:
        return np.asarray(model.predict_proba(X)).astype(np.float32)
    out: np.ndarray | None = None
    start = 0
    for proba in iter_proba(model, X, chunk_size):
        if out is None:
            out = np.empty((n, proba.shape[1]), dtype=np.float32)
        out[start : start + proba.shape[0]] = proba
        start += proba.shape[0]
    if out is None:
        return np.asarray(model.predict_proba(X)).astype(np.float32)
    return out


class LinearSoftmax:
    """Softmax of a linear model's logits, in float32, a chunk of rows at a time.

    ``p = softmax(X @ coef + intercept)``: exactly the form of multinomial
    logistic regression and of a network's last layer over its embeddings.
    Each chunk is one float32 GEMM, then the softmax runs on the transposed
    ``k x chunk`` logits, where every step is a contiguous pass over one
    class at a time (NumPy reduces along a short row 5-30x slower). Chunks
    come out as ``chunk x k`` views of that buffer; a chunk of a few
    thousand rows stays in cache, so the pool is read once, and
    ``n_threads`` threads (default: up to 2) compute chunks side by side.

    ``coef`` is ``n_features x n_classes`` (note: the transpose of
    scikit-learn's ``coef_``; use :meth:`from_estimator`).
    """

    def __init__(
        self, coef: np.ndarray, intercept: np.ndarray | None = None, chunk_size: int = 16384, n_threads: int | None = None
    ) -> None:
        coef = np.asarray(coef, dtype=np.float32)
        if coef.ndim != 2 or coef.shape[1] < 1:
            raise ConfigError(f"coef must be n_features x n_classes, got shape {coef.shape}")
        intercept_ = np.zeros(coef.shape[1], dtype=np.float32) if intercept is None else np.asarray(intercept, dtype=np.float32)
        if intercept_.shape != (coef.shape[1],):
            raise ConfigError(f"intercept has shape {intercept_.shape}; expected ({coef.shape[1]},)")
        if chunk_size < 1:
            raise ConfigError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        self.coef = np.ascontiguousarray(coef)
        self.intercept = intercept_
        self.chunk_size = int(chunk_size)
        self.n_threads = int(n_threads) if n_threads is not None else min(2, os.cpu_count() or 1)

    @property
    def n_classes(self) -> int:
        return int(self.coef.shape[1])

    @classmethod
    def from_estimator(
        cls, estimator: Any, n_classes: int | None = None, chunk_size: int = 16384, n_threads: int | None = None
    ) -> LinearSoftmax:
        """From a fitted scikit-learn linear classifier (or a loopwise learner wrapping one).

        Binary models (one row of ``coef_``) become the two logits ``[0, z]``,
        so the softmax is the logistic function. Classes the estimator never
        saw get probability 0 when ``n_classes`` is given.
        """
        model = getattr(estimator, "model_", None) or estimator
        coef = getattr(model, "coef_", None)
        if coef is None:
            raise ConfigError(f"{type(model).__name__} has no coef_; LinearSoftmax needs a fitted linear model")
        coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
        intercept = np.asarray(getattr(model, "intercept_", np.zeros(coef.shape[0])), dtype=np.float64).ravel()
        if getattr(model, "solver", None) == "liblinear":
            raise ConfigError("a liblinear LogisticRegression is one-vs-rest, not a softmax; fit it with lbfgs")
        if coef.shape[0] == 1:
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.concatenate([[0.0], intercept])
        classes = np.asarray(getattr(model, "classes_", np.arange(coef.shape[0])))
        declared: Any = getattr(estimator, "n_classes", None)
        k = int(n_classes if n_classes is not None else declared if declared is not None else coef.shape[0])
        if len(classes) != coef.shape[0]:
            raise ConfigError(f"{len(classes)} classes but {coef.shape[0]} rows of coefficients")
        W = np.zeros((coef.shape[1], k), dtype=np.float32)
        b = np.full(k, -np.inf, dtype=np.float32)  # an unseen class: logit -inf, probability 0
        W[:, classes.astype(np.int64)] = coef.T
        b[classes.astype(np.int64)] = intercept
        return cls(W, b, chunk_size, n_threads)

    def _chunk(self, rows: Any) -> np.ndarray:
        Z = np.asarray(rows @ self.coef, dtype=np.float32)
        logits = np.empty((Z.shape[1], Z.shape[0]), dtype=np.float32)
        np.add(Z.T, self.intercept[:, None], out=logits)  # transpose and bias in one pass
        top = logits.max(axis=0)
        logits -= top
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=0)
        return logits.T

    def predict_proba_chunks(self, X: Any, chunk_size: int | None = None) -> Iterator[np.ndarray]:
        """Probabilities as ``chunk x k`` float32 arrays (views of a transposed buffer), in row order.

        ``n_threads`` worker threads compute the next chunks while the
        caller scores the current one (NumPy and BLAS release the GIL), each
        product on one BLAS thread: a team of BLAS threads on a product this
        small costs more than it saves, and far more on shared cores.
        """
        size = self.chunk_size if chunk_size is None else int(chunk_size)
        n = _n_rows(X)
        if X.shape[1] != self.coef.shape[0]:
            raise ConfigError(f"X has {X.shape[1]} features; the model expects {self.coef.shape[0]}")
        starts = range(0, n, size)
        with blas_single_thread():
            if self.n_threads <= 1 or len(starts) <= 1:
                for start in starts:
                    yield self._chunk(X[start : start + size])
                return
            with ThreadPoolExecutor(self.n_threads) as pool:
                pending: deque[Future[np.ndarray]] = deque()
                ahead = iter(starts)
                for start in ahead:
                    pending.append(pool.submit(self._chunk, X[start : start + size]))
                    if len(pending) > self.n_threads:
                        break
                while pending:
                    done = pending.popleft().result()
                    nxt = next(ahead, None)
                    if nxt is not None:
                        pending.append(pool.submit(self._chunk, X[nxt : nxt + size]))
                    yield done

    def predict_proba(self, X: Any) -> np.ndarray:
        """All probabilities (``n x k`` float32): the chunks, stacked."""
        n = _n_rows(X)
        out = np.empty((n, self.n_classes), dtype=np.float32)
        start = 0
        for proba in self.predict_proba_chunks(X):
            out[start : start + proba.shape[0]] = proba
            start += proba.shape[0]
        return out

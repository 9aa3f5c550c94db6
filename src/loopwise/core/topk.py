"""Top-k selection by partition, with ties broken by a seeded generator, whole, streamed or merged from parts."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import numpy as np

# Bit generators whose ``advance(delta)`` skips exactly ``delta`` doubles of ``Generator.random``.
_ADVANCEABLE = (np.random.PCG64, np.random.PCG64DXSM)
# Past this many keys per skipped double, drawing every double in between is cheaper than jumping.
_JUMP_COST = 500
_DRAW_BLOCK = 1 << 20
# Rows kept beyond k before the buffer is cut back to the k best (and their ties).
_SMALL = 4096


class _RandomKeys:
    """The keys ``rng.random(n)`` would draw, read at increasing positions without drawing the rest.

    ``top_k`` breaks ties with ``rng.random(n)[i]`` for position ``i``. Ties are
    rare for real-valued scores, so the keys are computed only where a tie has
    to be broken: by jumping the generator's state ahead (PCG64, the NumPy
    default) or by drawing forward from a copy (any other bit generator).
    The caller's generator is never touched here; :func:`consume` moves it.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self._bitgen: Any = copy.deepcopy(rng.bit_generator)
        self._gen = np.random.Generator(self._bitgen)
        self._jump = isinstance(self._bitgen, _ADVANCEABLE)
        self._cursor = 0  # position of the next double the copy would draw

    def at(self, positions: np.ndarray) -> np.ndarray:
        """Keys at ``positions`` (sorted, not below any position asked for before)."""
        positions = np.asarray(positions, dtype=np.int64)
        out = np.empty(positions.size, dtype=np.float64)
        if positions.size == 0:
            return out
        if positions[0] < self._cursor:
            raise ValueError("random keys must be read at increasing positions")
        span = int(positions[-1]) + 1 - self._cursor
        if self._jump and positions.size * _JUMP_COST < span:
            for j, p in enumerate(positions.tolist()):
                if p > self._cursor:
                    self._bitgen.advance(p - self._cursor)
                out[j] = self._gen.random()
                self._cursor = p + 1
            return out
        start = self._cursor
        done = 0
        while done < positions.size:
            stop = min(start + _DRAW_BLOCK, int(positions[-1]) + 1)
            block = self._gen.random(stop - start)
            upto = done + int(np.searchsorted(positions[done:], stop))
            out[done:upto] = block[positions[done:upto] - start]
            done, start = upto, stop
        self._cursor = start
        return out


def consume(rng: np.random.Generator, n: int) -> None:
    """Move ``rng`` on exactly as ``rng.random(n)`` would, without keeping the draws."""
    if n <= 0:
        return
    bitgen: Any = rng.bit_generator
    if isinstance(bitgen, _ADVANCEABLE):
        state = bitgen.state
        bitgen.advance(n)
        # advance() drops the buffered 32-bit half that random() never uses; put it back.
        moved = bitgen.state
        moved["has_uint32"], moved["uinteger"] = state["has_uint32"], state["uinteger"]
        bitgen.state = moved
        return
    for start in range(0, n, _DRAW_BLOCK):
        rng.random(min(_DRAW_BLOCK, n - start))


def top_k(scores: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Return the positions of the ``k`` highest scores, best first.

    Ties are broken by the keys ``rng.random(n)`` (lowest key first), so equal
    scores still give a reproducible but unbiased batch, and ``rng`` moves on
    by ``n`` draws. The keys are only computed where scores tie, which for
    real-valued scores is almost never, so a call costs one ``partition``
    (O(n)) and a sort of the k winners.
    """
    scores = np.asarray(scores)
    n = scores.shape[0]
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    stream = StreamingTopK(k, rng)
    stream.push(scores)
    return stream.result()[0]


class StreamingTopK:
    """Top-k over scores that arrive chunk by chunk: the result equals :func:`top_k` on their concatenation.

    Memory stays O(k + chunk): a chunk keeps only the rows at or above the
    running k-th best score. Ties are broken by the same random keys as
    ``top_k`` (``rng.random(n)[i]`` for row ``i``), and ``rng`` moves on by
    ``n`` draws when :meth:`result` is called, so swapping ``top_k`` for a
    stream changes nothing downstream.

    ``push(scores, positions)`` also accepts candidates that are not
    consecutive rows (partial top-k results of partitions, in increasing
    position order, each holding every row tied with its k-th best); pass the
    full row count to ``result(n_total=...)``.
    """

    def __init__(self, k: int, rng: np.random.Generator) -> None:
        self.k = max(0, int(k))
        self.rng = rng
        self._keys = _RandomKeys(rng)
        self._n = 0  # rows seen
        self._last = -1  # last position pushed (positions must increase)
        self._scores: list[np.ndarray] = []
        self._positions: list[np.ndarray] = []
        self._size = 0
        self._threshold: Any = None
        self._dtype: np.dtype[Any] | None = None
        self._done = False

    def push(self, scores: np.ndarray, positions: np.ndarray | None = None) -> None:
        """Add the scores of the next rows (``positions`` default to the rows after those seen)."""
        if self._done:
            raise ValueError("this stream already returned its result")
        scores = np.asarray(scores)
        if scores.ndim != 1:
            raise ValueError(f"scores must be one score per row, got shape {scores.shape}")
        m = scores.shape[0]
        start = self._n
        pos: np.ndarray | None = None
        if positions is not None:
            pos = np.asarray(positions, dtype=np.int64)
            if pos.shape != (m,):
                raise ValueError(f"positions has shape {pos.shape}; expected ({m},) to match the scores")
            if m and (pos[0] <= self._last or bool(np.any(pos[1:] <= pos[:-1]))):
                raise ValueError("positions must increase, within a push and from one push to the next")
        if m:
            self._last = int(pos[-1]) if pos is not None else start + m - 1
            self._n = max(self._n, self._last + 1)
        if m == 0 or self.k == 0:
            return
        self._dtype = scores.dtype if self._dtype is None else np.result_type(self._dtype, scores.dtype)
        if self._threshold is not None:
            idx: np.ndarray | None = np.flatnonzero(scores >= self._threshold)
        elif m >= self.k + _SMALL:
            # A large first chunk: rows below its own k-th best can never make the top k.
            self._threshold = np.partition(scores, m - self.k)[m - self.k]
            idx = np.flatnonzero(scores >= self._threshold)
        else:
            idx = None
        if idx is None:
            keep_s = scores
            keep_p = pos if pos is not None else np.arange(start, start + m, dtype=np.int64)
        else:
            keep_s = scores[idx]
            keep_p = pos[idx] if pos is not None else idx + start
        if keep_s.size:
            self._scores.append(keep_s)
            self._positions.append(keep_p)
            self._size += keep_s.size
        if self._size >= 2 * self.k + _SMALL:
            self._compact()

    def _compact(self) -> None:
        """Keep the rows at or above the k-th best score seen so far (all of them: ties need their keys)."""
        s = np.concatenate(self._scores) if len(self._scores) > 1 else self._scores[0]
        p = np.concatenate(self._positions) if len(self._positions) > 1 else self._positions[0]
        if s.size > self.k:
            kth = np.partition(s, s.size - self.k)[s.size - self.k]
            keep = s >= kth
            s, p = s[keep], p[keep]
            self._threshold = kth
        self._scores, self._positions, self._size = [s], [p], s.size

    def result(self, n_total: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the k best rows, best first, and their scores; moves ``rng`` on by ``n_total`` draws."""
        if self._done:
            raise ValueError("this stream already returned its result")
        self._done = True
        n = self._n if n_total is None else int(n_total)
        if n < self._n:
            raise ValueError(f"n_total={n} is smaller than the {self._n} rows pushed")
        dtype = self._dtype if self._dtype is not None else np.dtype(np.float64)
        if self.k == 0 or self._size == 0:
            consume(self.rng, n if self.k else 0)
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=dtype)
        s = np.concatenate(self._scores) if len(self._scores) > 1 else self._scores[0]
        p = np.concatenate(self._positions) if len(self._positions) > 1 else self._positions[0]
        k = min(self.k, s.size)
        if k < s.size:
            kth = np.partition(s, s.size - k)[s.size - k]
            above = s > kth
            at = np.flatnonzero(s == kth)
            need = k - int(np.count_nonzero(above))
            if at.size > need:
                # The boundary value is shared among tied rows by their random keys.
                at = at[np.argsort(self._keys.at(p[at]), kind="stable")[:need]]
            above[at] = True
            s, p = s[above], p[above]
        order = np.argsort(-s, kind="stable")
        ordered = s[order]
        if ordered.size > 1 and bool(np.any(ordered[1:] == ordered[:-1])):
            keys = _RandomKeys(self.rng).at(p)
            order = np.lexsort((keys, -s))
        consume(self.rng, n)
        return p[order].astype(np.int64, copy=False), s[order]


def merge_top_k(
    parts: Iterable[tuple[np.ndarray, np.ndarray]], n_total: int, k: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Merge partial top-k results into the exact ``top_k`` of all ``n_total`` rows.

    Each part is ``(scores, positions)``: the rows of one partition that
    reach its own k-th best score, ties at that score included (see
    :func:`partial_top_k`), with positions counted over the whole pool. The
    result (positions best first, and their scores) equals ``top_k`` on the
    full score vector with the same ``rng``, bit for bit.
    """
    scores_list, positions_list = [], []
    for s, p in parts:
        scores_list.append(np.asarray(s))
        positions_list.append(np.asarray(p, dtype=np.int64))
    stream = StreamingTopK(k, rng)
    if scores_list:
        s = np.concatenate(scores_list)
        p = np.concatenate(positions_list)
        order = np.argsort(p, kind="stable")
        stream.push(s[order], p[order])
    return stream.result(n_total)


def partial_top_k(scores: np.ndarray, k: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The rows of one partition that can be in a global top-k: its k best scores and every row tied with the k-th.

    Needs no random keys, so a partition can run it on its own; positions are
    shifted by ``offset`` (the partition's first row in the pool) and come
    back in increasing order, ready for :func:`merge_top_k`.
    """
    scores = np.asarray(scores)
    m = scores.shape[0]
    if k <= 0 or m == 0:
        return scores[:0], np.empty(0, dtype=np.int64)
    if k >= m:
        idx = np.arange(m)
    else:
        kth = np.partition(scores, m - k)[m - k]
        idx = np.flatnonzero(scores >= kth)
    return scores[idx], idx.astype(np.int64) + int(offset)

"""Per-record metadata as running time series: fed once per loop, bounded in memory, replayable on resume."""

from __future__ import annotations

import numpy as np

#: Columns of :meth:`RecordMetadata.features`, in order.
FEATURE_NAMES = (
    "margin",  # 1 - (p1 - p2) at the last loop
    "entropy",  # normalised to [0, 1] by log(k)
    "margin_ema",  # exponential moving average of margin over loops (alpha 0.5)
    "margin_trend",  # margin now minus margin one loop earlier
    "flips",  # loops whose predicted class differs from the loop before
    "forgets",  # forgetting events: predicted right at one loop, wrong at the next (labelled records)
    "loops_seen",  # loops the record was scored in while unlabelled
)


class RecordMetadata:
    """Running per-record features of a pool, updated from each loop's ``n_pool x k`` probabilities.

    Holds a fixed number of float32/int32 arrays of ``n_pool`` entries (about
    40 bytes a record: 40 MB at 1M records), never the past probability
    matrices, so its memory does not grow with the number of loops. It is a
    pure fold over the loops' probabilities and labels: replaying the same
    loops (as :meth:`loopwise.loop.Loop.restore` does) rebuilds the same state.
    """

    ema_alpha = 0.5

    def __init__(self) -> None:
        self.n_pool = 0
        self.n_updates = 0
        self._pending: list[tuple[np.ndarray, np.ndarray, int]] = []  # labels bought before the first update

    def _allocate(self, n_pool: int) -> None:
        self.n_pool = n_pool
        self.margin = np.zeros(n_pool, dtype=np.float32)
        self.margin_prev = np.zeros(n_pool, dtype=np.float32)
        self.margin_ema = np.zeros(n_pool, dtype=np.float32)
        self.entropy = np.zeros(n_pool, dtype=np.float32)
        self.pred = np.full(n_pool, -1, dtype=np.int32)
        self.flips = np.zeros(n_pool, dtype=np.int32)
        self.forgets = np.zeros(n_pool, dtype=np.int32)
        self.correct = np.zeros(n_pool, dtype=np.int8)  # 1 when the last prediction matched the known label
        self.loops_seen = np.zeros(n_pool, dtype=np.int32)
        self.y = np.full(n_pool, -1, dtype=np.int32)  # known labels, -1 while unlabelled
        self.labelled_loop = np.full(n_pool, -1, dtype=np.int32)

    def update(self, pool_proba: np.ndarray, chunk_size: int = 1 << 16) -> None:
        """Fold one loop's pool probabilities in, ``chunk_size`` rows at a time (temporaries stay small)."""
        from loopwise.strategies._uncertainty import entropy, margin  # _uncertainty imports _base, which imports this

        proba = np.asarray(pool_proba)
        if proba.ndim != 2:
            raise ValueError(f"pool probabilities must be n_pool x k, got shape {proba.shape}")
        if self.n_updates == 0:
            self._allocate(proba.shape[0])
            for positions, labels, loop_index in self._pending:
                self.y[positions] = labels
                self.labelled_loop[positions] = loop_index
            self._pending = []
        elif proba.shape[0] != self.n_pool:
            raise ValueError(f"pool probabilities have {proba.shape[0]} rows; the history has {self.n_pool}")
        k = max(proba.shape[1], 2)
        first = self.n_updates == 0
        for start in range(0, self.n_pool, chunk_size):
            rows = slice(start, min(start + chunk_size, self.n_pool))
            p = proba[rows]
            m = margin(p).astype(np.float32)
            pred = p.argmax(axis=1).astype(np.int32)
            self.margin_prev[rows] = self.margin[rows] if not first else m
            self.margin[rows] = m
            self.margin_ema[rows] = m if first else self.ema_alpha * m + (1 - self.ema_alpha) * self.margin_ema[rows]
            self.entropy[rows] = (entropy(p) / np.log(k)).astype(np.float32)
            if not first:
                self.flips[rows] += (pred != self.pred[rows]).astype(np.int32)
            known = self.y[rows] >= 0
            correct = (pred == self.y[rows]) & known
            self.forgets[rows] += ((self.correct[rows] == 1) & ~correct & known).astype(np.int32)
            self.correct[rows] = correct.astype(np.int8)
            self.loops_seen[rows] += (~known).astype(np.int32)
            self.pred[rows] = pred
        self.n_updates += 1

    def add_labels(self, positions: np.ndarray, labels: np.ndarray, loop_index: int) -> None:
        """Record bought labels, so later loops count forgetting events on them."""
        positions = np.asarray(positions, dtype=np.int64)
        if self.n_updates == 0:
            self._pending.append((positions, np.asarray(labels, dtype=np.int32), loop_index))
            return
        self.y[positions] = np.asarray(labels, dtype=np.int32)
        self.labelled_loop[positions] = loop_index
        self.correct[positions] = (self.pred[positions] == self.y[positions]).astype(np.int8)

    def features(self, positions: np.ndarray) -> np.ndarray:
        """A ``len(positions) x len(FEATURE_NAMES)`` float32 matrix of the records' running features."""
        positions = np.asarray(positions, dtype=np.int64)
        if self.n_updates == 0:
            return np.zeros((len(positions), len(FEATURE_NAMES)), dtype=np.float32)
        cols = (
            self.margin[positions],
            self.entropy[positions],
            self.margin_ema[positions],
            self.margin[positions] - self.margin_prev[positions],
            self.flips[positions].astype(np.float32),
            self.forgets[positions].astype(np.float32),
            self.loops_seen[positions].astype(np.float32),
        )
        return np.stack(cols, axis=1).astype(np.float32, copy=False)

    def nbytes(self) -> int:
        """Bytes held by the running arrays."""
        if self.n_updates == 0:
            return 0
        arrays = (self.margin, self.margin_prev, self.margin_ema, self.entropy, self.pred, self.flips, self.forgets,
                  self.correct, self.loops_seen, self.y, self.labelled_loop)  # fmt: skip
        return int(sum(a.nbytes for a in arrays))

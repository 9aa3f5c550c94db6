"""Exact farthest-point search for greedy k-center, refreshed lazily so a pick costs far less than a pass over the pool."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from loopwise.strategies._pairwise import as_matrix, chunks, min_sq_distances, n_rows, sq_norms

# Rows refreshed against every new centre. Greedy k-center keeps picking from the rows
# farthest from everything, so a frontier of the top few thousand rows usually lasts a whole batch.
FRONTIER = 4096
# Labelled rows behind the first distance bounds; the rest are only compared with frontier rows.
PROBE = 128
# Centres (and labelled rows) per block of exact distances.
CENTRE_BLOCK = 16
_BLOCK_VALUES = 1 << 22  # float32 values of one block of dense rows (16 MiB)


def _dense_rows(X: Any, rows: Any) -> np.ndarray:
    """``X[rows]`` as a C-contiguous float32 array (rows are a slice or an index array)."""
    part = X[rows]
    if sp.issparse(part):
        return np.asarray(part.toarray(), dtype=np.float32)
    return np.ascontiguousarray(part, dtype=np.float32)


def exact_products(rows: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """``rows @ centres.T`` with each element rounded the same whatever the shapes of the two operands.

    BLAS does not promise that: which kernel (and so which order of
    accumulation) an element goes through depends on how many rows there are
    and where the element sits among them, and on some CPUs (OpenBLAS's
    Haswell kernels on AMD EPYC) one row gets other last bits in a product of
    1,000 rows than in one of 17. ``einsum`` without ``optimize`` sums each
    element over the columns in one fixed order, so a row's distance to a
    centre is the same in the whole pool, in a partition, or alone.
    """
    return np.einsum("ij,kj->ik", rows, centres)


def _widened(bound: np.ndarray, x_sq: np.ndarray, c_sq_max: float, width: int) -> np.ndarray:
    """A BLAS distance made a safe upper bound of the exact one, past any rounding difference between the two.

    The difference scales with ``|x|² + 2|c|²``, not with the distance (``|x|² + |c|² - 2 x·c`` cancels),
    so rows far from the origin need an absolute slack, not only a relative one.
    """
    bound += (_rounding_slack(width) * (x_sq.astype(np.float64) + 2.0 * c_sq_max)).astype(np.float32)
    bound *= np.float32(1 + 1e-5)
    bound += np.float32(1e-6)
    return bound


def _augmented(rows: np.ndarray) -> np.ndarray:
    """``[rows, 1]``: with a centre block of rows ``[-2c, |c|²]`` one product gives ``|c|² - 2 x·c``."""
    out = np.empty((rows.shape[0], rows.shape[1] + 1), dtype=np.float32)
    out[:, :-1] = rows
    out[:, -1] = 1.0
    return out


def _centre_rows(rows: np.ndarray) -> np.ndarray:
    """Rows as ``[-2c, |c|²]``: with rows ``[x, 1]`` one product gives ``|c|² - 2 x·c``."""
    out = np.empty((rows.shape[0], rows.shape[1] + 1), dtype=np.float32)
    out[:, :-1] = -2.0 * rows
    out[:, -1] = np.einsum("ij,ij->i", rows, rows)
    return out


def _rounding_slack(width: int) -> float:
    """``4 γ`` for float32 dot products of ``width`` terms (Higham's γ_n = nu / (1 - nu), u = 2⁻²⁴), a little widened.

    A BLAS product and :func:`exact_products` each lie within ``γ Σ|a_k b_k|``
    of the true value, so two values differ by at most ``2 γ`` of that sum,
    and the row nearest by one is within ``4 γ`` of the nearest by the other.
    """
    nu = width * 2.0**-24
    return 4.0 * nu / (1.0 - nu) * 1.01


class FarthestPoints:
    """Squared distance of each row of ``X`` to its nearest centre, and the exact farthest row, lazily.

    Centres are the ``labelled`` rows plus those added with
    :meth:`add_centre`. Rows start with an upper bound of their distance:
    the distance to a spread subset of ``probe`` labelled rows (a thin
    product instead of one with every labelled row). Only a *frontier* of
    the rows with the largest bounds gets exact distances (to every
    labelled row and every centre) and is refreshed with each new centre;
    when the frontier's best falls to the largest bound outside it, the next
    rows by bound join it, twice as many each time. :meth:`farthest` is
    therefore exactly the argmax (first row on ties) of the true distances,
    as an eager update of every row would give, for a small fraction of the
    work: greedy k-center keeps picking among the rows farthest from
    everything, and a few thousand of them usually last a whole batch.

    The same object serves one partition of a distributed pool: the driver
    adds the same centres everywhere and compares the partitions' answers.
    Bounds come from BLAS, widened past its rounding; every exact distance
    comes from :func:`exact_products`, whose elements do not depend on how
    many rows are multiplied at once, so a row gets the same value wherever
    it lives and whenever it joins the frontier.
    """

    def __init__(
        self,
        X: Any,
        labelled: Any = None,
        chunk_size: int | None = None,
        frontier: int = FRONTIER,
        probe: int = PROBE,
    ) -> None:
        self.X = as_matrix(X)
        self.n = n_rows(self.X)
        self.d = int(self.X.shape[1])
        self.chunk_size = chunk_size
        self.frontier = max(1, int(frontier))
        self.X_sq = sq_norms(self.X)
        self.n_centres = 0
        self._blocks: list[np.ndarray] = []  # CENTRE_BLOCK x (d + 1) rows [-2c, |c|²]; empty slots give +inf
        self.taken = np.zeros(self.n, dtype=bool)
        self.active = np.zeros(self.n, dtype=bool)
        self._idx = np.empty(0, dtype=np.int64)  # active rows, increasing
        self._rows = np.empty((0, self.d + 1), dtype=np.float32)  # their augmented features, gathered once
        self._bound = -np.inf  # the largest distance bound of any inactive row
        self._batch = self.frontier  # rows to bring in at the next widening
        self._labelled: np.ndarray | None = None  # labelled rows as [-2l, |l|²], for exact distances
        self.min_sq: np.ndarray | None = None  # exact for active rows, an upper bound for the others
        if labelled is not None and n_rows(labelled) > 0:
            L = as_matrix(labelled)
            m = n_rows(L)
            # Bounds over the whole pool come from one thin BLAS product with a spread subset of
            # the labelled rows; active rows get exact distances (``exact_products``) to all of them.
            spread = np.unique(np.linspace(0, m - 1, min(m, probe)).round().astype(np.int64))
            probes = L[spread]
            bound = min_sq_distances(self.X, probes, chunk_size, X_sq=self.X_sq)
            self.min_sq = _widened(bound, self.X_sq, float(sq_norms(probes).max()), self.d + 1)
            self._labelled = _centre_rows(_dense_rows(L, slice(0, m)))

    @property
    def ready(self) -> bool:
        """False until the rows have a distance: with no labelled rows, until the first centre."""
        return self.min_sq is not None

    def row(self, i: int) -> np.ndarray:
        """Row ``i`` as a dense float32 vector (to broadcast it as a centre)."""
        return np.asarray(_dense_rows(self.X, slice(i, i + 1))[0])

    def take(self, i: int) -> None:
        """Row ``i`` became a centre: it is never the farthest again."""
        self.taken[i] = True
        if self.min_sq is not None:
            self.min_sq[i] = -np.inf

    def _to_centres(self, rows_aug: np.ndarray, x_sq: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
        """Exact squared distance of each row to its nearest centre of ``blocks`` (empty slots are +inf)."""
        out = np.full(rows_aug.shape[0], np.inf, dtype=np.float32)
        for block in blocks:
            np.minimum(out, exact_products(rows_aug, block).min(axis=1), out=out)
        out += x_sq
        np.maximum(out, 0.0, out=out)  # rounding can push a zero distance below zero
        return out

    def _to_labelled(self, rows_aug: np.ndarray, x_sq: np.ndarray) -> np.ndarray:
        """Exact squared distance of each row to its nearest labelled row (+inf when none is labelled).

        BLAS finds, for each row, the labelled rows within its rounding of the
        nearest; :func:`exact_products` decides among those few, so the
        result is the exact minimum for the cost of one BLAS product.
        """
        out = np.full(rows_aug.shape[0], np.inf, dtype=np.float32)
        L = self._labelled
        if L is None or not rows_aug.shape[0]:
            return out
        # Σ|a_k b_k| of [x, 1]·[-2l, |l|²] is at most |x|² + 2|l|² (as 2|x||l| <= |x|² + |l|²).
        slack = _rounding_slack(L.shape[1]) * (x_sq.astype(np.float64) + 2.0 * float(L[:, -1].max()))
        step = max(1, _BLOCK_VALUES // max(1, L.shape[0]))
        for start in range(0, rows_aug.shape[0], step):
            part = rows_aug[start : start + step]
            products = part @ L.T
            near = products <= (products.min(axis=1) + slack[start : start + step])[:, None]
            i, j = np.nonzero(near)
            np.minimum.at(out, start + i, np.einsum("ij,ij->i", part[i], L[j]))
        out += x_sq
        np.maximum(out, 0.0, out=out)
        return out

    def add_centre(self, centre: np.ndarray) -> None:
        """A new centre (any vector); rows learn of it lazily."""
        centre = np.asarray(centre, dtype=np.float32).ravel()
        slot = self.n_centres % CENTRE_BLOCK
        if slot == 0:
            fresh = np.zeros((CENTRE_BLOCK, self.d + 1), dtype=np.float32)
            fresh[:, -1] = np.inf
            self._blocks.append(fresh)
        block = self._blocks[-1]
        block[slot, :-1] = -2.0 * centre
        block[slot, -1] = np.dot(centre, centre)
        self.n_centres += 1
        if self.min_sq is None:
            # The first centre of a cold start: a bound of every row's distance to it, by BLAS, once.
            out = np.empty(self.n, dtype=np.float32)
            step = self.chunk_size or max(1, _BLOCK_VALUES // max(1, self.d))
            for rows in chunks(self.n, step):
                part = _augmented(_dense_rows(self.X, rows)) @ block[slot]
                part += self.X_sq[rows]
                np.maximum(part, 0.0, out=part)
                out[rows] = part
            out = _widened(out, self.X_sq, float(block[slot, -1]), self.d + 1)
            out[self.taken] = -np.inf
            self.min_sq = out
        elif self._idx.size:
            part = exact_products(self._rows, block[slot : slot + 1])[:, 0]
            part += self.X_sq[self._idx]
            np.maximum(part, 0.0, out=part)
            d = self.min_sq[self._idx]
            np.minimum(d, part, out=d)
            d[self.taken[self._idx]] = -np.inf
            self.min_sq[self._idx] = d

    def _activate(self, at_least: float) -> None:
        """Bring in the next rows by bound: a batch of them, and every row whose bound is >= ``at_least``."""
        assert self.min_sq is not None
        inactive = np.flatnonzero(~self.active)
        if inactive.size == 0:
            self._bound = -np.inf
            return
        bounds = self.min_sq[inactive]
        m = min(self._batch, inactive.size)
        self._batch *= 2  # a pool that keeps needing more rows gets them in O(log n) widenings
        cut = np.partition(bounds, inactive.size - m)[inactive.size - m]
        if np.isfinite(at_least):
            cut = min(cut, at_least)
        new = inactive[bounds >= cut]
        rows = _augmented(_dense_rows(self.X, new))
        x_sq = self.X_sq[new]
        # Exact distances to every labelled row and every centre so far (bounds are not enough here).
        d = self._to_labelled(rows, x_sq)
        if self._blocks:
            np.minimum(d, self._to_centres(rows, x_sq, self._blocks), out=d)
        d[self.taken[new]] = -np.inf
        self.min_sq[new] = d
        self.active[new] = True
        rest = bounds[bounds < cut]
        self._bound = float(rest.max()) if rest.size else -np.inf
        merged = np.concatenate([self._idx, new])
        # Rows below every inactive bound cannot be the farthest before the next widening:
        # leave them out (their value stays a valid bound) so each new centre touches fewer rows.
        keep = self.min_sq[merged] >= self._bound
        self.active[merged[~keep]] = False
        order = np.argsort(merged, kind="stable")
        order = order[keep[order]]
        self._idx = merged[order]
        self._rows = np.concatenate([self._rows, rows])[order]

    def farthest(self) -> tuple[float, int]:
        """``(squared distance, row)`` of the row farthest from every centre; ``(-inf, -1)`` when none is left."""
        if self.min_sq is None:
            raise ValueError("no centre yet: give labelled rows or add a first centre")
        if self._idx.size == 0 and self.n:
            self._activate(np.inf)
        while True:
            values = self.min_sq[self._idx]
            j = int(np.argmax(values)) if values.size else -1
            best = float(values[j]) if j >= 0 else -np.inf
            if best > self._bound or self._bound == -np.inf:
                break
            # An inactive row may be as far (ties included): widen the frontier and look again.
            self._activate(best)
        if j < 0 or best == -np.inf:
            return -np.inf, -1
        return best, int(self._idx[j])


def k_center_picks(
    X: Any,
    labelled: Any,
    k: int,
    chunk_size: int | None,
    rng: np.random.Generator | None,
    frontier: int = FRONTIER,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-center positions and the radius each closed, computed with :class:`FarthestPoints`."""
    state = FarthestPoints(X, labelled, chunk_size, frontier=max(frontier, 2 * int(k)))
    n = state.n
    k = max(0, min(int(k), n))
    positions = np.empty(k, dtype=np.int64)
    radii = np.empty(k, dtype=np.float64)
    for t in range(k):
        if not state.ready:
            if rng is None:
                raise ValueError("k_center_greedy needs rng to pick the first centre when no labelled rows are given")
            c = int(rng.integers(n))
            state.take(c)
            state.add_centre(state.row(c))
            # A random first centre closed no gap; report the radius it leaves instead.
            radii[t] = np.sqrt(max(state.farthest()[0], 0.0))
        else:
            value, c = state.farthest()
            radii[t] = np.sqrt(max(value, 0.0))
            state.take(c)
            state.add_centre(state.row(c))
        positions[t] = c
    return positions, radii

"""The lazy farthest-point search gives exactly the picks of an eager update of every row."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from loopwise.strategies._farthest import FarthestPoints, exact_products, k_center_picks


def _picks(X: np.ndarray, L: np.ndarray, k: int, seed: int, frontier: int, probe: int) -> tuple[list[int], list[float]]:
    state = FarthestPoints(X, L, frontier=frontier, probe=probe)
    rng = np.random.default_rng(seed)
    picks, values = [], []
    for _ in range(min(k, len(X))):
        if not state.ready:
            c = int(rng.integers(len(X)))
            value = 0.0
        else:
            value, c = state.farthest()
        state.take(c)
        state.add_centre(state.row(c))
        picks.append(c)
        values.append(value)
    return picks, values


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 300),
    d=st.integers(1, 6),
    n_labelled=st.integers(0, 50),
    k=st.integers(1, 60),
    frontier=st.integers(1, 40),
    probe=st.integers(1, 30),
    rounded=st.booleans(),
    seed=st.integers(0, 2**16),
)
# One row brought in alone: its product went through GEMV and rounded off the whole-pool value.
@example(n=67, d=3, n_labelled=30, k=1, frontier=1, probe=13, rounded=False, seed=1)
def test_lazy_equals_eager(n: int, d: int, n_labelled: int, k: int, frontier: int, probe: int, rounded: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    if rounded:  # duplicates and exact ties
        X = np.round(X)
    L = rng.normal(size=(n_labelled, d)).astype(np.float32)
    eager = _picks(X, L, k, seed, frontier=10**9, probe=10**9)  # every row refreshed every time
    lazy = _picks(X, L, k, seed, frontier=frontier, probe=probe)
    assert lazy == eager


def test_sparse_rows_give_the_dense_picks() -> None:
    rng = np.random.default_rng(4)
    X = (rng.normal(size=(500, 20)) * (rng.random((500, 20)) < 0.2)).astype(np.float32)
    L = X[:7] + 0.5
    dense = k_center_picks(X, L, 30, None, None, frontier=16)
    sparse = k_center_picks(sp.csr_matrix(X), L, 30, None, None, frontier=16)
    assert np.array_equal(dense[0], sparse[0])


def test_frontier_stays_small_on_a_large_pool() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60_000, 16)).astype(np.float32)
    state = FarthestPoints(X, rng.normal(size=(300, 16)).astype(np.float32), frontier=512)
    for _ in range(50):
        _, c = state.farthest()
        state.take(c)
        state.add_centre(state.row(c))
    assert state.active.sum() < 20_000  # far from refreshing every row per pick


def test_exact_products_round_each_row_the_same_however_many_rows_are_multiplied() -> None:
    # BLAS gives a row other last bits in a product of 17 rows than in one of 1,000 on some CPUs
    # (OpenBLAS's Haswell kernels on AMD EPYC); k-center on partitions needs the same value everywhere.
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((1000, 65)).astype(np.float32)
    centres = rng.standard_normal((16, 65)).astype(np.float32)
    whole = exact_products(rows, centres)
    for start, size in [(0, 1), (1, 1), (5, 2), (3, 17), (13, 333), (0, 1000)]:
        part = rows[start : start + size]
        assert np.array_equal(exact_products(part, centres), whole[start : start + size])
        assert np.array_equal(exact_products(part, centres[4:5])[:, 0], whole[start : start + size, 4])


def _eager_greedy(X: np.ndarray, labelled: np.ndarray | None, k: int, first: int) -> list[int]:
    """Greedy k-center updating every row with every centre, in the arithmetic FarthestPoints uses for exact values."""
    rows = np.hstack([X, np.ones((len(X), 1), np.float32)])
    x_sq = np.einsum("ij,ij->i", X, X)

    def to(centres: np.ndarray) -> np.ndarray:
        return np.maximum(exact_products(rows, centres).min(axis=1) + x_sq, 0)

    if labelled is None:
        d = np.full(len(X), np.inf, np.float32)
    else:
        d = to(np.hstack([-2.0 * labelled, np.einsum("ij,ij->i", labelled, labelled)[:, None]]).astype(np.float32))
    picks: list[int] = []
    for t in range(k):
        c = first if labelled is None and t == 0 else int(np.argmax(d))
        picks.append(c)
        centre = np.hstack([-2.0 * X[c], [np.dot(X[c], X[c])]]).astype(np.float32)[None]
        d = np.minimum(d, to(centre))
        d[picks] = -np.inf
    return picks


def test_lazy_picks_equal_the_eager_greedy_far_from_the_origin() -> None:
    # |x|² + |c|² - 2 x·c cancels: far from the origin a BLAS bound's rounding dwarfs the distances, and a
    # bound widened only relatively left the farthest row out of the frontier (9 of 20 runs wrong at offset 1000).
    rng = np.random.default_rng(0)
    for t in range(10):
        X = (rng.standard_normal((3000, 8)) * 0.01 + 1000.0).astype(np.float32)
        labelled, pool = (X[:50], X[50:]) if t % 2 else (None, X)
        picks, _ = k_center_picks(pool, labelled, 20, None, np.random.default_rng(t), frontier=64)
        assert list(picks) == _eager_greedy(pool, labelled, 20, int(picks[0]))

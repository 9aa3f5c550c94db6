"""top_k's lazy tie-breaking, the streamed top-k and the merge of partial top-k: all equal the textbook top_k."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopwise.core import StreamingTopK, merge_top_k, partial_top_k, top_k


def _textbook_top_k(scores: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """top_k as first written: draw every key, partition, lexsort (the behaviour the fast one must keep)."""
    n = scores.shape[0]
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    k = min(k, n)
    tiebreak = rng.random(n)
    if k < n:
        kth = np.partition(scores, n - k)[n - k]
        above = np.flatnonzero(scores > kth)
        at = np.flatnonzero(scores == kth)
        at = at[np.argsort(tiebreak[at], kind="stable")[: k - above.size]]
        chosen = np.concatenate([above, at])
    else:
        chosen = np.arange(n)
    return chosen[np.lexsort((tiebreak[chosen], -scores[chosen]))].astype(np.int64)


BIT_GENERATORS = [np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox, np.random.SFC64]
score_arrays = st.one_of(
    st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=300),
    st.lists(st.integers(0, 3).map(float), min_size=1, max_size=300),  # many ties
)


@settings(max_examples=200, deadline=None)
@given(
    values=score_arrays,
    k=st.integers(0, 320),
    seed=st.integers(0, 2**16),
    chunk=st.integers(1, 120),
    cuts=st.lists(st.integers(0, 300), max_size=4),
    bitgen=st.sampled_from(BIT_GENERATORS),
    float32=st.booleans(),
)
def test_whole_streamed_and_merged_equal_the_textbook(
    values: list[float], k: int, seed: int, chunk: int, cuts: list[int], bitgen: type, float32: bool
) -> None:
    scores = np.asarray(values, dtype=np.float32 if float32 else np.float64)
    n = scores.size
    gens = [np.random.Generator(bitgen(seed)) for _ in range(4)]
    # A buffered 32-bit half must survive, as it does when rng.random(n) is drawn.
    for g in gens:
        g.integers(0, 7, dtype=np.int32)
    expected = _textbook_top_k(scores, k, gens[0])
    assert np.array_equal(top_k(scores, k, gens[1]), expected)
    stream = StreamingTopK(k, gens[2])
    for start in range(0, n, chunk):
        stream.push(scores[start : start + chunk])
    positions, best = stream.result()
    assert np.array_equal(positions, expected)
    assert np.array_equal(best, scores[expected])
    bounds = np.unique(np.clip([0, *cuts, n], 0, n))
    parts = [partial_top_k(scores[a:b], k, a) for a, b in zip(bounds[:-1], bounds[1:])]
    assert np.array_equal(merge_top_k(parts, n, k, gens[3])[0], expected)
    # Every way moves the generator on exactly as drawing n keys does.
    if k > 0:
        nxt = [g.random() for g in gens]
        assert nxt.count(nxt[0]) == 4


def test_ties_are_broken_by_the_same_keys_on_a_million_rows() -> None:
    scores = np.repeat(np.arange(10.0), 100_000)
    a = top_k(scores, 1000, np.random.default_rng(3))
    assert np.array_equal(a, _textbook_top_k(scores, 1000, np.random.default_rng(3)))
    assert (scores[a] == 9.0).all() and len(np.unique(a)) == 1000


def test_stream_memory_stays_near_k() -> None:
    rng = np.random.default_rng(0)
    stream = StreamingTopK(50, np.random.default_rng(1))
    for _ in range(100):
        stream.push(rng.random(10_000))
        assert stream._size <= 2 * 50 + 4096 + 10_000


def test_stream_refuses_positions_out_of_order_and_reuse() -> None:
    stream = StreamingTopK(3, np.random.default_rng(0))
    stream.push(np.ones(2), np.array([5, 9]))
    with pytest.raises(ValueError, match="positions must increase"):
        stream.push(np.ones(1), np.array([7]))
    stream.result(20)
    with pytest.raises(ValueError, match="already returned"):
        stream.push(np.ones(1))
    with pytest.raises(ValueError, match="n_total=1"):
        s = StreamingTopK(1, np.random.default_rng(0))
        s.push(np.ones(3))
        s.result(1)

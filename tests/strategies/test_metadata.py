"""The running per-record metadata: flips, forgetting events, trends, bounded memory."""

from __future__ import annotations

import numpy as np
import pytest

from loopwise.strategies import History
from loopwise.strategies._metadata import FEATURE_NAMES, RecordMetadata


def _p(rows: list[list[float]]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float32)


def test_flips_forgetting_and_trend_by_hand() -> None:
    meta = RecordMetadata()
    meta.add_labels(np.array([0]), np.array([1]), 0)  # record 0 is labelled class 1 before any loop scored it
    meta.update(_p([[0.2, 0.8], [0.9, 0.1], [0.6, 0.4]]))  # record 0 right
    meta.update(_p([[0.7, 0.3], [0.9, 0.1], [0.4, 0.6]]))  # record 0 wrong now: one forgetting event
    meta.update(_p([[0.1, 0.9], [0.8, 0.2], [0.7, 0.3]]))  # right again, record 2 flips back
    assert meta.forgets.tolist() == [1, 0, 0]
    assert meta.flips.tolist() == [2, 0, 2]
    assert meta.loops_seen.tolist() == [0, 3, 3]
    feats = meta.features(np.array([1, 2]))
    assert feats.shape == (2, len(FEATURE_NAMES))
    trend = FEATURE_NAMES.index("margin_trend")
    assert feats[0, trend] == pytest.approx((1 - 0.6) - (1 - 0.8))
    assert feats[1, trend] == pytest.approx((1 - 0.4) - (1 - 0.2))


def test_memory_does_not_grow_with_loops() -> None:
    rng = np.random.default_rng(0)
    history = History(keep_loops=2)
    sizes = []
    for t in range(1, 7):
        history.append(t, rng.dirichlet(np.ones(3), size=500).astype(np.float32))
        sizes.append(history.metadata.nbytes())
    assert len(set(sizes)) == 1 and sizes[0] <= 500 * 48
    assert history.loop_indices == [5, 6] and history.n_loops_seen == 6
    assert history.proba_at(6) is history.proba_by_loop[-1] and history.proba_at(1) is None


def test_wrong_shapes_are_refused() -> None:
    history = History()
    history.append(1, np.full((4, 2), 0.5, dtype=np.float32))
    with pytest.raises(ValueError, match="4"):
        history.append(2, np.full((5, 2), 0.5, dtype=np.float32))
    with pytest.raises(ValueError, match="keep_loops"):
        History(keep_loops=0)

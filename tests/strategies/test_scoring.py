"""Property tests of the pure scoring functions."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from loopwise.strategies import cosine_density, entropy, kl_to_consensus, least_confidence, margin, vote_entropy


@st.composite
def proba_matrices(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(1, 40))
    k = draw(st.integers(2, 8))
    seed = draw(st.integers(0, 2**16))
    return np.random.default_rng(seed).dirichlet(np.ones(k) * draw(st.floats(0.05, 5)), size=n)


@given(proba_matrices())
def test_scores_are_bounded_and_chunkable(proba: np.ndarray) -> None:
    k = proba.shape[1]
    for fn, upper in ((least_confidence, 1 - 1 / k), (margin, 1.0), (entropy, np.log(k))):
        s = fn(proba)
        assert s.shape == (proba.shape[0],)
        assert np.all(s >= -1e-9) and np.all(s <= upper + 1e-9)
        assert np.allclose(np.concatenate([fn(proba[:3]), fn(proba[3:])]), s)


def test_known_values() -> None:
    proba = np.array([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.3, 0.2]])
    assert np.allclose(least_confidence(proba), [0.0, 2 / 3, 0.5])
    assert np.allclose(margin(proba), [0.0, 1.0, 0.8])
    assert np.allclose(entropy(proba), [0.0, np.log(3), -(0.5 * np.log(0.5) + 0.3 * np.log(0.3) + 0.2 * np.log(0.2))])


def test_committee_disagreement() -> None:
    agree = np.array([[[0.9, 0.1]], [[0.9, 0.1]], [[0.9, 0.1]]])
    split = np.array([[[0.9, 0.1]], [[0.1, 0.9]]])
    assert vote_entropy(agree)[0] == 0.0 and kl_to_consensus(agree)[0] < 1e-12
    assert np.isclose(vote_entropy(split)[0], np.log(2))
    assert kl_to_consensus(split)[0] > 0.3


def test_cosine_density_matches_pairwise_mean_and_chunks() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 6))
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    expected = (Xn @ Xn.T).mean(axis=1)
    assert np.allclose(cosine_density(X), expected)
    assert np.allclose(cosine_density(X, chunk_size=7), expected)


def test_qbc_vote_entropy_leaves_ties_to_the_seeded_draw() -> None:
    import numpy as np

    from loopwise.strategies import QueryByCommittee, StrategyInputs

    # Five members; records 0-3 get the same 3-2 vote split, with very different soft disagreement.
    committee = np.zeros((5, 6, 2), dtype=np.float32)
    committee[:, :, 0] = 1.0
    for record, confidence in enumerate((0.51, 0.6, 0.9, 0.99)):
        committee[:3, record] = (confidence, 1 - confidence)
        committee[3:, record] = (1 - confidence, confidence)
    committee[:, 4] = (0.5, 0.5)  # every member votes class 0 (argmax tie): no disagreement
    scores = QueryByCommittee().score(StrategyInputs(candidates=np.arange(6), committee=committee))
    assert np.all(scores[:4] == scores[0]) and scores[0] > scores[4] == scores[5] == 0.0
    picks = {
        tuple(sorted(QueryByCommittee().select(StrategyInputs(candidates=np.arange(6), committee=committee), 2, np.random.default_rng(seed)).positions.tolist()))
        for seed in range(20)
    }
    assert len(picks) > 1 and all(set(p) <= {0, 1, 2, 3} for p in picks)  # drawn among the tied, not ranked by KL

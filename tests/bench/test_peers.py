"""Peer adapters: each returns a valid batch on dense and sparse pools, and uncertainty peers match loopwise."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from loopwise.bench.peers import FrozenClassifier, PeerQuery, is_peer, make_peer, peer_names
from loopwise.errors import ConfigError
from loopwise.learners import as_learner, make_estimator
from loopwise.strategies import StrategyInputs, make_strategy

pytest.importorskip("modAL")
pytest.importorskip("small_text")
pytest.importorskip("skactiveml")


@pytest.fixture(autouse=True)
def _global_numpy_state():
    """The peers draw from NumPy's global generator, so the tests seed it; put it back for the rest of the run."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def _query(X, y: np.ndarray, n_labelled: int, batch_size: int, seed: int = 0) -> PeerQuery:
    rng = np.random.default_rng(seed)
    labelled = rng.choice(X.shape[0], size=n_labelled, replace=False)
    n_classes = int(y.max()) + 1
    model = as_learner(make_estimator("logreg"), n_classes)
    model.fit(X[labelled], y[labelled])
    return PeerQuery(
        X=X,
        labelled=labelled,
        y_labelled=y[labelled],
        n_classes=n_classes,
        batch_size=batch_size,
        model=FrozenClassifier(model, n_classes),
        make_estimator=lambda: make_estimator("logreg"),
        seed=seed,
        loop_index=1,
    )


@pytest.fixture(scope="module")
def dense(digits_split) -> tuple[np.ndarray, np.ndarray]:
    X_train, _, y_train, _ = digits_split
    return X_train[:300], y_train[:300]


@pytest.mark.parametrize("name", peer_names())
def test_every_peer_returns_a_valid_batch(name: str, dense) -> None:
    X, y = dense
    query = _query(X, y, n_labelled=30, batch_size=7)
    np.random.seed(0)
    picked = np.asarray(make_peer(name).select(query))
    assert picked.shape == (7,)
    assert len(np.unique(picked)) == 7
    assert not np.isin(picked, query.labelled).any()
    assert picked.min() >= 0 and picked.max() < X.shape[0]


@pytest.mark.parametrize(
    "name", ["modal:margin", "modal:qbc", "modal:ranked_batch", "modal:information_density", "small_text:entropy",
             "small_text:kcenter", "skactiveml:margin", "skactiveml:kcenter"],
)  # fmt: skip
def test_peers_accept_sparse_pools(name: str, dense) -> None:
    X, y = dense
    query = _query(sp.csr_matrix(X, dtype=np.float32), y, n_labelled=30, batch_size=5)
    np.random.seed(0)
    picked = np.asarray(make_peer(name).select(query))
    assert picked.shape == (5,) and not np.isin(picked, query.labelled).any()


@pytest.mark.parametrize("method", ["least_confidence", "margin", "entropy"])
def test_uncertainty_peers_pick_what_loopwise_picks(method: str, dense) -> None:
    """On the same fitted model and no tied scores, every library's batch equals loopwise's."""
    X, y = dense
    query = _query(X, y, n_labelled=40, batch_size=10)
    candidates = query.unlabelled
    inputs = StrategyInputs(candidates=candidates, proba=query.model.predict_proba(X[candidates]))
    ours = set(candidates[make_strategy(method).select(inputs, 10, np.random.default_rng(0)).positions].tolist())
    for prefix in ("modal", "small_text", "skactiveml"):
        np.random.seed(0)
        assert set(np.asarray(make_peer(f"{prefix}:{method}").select(query)).tolist()) == ours, prefix


def test_modal_learners_work_on_current_scikit_learn(dense) -> None:
    """modAL 0.4.2 passes force_all_finite, which scikit-learn 1.8 removed; the adapter translates it."""
    from loopwise.bench.peers._modal import _modal

    _modal()
    from modAL.models import ActiveLearner
    from sklearn.linear_model import LogisticRegression

    X, y = dense
    learner = ActiveLearner(LogisticRegression(max_iter=200), X_training=X[:20], y_training=y[:20])
    learner.teach(X[20:40], y[20:40])
    assert learner.X_training.shape[0] == 40


def test_names_and_unknown_peer() -> None:
    assert is_peer("modal:margin") and not is_peer("margin") and not is_peer("other:margin")
    assert {n.split(":")[1] for n in peer_names()} >= {"least_confidence", "margin", "entropy", "qbc", "kcenter"}
    with pytest.raises(ConfigError, match="unknown peer strategy 'modal:nope'"):
        make_peer("modal:nope")


def test_core_set_peers_pick_what_loopwise_picks(dense) -> None:
    """Greedy k-center on the same rows: scikit-activeml's CoreSet is loopwise's kcenter, small-text's
    GreedyCoreset (unit rows) is kcenter_normalized; digits' pixels (plus a little noise) have no ties."""
    X, y = dense
    X = X + np.random.default_rng(1).normal(scale=1e-3, size=X.shape)
    query = _query(X, y, n_labelled=40, batch_size=10)
    candidates = query.unlabelled
    inputs = StrategyInputs(candidates=candidates, features=X[candidates], labelled_features=X[query.labelled])
    for loopwise_name, peer_name in (("kcenter", "skactiveml:kcenter"), ("kcenter_normalized", "small_text:kcenter")):
        ours = candidates[make_strategy(loopwise_name).select(inputs, 10, np.random.default_rng(0)).positions]
        np.random.seed(0)
        theirs = np.asarray(make_peer(peer_name).select(query))
        assert theirs.tolist() == ours.tolist(), peer_name

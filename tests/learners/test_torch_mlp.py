from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest

from loopwise.core import Pool
from loopwise.errors import ConfigError
from loopwise.evaluation import evaluate
from loopwise.labeling import SimulatedOracle
from loopwise.learners import MCDropoutMLP, MissingDependencyError, as_learner
from loopwise.loop import FixedSchedule, Loop, run_simulation
from loopwise.strategies import make_strategy


def test_missing_torch_names_the_install_command(monkeypatch, digits_split) -> None:
    Xp, _, yp, _ = digits_split
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError, match=r"MC-dropout MLP .* pip install 'loopwise\[torch\]'"):
        MCDropoutMLP().fit(Xp[:20], yp[:20])


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ConfigError, match=r"dropout must be in \[0, 1\), got 1.0"):
        MCDropoutMLP(dropout=1.0).fit(np.zeros((2, 2)), [0, 1])
    with pytest.raises(ConfigError, match=r"hidden_layer_sizes must be one or more positive integers, got \(\)"):
        MCDropoutMLP(hidden_layer_sizes=()).fit(np.zeros((2, 2)), [0, 1])


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="the MC-dropout MLP needs loopwise[torch]")


@pytest.fixture(scope="module")
def fitted(torch, digits_split) -> MCDropoutMLP:
    Xp, _, yp, _ = digits_split
    return MCDropoutMLP(epochs=20, seed=0).fit(Xp[:300], yp[:300])


def test_mlp_learns_digits_and_repeats_exactly(fitted: MCDropoutMLP, digits_split) -> None:
    Xp, Xt, yp, yt = digits_split
    proba = fitted.predict_proba(Xt)
    assert proba.shape == (len(Xt), 10) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert (fitted.predict(Xt) == yt).mean() > 0.85
    again = MCDropoutMLP(epochs=20, seed=0).fit(Xp[:300], yp[:300])
    assert again.version_ == fitted.version_ and np.array_equal(again.predict_proba(Xt), proba)
    assert MCDropoutMLP(epochs=20, seed=1).fit(Xp[:300], yp[:300]).version_ != fitted.version_
    restored = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(restored.predict_proba(Xt), proba)


def test_mc_dropout_samples_disagree_reproducibly(fitted: MCDropoutMLP, digits_split) -> None:
    _, Xt, _, _ = digits_split
    samples = fitted.predict_proba_samples(Xt, 8, np.random.default_rng(3))
    assert samples.shape == (8, len(Xt), 10) and samples.dtype == np.float32
    assert np.allclose(samples.sum(axis=2), 1, atol=1e-5)
    assert not np.allclose(samples[0], samples[1])  # dropout on: each sample is another sub-network
    assert np.array_equal(samples, fitted.predict_proba_samples(Xt, 8, np.random.default_rng(3)))
    # Averaged over many masks, the samples come close to the dropout-off prediction.
    mean = fitted.predict_proba_samples(Xt[:50], 200, np.random.default_rng(0)).mean(axis=0)
    assert np.abs(mean - fitted.predict_proba(Xt[:50])).mean() < 0.05


def test_embeddings_are_the_last_hidden_layer(torch, fitted: MCDropoutMLP, digits_split) -> None:
    _, Xt, _, _ = digits_split
    Z = fitted.embed(Xt)
    assert Z.shape == (len(Xt), 128) and Z.dtype == np.float32 and (Z >= 0).all()
    logits = Z @ fitted.coefs_[-1] + fitted.intercepts_[-1]
    assert np.allclose(torch.softmax(torch.from_numpy(logits), 1).numpy(), fitted.predict_proba(Xt), atol=1e-5)


def test_learner_aligns_samples_to_the_label_set_and_only_mlps_sample(torch, digits_split) -> None:
    Xp, _, yp, _ = digits_split
    mask = np.isin(yp, [2, 7])
    learner = as_learner(MCDropoutMLP(epochs=5, min_steps=20), n_classes=10)
    learner.fit(Xp[mask][:40], yp[mask][:40])
    samples = learner.predict_proba_samples(Xp[:6], 4, np.random.default_rng(0))
    assert samples.shape == (4, 6, 10) and np.all(samples[..., [0, 1, 3, 4, 5, 6, 8, 9]] == 0)
    assert learner.embed(Xp[:6]).shape == (6, 128)
    assert getattr(as_learner("logreg", 10), "predict_proba_samples", None) is None


def test_warm_start_and_partial_fit_continue_training(torch, digits_split) -> None:
    Xp, _, yp, _ = digits_split
    model = MCDropoutMLP(epochs=3, min_steps=0, warm_start=True).fit(Xp[:100], yp[:100])
    first = [w.copy() for w in model.coefs_]
    model.fit(Xp[:100], yp[:100])
    assert model.n_iter_ == 6 and not np.array_equal(model.coefs_[0], first[0])
    stream = MCDropoutMLP(epochs=2, min_steps=0).partial_fit(Xp[:50], yp[:50], classes=np.arange(10))
    stream.partial_fit(Xp[50:60], yp[50:60])
    assert stream.n_iter_ == 4 and stream.predict_proba(Xp[:2]).shape == (2, 10)
    with pytest.raises(ConfigError, match="first partial_fit call needs classes"):
        MCDropoutMLP().partial_fit(Xp[:5], yp[:5])


def test_bald_with_mc_dropout_runs_end_to_end_on_digits(torch, digits_split) -> None:
    """A short active-learning run: the loop draws BALD's samples from the MLP's dropout, not a bagged committee."""
    Xp, Xt, yp, yt = digits_split
    pool = Pool.new(np.array([f"r{i}" for i in range(len(Xp))]), Xp)
    learner = as_learner(MCDropoutMLP(epochs=20, min_steps=150, seed=0), n_classes=10)
    loop = Loop(
        pool,
        learner,
        make_strategy("bald", n_samples=10),
        FixedSchedule(20, 20, 100),
        seed=0,
        X_test=Xt,
        y_test=yt,
        evaluate=evaluate,
    )
    records = run_simulation(loop, SimulatedOracle(yp))
    assert [r.n_labelled for r in records] == [20, 40, 60, 80, 100]
    assert [r.strategy for r in records][1:] == ["bald"] * 4
    assert callable(loop.model.predict_proba_samples)
    # BALD's scores are mutual information: non-negative, and positive where the dropout samples disagree.
    assert all((r.scores >= 0).all() and r.scores.max() > 0 for r in records[1:])
    assert records[-1].metrics["accuracy"] > 0.8
    assert records[-1].metrics["accuracy"] > records[0].metrics["accuracy"]

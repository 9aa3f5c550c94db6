"""The MLP's cheaper warm start: fewer epochs on a continued fit, and shrink-and-perturb of the kept weights."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("torch")

from loopwise.errors import ConfigError  # noqa: E402
from loopwise.learners._torch_mlp import MCDropoutMLP  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    X = (data.data / 16.0).astype(np.float32)
    return X[:300], data.target[:300], X[1000:1400], data.target[1000:1400]


def _mlp(**kw) -> MCDropoutMLP:
    return MCDropoutMLP(hidden_layer_sizes=(32,), epochs=20, min_steps=100, warm_start=True, seed=3, **kw)


def test_warm_epochs_cut_the_continued_fit_and_keep_accuracy(digits) -> None:
    X, y, Xt, yt = digits
    model = _mlp(warm_epochs=5).fit(X[:200], y[:200])
    first = model.n_iter_
    assert first == max(20, math.ceil(100 / math.ceil(200 / 64)))
    model.fit(X, y)
    # 5 of 20 epochs, and min_steps scaled to 25: max(5, ceil(25 / 5 batches)) = 5 more epochs.
    assert model.n_iter_ - first == 5
    assert np.mean(model.predict(Xt) == yt) > 0.5  # still a working classifier of ten classes (chance: 0.1)


def test_shrink_and_perturb_is_seeded_and_changes_the_start(digits) -> None:
    X, y, _, _ = digits
    plain = _mlp(warm_epochs=5).fit(X[:200], y[:200]).fit(X, y)
    a = _mlp(warm_epochs=5, shrink=0.4, perturb=0.1).fit(X[:200], y[:200]).fit(X, y)
    b = _mlp(warm_epochs=5, shrink=0.4, perturb=0.1).fit(X[:200], y[:200]).fit(X, y)
    assert a.version_ == b.version_  # the perturbation comes from the seed, not from global state
    assert a.version_ != plain.version_
    # The defaults leave a warm start exactly as before this option existed.
    default = MCDropoutMLP(hidden_layer_sizes=(32,), epochs=20, min_steps=100, warm_start=True, seed=3)
    default.fit(X[:200], y[:200]).fit(X, y)
    assert default.n_iter_ == max(20, math.ceil(100 / math.ceil(200 / 64))) + max(20, math.ceil(100 / math.ceil(300 / 64)))


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"warm_epochs": 0}, r"warm_epochs must be a positive integer or None, got 0"),
     ({"shrink": 0.0}, r"need 0 < shrink <= 1 and perturb >= 0, got 0.0 and 0.0"),
     ({"perturb": -0.1}, r"need 0 < shrink <= 1 and perturb >= 0, got 1.0 and -0.1")],
)
def test_bad_warm_start_options_are_named(digits, kw, message: str) -> None:
    X, y, _, _ = digits
    with pytest.raises(ConfigError, match=message):
        _mlp(**kw).fit(X[:50], y[:50])

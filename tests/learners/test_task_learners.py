"""Multi-label and regression learners keep the loop's output contract: marginals, or mean and std."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from loopwise.errors import ConfigError, LearnerError
from loopwise.learners import as_learner


def test_one_vs_rest_gives_a_marginal_per_label_even_for_a_label_never_seen() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    Y = np.column_stack([(X[:, 0] > 0), (X[:, 1] > 0), np.zeros(60)]).astype(np.int64)  # label 2: never present
    learner = as_learner("ovr_logreg", 3, task="multilabel")
    learner.fit(X, Y)
    proba = learner.predict_proba(X)
    assert proba.shape == (60, 3) and proba[:, 2].max() < 0.5
    assert ((proba[:, 0] > 0.5) == Y[:, 0].astype(bool)).mean() > 0.9
    with pytest.raises(LearnerError, match=r"needs an n x 3 0/1 matrix, got shape \(60,\)"):
        learner.fit(X, Y[:, 0])


def test_balanced_one_vs_rest_predicts_a_rare_label_the_unweighted_model_never_predicts() -> None:
    # The cue word "storm" is in 30 of 120 texts and a third of those carry the rare label (10 of 120):
    # for a text with the cue the unweighted model's marginal is about 1/3, the balanced one's (each label's
    # positives weighted to the negatives' mass) above 0.5; neither predicts the label without the cue.
    texts = np.array(["the day was long" + (" storm" if i % 4 == 0 else "") for i in range(120)], dtype=object)
    Y = np.array([[1, int(i % 12 == 0)] for i in range(120)], dtype=np.int64)
    new = np.array(["the day was long storm", "the day was long"], dtype=object)
    plain = as_learner("tfidf_ovr_logreg", 2, task="multilabel")
    balanced = as_learner("tfidf_ovr_balanced", 2, task="multilabel")
    plain.fit(texts, Y)
    balanced.fit(texts, Y)
    p_plain, p_bal = plain.predict_proba(new)[:, 1], balanced.predict_proba(new)[:, 1]
    assert p_plain[0] < 0.5 and p_bal[0] > 0.5
    assert p_plain[1] < 0.5 and p_bal[1] < 0.5


@pytest.mark.parametrize("name", ["bagging_trees", "bagging_ridge", "gp", "quantile_hgb"])
def test_each_regression_learner_gives_a_mean_and_a_positive_spread(name: str) -> None:
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, size=(80, 2))
    y = 2.0 * X[:, 0] + X[:, 1] ** 2 + 0.1 * rng.normal(size=80)
    learner = as_learner(name, 1, task="regression")
    learner.fit(X[:60], y[:60])
    out = learner.predict_proba(X[60:])
    assert out.shape == (20, 2) and (out[:, 1] >= 0).all() and out[:, 1].mean() > 0
    assert np.sqrt(np.mean((out[:, 0] - y[60:]) ** 2)) < y.std()  # better than predicting the mean


def test_a_regressor_without_a_std_is_refused_naming_those_that_have_one() -> None:
    learner = as_learner(Ridge(), 1, task="regression")
    learner.fit(np.eye(3), np.arange(3.0))
    with pytest.raises(ConfigError, match=r"gives no predictive standard deviation .*bagging_trees, bagging_ridge, gp, quantile_hgb"):
        learner.predict_proba(np.eye(3))

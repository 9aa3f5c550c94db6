from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from loopwise.errors import ConfigError, LearnerError
from loopwise.learners import CallbackLearner, as_learner, make_estimator


def test_probabilities_cover_the_full_label_set_while_classes_are_missing(digits_split) -> None:
    Xp, _, yp, _ = digits_split
    mask = np.isin(yp, [2, 7])
    learner = as_learner(LogisticRegression(max_iter=300), n_classes=10)
    learner.fit(Xp[mask][:20], yp[mask][:20])
    proba = learner.predict_proba(Xp[:5])
    assert proba.shape == (5, 10)
    assert np.allclose(proba.sum(axis=1), 1)
    assert np.all(proba[:, [0, 1, 3, 4, 5, 6, 8, 9]] == 0)


def test_a_single_labelled_class_gives_a_prior_model(digits_split) -> None:
    Xp, _, _, _ = digits_split
    learner = as_learner("logreg", n_classes=3)
    learner.fit(Xp[:4], np.array([1, 1, 1, 1]))
    assert np.array_equal(learner.predict_proba(Xp[:2]), [[0, 1, 0], [0, 1, 0]])


def test_callback_learner_keeps_training_in_user_code(digits_split) -> None:
    Xp, _, yp, _ = digits_split
    calls = []

    def train(X, y):
        calls.append(len(y))
        return LogisticRegression(max_iter=300).fit(X, y)

    def infer(model, X):
        return model.predict_proba(X)

    learner = as_learner(CallbackLearner(train, infer), n_classes=10)
    learner.fit(Xp[:200], yp[:200])
    assert calls == [200] and learner.predict_proba(Xp[:3]).shape == (3, 10)


def test_wrong_shape_and_non_probabilities_are_named(digits_split) -> None:
    Xp, _, yp, _ = digits_split
    wrong_shape = as_learner(CallbackLearner(lambda X, y: None, lambda m, X: np.full((X.shape[0], 3), 1 / 3)), 10)
    wrong_shape.fit(Xp[:10], yp[:10])
    with pytest.raises(LearnerError, match=r"returned shape \(4, 3\); expected \(4, 10\)"):
        wrong_shape.predict_proba(Xp[:4])
    not_proba = as_learner(CallbackLearner(lambda X, y: None, lambda m, X: np.ones((X.shape[0], 10))), 10)
    not_proba.fit(Xp[:10], yp[:10])
    with pytest.raises(LearnerError, match="row 0 is not a probability distribution"):
        not_proba.predict_proba(Xp[:4])


def test_library_names() -> None:
    assert type(make_estimator("hgb")).__name__ == "HistGradientBoostingClassifier"
    with pytest.raises(ConfigError, match=r"unknown learner 'svm'; known learners: hgb, logreg, minilm, mlp, rf, tfidf_logreg, tfidf_svd \(classification\); "):
        make_estimator("svm")
    with pytest.raises(ConfigError, match="predict_proba"):
        as_learner(object(), 2)


def test_tfidf_logreg_works_on_raw_text() -> None:
    texts = np.array(["free prize now", "call me later", "win cash prize", "see you at lunch"] * 3)
    y = np.array([1, 0, 1, 0] * 3)
    learner = as_learner("tfidf_logreg", n_classes=2)
    learner.fit(texts, y)
    assert learner.predict_proba(np.array(["free cash prize"]))[0, 1] > 0.5

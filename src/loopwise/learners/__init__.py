"""Learners: any scikit-learn classifier, plain callbacks, and a small built-in model library."""

from __future__ import annotations

from typing import Any

from loopwise.learners._adapter import EstimatorLearner
from loopwise.learners._callback import CallbackLearner
from loopwise.learners._library import (
    LIBRARY,
    hist_gradient_boosting,
    logistic_regression,
    make_estimator,
    tfidf_logistic_regression,
)


def as_learner(model: Any, n_classes: int) -> EstimatorLearner | CallbackLearner:
    """Give ``model`` the loop's learner contract over ``n_classes`` classes.

    Accepts a scikit-learn classifier, a ``CallbackLearner``, or a library name
    such as ``"logreg"``.
    """
    if isinstance(model, str):
        model = make_estimator(model)
    if isinstance(model, CallbackLearner):
        learner = model.clone()
        learner.n_classes = n_classes
        return learner
    if isinstance(model, EstimatorLearner):
        return EstimatorLearner(model.estimator, n_classes)
    return EstimatorLearner(model, n_classes)


__all__ = [
    "LIBRARY",
    "CallbackLearner",
    "EstimatorLearner",
    "as_learner",
    "hist_gradient_boosting",
    "logistic_regression",
    "make_estimator",
    "tfidf_logistic_regression",
]

"""Learners: any scikit-learn classifier, plain callbacks, and a small built-in model library."""

from __future__ import annotations

from typing import Any

from loopwise.learners._adapter import EstimatorLearner
from loopwise.learners._cache import EmbeddingCache, data_fingerprint, model_version
from loopwise.learners._callback import CallbackLearner
from loopwise.learners._library import (
    DENSE,
    LIBRARY,
    SPARSE,
    SPECS,
    TEXT_LEARNERS,
    TEXTS,
    LearnerSpec,
    check_learner_embeds,
    check_learner_input,
    check_retrain_mode,
    hist_gradient_boosting,
    logistic_regression,
    learner_spec,
    make_estimator,
    mc_dropout_mlp,
    minilm_logistic_regression,
    tfidf_logistic_regression,
    tfidf_svd_logistic_regression,
)
from loopwise.learners._optional import MissingDependencyError
from loopwise.learners._text import SentenceEmbedder, TfidfSVDEmbedder, bundled_model_path, load_sentence_model
from loopwise.learners._torch_mlp import MCDropoutMLP


def as_learner(
    model: Any, n_classes: int, embedding_cache: EmbeddingCache | None = None
) -> EstimatorLearner | CallbackLearner:
    """Give ``model`` the loop's learner contract over ``n_classes`` classes.

    Accepts a scikit-learn classifier, a ``CallbackLearner``, or a library name
    such as ``"logreg"``. ``embedding_cache`` keeps the embeddings of
    scikit-learn-style models per model version (callbacks embed uncached).
    """
    if isinstance(model, str):
        model = make_estimator(model)
    if isinstance(model, CallbackLearner):
        learner = model.clone()
        learner.n_classes = n_classes
        return learner
    if isinstance(model, EstimatorLearner):
        return EstimatorLearner(model.estimator, n_classes, embedding_cache or model.embedding_cache)
    return EstimatorLearner(model, n_classes, embedding_cache)


__all__ = [
    "DENSE",
    "LIBRARY",
    "SPARSE",
    "SPECS",
    "TEXTS",
    "TEXT_LEARNERS",
    "CallbackLearner",
    "EmbeddingCache",
    "EstimatorLearner",
    "LearnerSpec",
    "MCDropoutMLP",
    "MissingDependencyError",
    "SentenceEmbedder",
    "TfidfSVDEmbedder",
    "as_learner",
    "bundled_model_path",
    "check_learner_embeds",
    "check_learner_input",
    "check_retrain_mode",
    "data_fingerprint",
    "hist_gradient_boosting",
    "learner_spec",
    "load_sentence_model",
    "logistic_regression",
    "make_estimator",
    "mc_dropout_mlp",
    "minilm_logistic_regression",
    "model_version",
    "tfidf_logistic_regression",
    "tfidf_svd_logistic_regression",
]

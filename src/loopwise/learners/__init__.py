"""Learners: any scikit-learn classifier, plain callbacks, and a small built-in model library."""

from __future__ import annotations

from typing import Any

from loopwise.learners._adapter import EstimatorLearner
from loopwise.learners._cache import EmbeddingCache, data_fingerprint, model_version
from loopwise.learners._callback import CallbackLearner
from loopwise.core.tasks import CLASSIFICATION, MULTILABEL, REGRESSION
from loopwise.errors import ConfigError
from loopwise.learners._library import (
    DEFAULT_LEARNERS,
    DEFAULT_TEXT_LEARNERS,
    DENSE,
    LIBRARY,
    SPARSE,
    SPECS,
    TEXT_LEARNERS,
    TEXTS,
    LearnerSpec,
    check_learner_embeds,
    check_learner_input,
    check_learner_task,
    check_learner_weights,
    check_retrain_mode,
    default_learner,
    hist_gradient_boosting,
    logistic_regression,
    learner_spec,
    make_estimator,
    mc_dropout_mlp,
    minilm_logistic_regression,
    tfidf_logistic_regression,
    tfidf_svd_logistic_regression,
)
from loopwise.learners._multilabel import MultiLabelLearner
from loopwise.learners._optional import MissingDependencyError
from loopwise.learners._regression import BootstrapCommittee, QuantileBoosting, RegressionLearner
from loopwise.learners._text import SentenceEmbedder, TfidfSVDEmbedder, bundled_model_path, load_sentence_model
from loopwise.learners._torch_mlp import MCDropoutMLP


def as_learner(
    model: Any, n_classes: int, embedding_cache: EmbeddingCache | None = None, task: str = CLASSIFICATION
) -> EstimatorLearner | CallbackLearner:
    """Give ``model`` the loop's learner contract over ``n_classes`` classes (labels, for multilabel) of ``task``.

    Accepts a scikit-learn classifier (a multi-label classifier, or a regressor with
    ``predict(X, return_std=True)``, for those tasks), a ``CallbackLearner``, or a
    library name such as ``"logreg"``. ``embedding_cache`` keeps the embeddings of
    scikit-learn-style models per model version (callbacks embed uncached).
    """
    if isinstance(model, str):
        check_learner_task(model, task)
        model = make_estimator(model)
    if task == MULTILABEL:
        estimator = model.estimator if isinstance(model, EstimatorLearner) else model
        return MultiLabelLearner(estimator, n_classes, embedding_cache)
    if task == REGRESSION:
        estimator = model.estimator if isinstance(model, EstimatorLearner) else model
        return RegressionLearner(estimator, 1, embedding_cache)
    if task != CLASSIFICATION:
        # Tasks without a built-in wrapper (token classification) take a learner object that declares its task.
        if getattr(model, "task", None) != task:
            raise ConfigError(f"no built-in learner wrapper for {task} pools; pass a learner object with task = {task!r}")
        return model
    if isinstance(model, CallbackLearner):
        learner = model.clone()
        learner.n_classes = n_classes
        return learner
    if isinstance(model, EstimatorLearner):
        return EstimatorLearner(model.estimator, n_classes, embedding_cache or model.embedding_cache)
    return EstimatorLearner(model, n_classes, embedding_cache)


__all__ = [
    "DEFAULT_LEARNERS",
    "DEFAULT_TEXT_LEARNERS",
    "DENSE",
    "BootstrapCommittee",
    "MultiLabelLearner",
    "QuantileBoosting",
    "RegressionLearner",
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
    "check_learner_task",
    "check_learner_weights",
    "check_retrain_mode",
    "data_fingerprint",
    "default_learner",
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

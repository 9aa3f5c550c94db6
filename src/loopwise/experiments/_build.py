"""Build a Loop from a RunConfig and prepared data; the one place configs become objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from loopwise.core import Pool
from loopwise.evaluation import evaluate
from loopwise.experiments._config import RunConfig
from loopwise.experiments._prepare import PreparedData
from loopwise.learners import EmbeddingCache, as_learner, make_estimator
from loopwise.loop import Loop, parse_initializer, parse_schedule
from loopwise.stopping import parse_stopping
from loopwise.strategies import make_strategy


def build_learner(config: RunConfig, n_classes: int, learner: Any = None, embedding_cache: EmbeddingCache | None = None) -> Any:
    """The run's learner: a library model by name, or the object the caller passed."""
    model = learner if learner is not None else make_estimator(config.learner, seed=config.seed)
    return as_learner(model, n_classes, embedding_cache)


def build_loop(
    config: RunConfig,
    data: PreparedData,
    learner: Any = None,
    embedding_cache: EmbeddingCache | None = None,
    *,
    evaluate_fn: Callable[[np.ndarray, np.ndarray], dict[str, Any]] = evaluate,
    evaluate_labelled: Callable[[Any, Any, np.ndarray], dict[str, Any]] | None = None,
) -> Loop:
    """A fresh Loop for ``config``; raises ConfigError before anything is stored if it cannot run.

    ``evaluate_fn`` scores the test split; without one (the annotation server's projects may have
    none), ``evaluate_labelled`` evaluates on the labelled set (cross-validation).
    """
    return Loop(
        Pool.new(data.pool_ids, data.X_pool),
        build_learner(config, data.n_classes, learner, embedding_cache),
        make_strategy(config.strategy, **config.strategy_params),
        parse_schedule(config.schedule),
        seed=config.seed,
        initializer=parse_initializer(config.initializer),
        stopping=parse_stopping(config.stopping) if config.stopping else None,
        retrain=config.retrain,
        X_test=data.X_test,
        y_test=data.y_test,
        evaluate=evaluate_fn,
        evaluate_labelled=evaluate_labelled,
        stop_set_size=config.stop_set_size,
    )


def full_pool_accuracy(config: RunConfig, data: PreparedData, learner: Any = None) -> float:
    """Accuracy of the run's learner trained on the whole labelled pool: the 100% reference."""
    model = build_learner(config, data.n_classes, learner)
    model.fit(data.X_pool, data.y_pool)
    return float(evaluate(data.y_test, model.predict_proba(data.X_test))["accuracy"])

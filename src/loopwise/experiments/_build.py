"""Build a Loop from a RunConfig and prepared data; the one place configs become objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from loopwise.core import Pool
from loopwise.core.tasks import MULTILABEL, headline
from loopwise.evaluation import evaluator_for
from loopwise.experiments._config import RunConfig, check_task_fit
from loopwise.experiments._prepare import PreparedData
from loopwise.learners import EmbeddingCache, as_learner, make_estimator
from loopwise.loop import Loop, parse_initializer, parse_schedule
from loopwise.stopping import parse_stopping
from loopwise.errors import ConfigError
from loopwise.strategies import make_strategy


def build_learner(config: RunConfig, n_classes: int, learner: Any = None, embedding_cache: EmbeddingCache | None = None) -> Any:
    """The run's learner for its task: a library model by name, or the object the caller passed."""
    model = learner if learner is not None else make_estimator(config.learner, seed=config.seed)
    return as_learner(model, n_classes, embedding_cache, task=config.task)


def build_loop(
    config: RunConfig,
    data: PreparedData,
    learner: Any = None,
    embedding_cache: EmbeddingCache | None = None,
    *,
    evaluate_fn: Callable[[np.ndarray, np.ndarray], dict[str, Any]] | None = None,
    evaluate_labelled: Callable[[Any, Any, np.ndarray], dict[str, Any]] | None = None,
) -> Loop:
    """A fresh Loop for ``config``; raises ConfigError before anything is stored if it cannot run.

    ``evaluate_fn`` scores the test split (default: the metrics of the run's task); without one (the
    annotation server's projects may have none), ``evaluate_labelled`` evaluates on the labelled set
    (cross-validation). A strategy or learner that cannot serve the data's task is refused here.
    """
    if config.task != data.task:
        raise ConfigError(f"the run is configured for {config.task} but the data {data.spec.source!r} is {data.task}")
    check_task_fit(config)
    n_labels = data.n_classes if config.task == MULTILABEL else None
    return Loop(
        Pool.new(data.pool_ids, data.X_pool, config.task, n_labels),
        build_learner(config, data.n_classes, learner, embedding_cache),
        make_strategy(config.strategy, **config.strategy_params),
        parse_schedule(config.schedule),
        seed=config.seed,
        initializer=parse_initializer(config.initializer),
        stopping=parse_stopping(config.stopping) if config.stopping else None,
        retrain=config.retrain,
        X_test=data.X_test,
        y_test=data.y_test,
        evaluate=evaluate_fn if evaluate_fn is not None else evaluator_for(config.task),
        evaluate_labelled=evaluate_labelled,
        stop_set_size=config.stop_set_size,
        task=config.task,
    )


def full_pool_accuracy(config: RunConfig, data: PreparedData, learner: Any = None) -> float:
    """The headline score (accuracy; micro-F1, -RMSE for other tasks) of the run's learner trained on the whole
    labelled pool: the 100% reference."""
    model = build_learner(config, data.n_classes, learner)
    model.fit(data.X_pool, data.y_pool)
    return float(evaluator_for(config.task)(data.y_test, model.predict_proba(data.X_test))[headline(config.task)[0]])

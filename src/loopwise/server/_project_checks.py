"""Checks of a project's settings: the learner can take the task's data, the strategy and stopping rule parse."""

from __future__ import annotations

from typing import Any

from loopwise.errors import ConfigError
from loopwise.server import _schemas as s
from loopwise.stopping import parse_stopping

# What the retrain gives a learner, per project task: the input kinds of loopwise.learners, and in words.
PROJECT_INPUTS: dict[str, tuple[tuple[str, ...], str]] = {
    "text": (("texts", "sparse"), "text projects give raw texts or sparse TF-IDF features"),
    "tabular": (("dense",), "tabular projects give dense numeric features"),
    "image": (("dense",), "image projects give pixels"),
}


def project_settings(body: s.ProjectCreate) -> s.ProjectSettings:
    """The settings of a new project, its learner defaulted for its task, checked against the task's data."""
    values = body.model_dump(include=set(s.ProjectSettings.model_fields))
    if values["learner"] is None:
        values["learner"] = default_learner(body.task)
    settings = s.ProjectSettings.model_validate(values)
    check_settings(settings, body.task)
    return settings


# Preferred learners per task, best first: sentence embeddings learn far more from a few labels than
# TF-IDF does (docs/benchmarks.md), when the `text` extra is installed and the retrain can feed them.
DEFAULT_LEARNERS = {"text": ("minilm", "logreg"), "tabular": ("logreg",), "image": ("logreg",)}


def default_learner(task: str) -> str:
    """The first of the task's preferred learners that is installed and takes what the task's data gives."""
    from loopwise.learners import check_learner_input

    kinds, source = PROJECT_INPUTS[task]
    for name in DEFAULT_LEARNERS[task][:-1]:
        try:
            check_learner_input(name, frozenset(kinds), source)
        except ConfigError:
            continue
        return name
    return DEFAULT_LEARNERS[task][-1]


def check_settings(settings: s.ProjectSettings, task: str) -> None:
    """Refuse settings the retrain could not run: an unknown learner or strategy, or a learner the task's data cannot feed."""
    # Imported here: the learners and strategies pull in scikit-learn, which requests never need.
    from loopwise.learners import check_learner_embeds, check_learner_input
    from loopwise.strategies import CLASSIFICATION, EMBEDDINGS, capabilities, make_strategy

    kinds, source = PROJECT_INPUTS[task]
    check_learner_input(settings.learner, frozenset(kinds), source)
    strategy = make_strategy(settings.strategy, **settings.strategy_params)
    served = capabilities(strategy).tasks
    if CLASSIFICATION not in served:
        raise ConfigError(
            f"strategy {strategy.name!r} serves {', '.join(sorted(served))}; annotation projects are "
            "single-label classification"
        )
    if EMBEDDINGS in strategy.requires:
        check_learner_embeds(settings.learner, frozenset(kinds), source, f"strategy {strategy.name!r}")
    if settings.stopping is not None:
        parse_stopping(settings.stopping)


def retrain_every(settings: dict[str, Any]) -> int:
    """New labels between retrains: ``retrain_every``, else ``batch_size``, else 20."""
    return int(settings.get("retrain_every") or settings.get("batch_size") or 20)


__all__ = ["DEFAULT_LEARNERS", "PROJECT_INPUTS", "check_settings", "default_learner", "project_settings", "retrain_every"]

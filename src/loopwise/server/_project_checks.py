"""Checks of a project's settings: the learner can take the task's data, the strategy and stopping rule parse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loopwise.errors import ConfigError, DataError, LoopwiseError
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
    if values["strategy"] is None:
        # Stored at creation, never filled in at read time: a project stored without one keeps margin.
        values["strategy"] = DEFAULT_STRATEGIES[body.label_kind]
        tried = s.ProjectSettings.model_validate(values)
        if any(field in ("strategy", "weak_start") for field, _ in settings_issues(tried, body.task)):
            # auto cannot run here (a learner reading raw texts, or a weak start): the default before auto.
            values["strategy"] = "margin"
    settings = s.ProjectSettings.model_validate(values)
    check_settings(settings, body.task)
    if settings.label_kind == "spans":
        if body.task != "text":
            raise DataError(f"label_kind 'spans' labels entities in text; this project's task is {body.task!r}")
        spaced = [name for name in body.label_names if not name or any(ch.isspace() for ch in name)]
        if spaced:
            raise DataError(f"label_kind 'spans': entity type {spaced[0]!r} is not one word (BIO tags are B-TYPE, I-TYPE)")
    return settings


# The strategy of a new project per label kind: auto where the learner retrains (single-class); the other kinds
# keep import order whatever the strategy, so they keep margin, the server's default before auto.
DEFAULT_STRATEGIES = {"single": "auto", "multi": "margin", "number": "margin", "spans": "margin"}


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
    issues = settings_issues(settings, task)
    if issues:
        raise ConfigError(issues[0][1])


def settings_issues(settings: s.ProjectSettings, task: str) -> list[tuple[str, str]]:
    """(field, message) for each setting :func:`check_settings` refuses, so a form can show each by its field."""
    # Imported here: the learners and strategies pull in scikit-learn, which requests never need.
    from loopwise.learners import (
        check_learner_embeds, check_learner_input, check_learner_task, check_learner_weights, check_retrain_mode,
    )
    from loopwise.strategies import CLASSIFICATION, EMBEDDINGS, FEATURES, HISTORY, capabilities, make_strategy

    kinds, source = PROJECT_INPUTS[task]
    issues: list[tuple[str, str]] = []

    def check(field: str, run: Callable[[], object]) -> bool:
        try:
            run()
        except (LoopwiseError, ValueError, TypeError) as exc:
            issues.append((field, str(exc)))
            return False
        return True

    def check_strategy() -> None:
        strategy = make_strategy(settings.strategy, **settings.strategy_params)
        served = capabilities(strategy).tasks
        if CLASSIFICATION not in served:
            raise ConfigError(
                f"strategy {strategy.name!r} serves {', '.join(sorted(served))}; annotation projects are "
                "single-label classification"
            )
        if EMBEDDINGS in strategy.requires:
            check_learner_embeds(settings.learner, frozenset(kinds), source, f"strategy {strategy.name!r}")
        if FEATURES in strategy.requires and learner_ok and not takes_rows(settings.learner):
            raise ConfigError(
                f"strategy {strategy.name!r} works on the records' features, and learner {settings.learner!r} reads "
                "raw texts, which the loop would hand the strategy as they are; use a learner on features (logreg: "
                "TF-IDF) or a strategy on probabilities alone (margin, entropy, least_confidence)"
            )
        if HISTORY in strategy.requires and settings.label_kind != "single":
            # It learns from the loops retrains record (auto's arms, its random-control slice and verdict): none here.
            raise ConfigError(
                f"strategy {strategy.name!r} learns from the loops the learner's retrains record, and the server "
                f"retrains single-class projects only (this project's label_kind is {settings.label_kind!r}); "
                f"leave strategy out ({DEFAULT_STRATEGIES[settings.label_kind]}) or label one class per record"
            )

    def check_learner() -> None:
        check_learner_input(settings.learner, frozenset(kinds), source)
        check_learner_task(settings.learner, CLASSIFICATION)  # annotation projects are single-label today

    learner_ok = check("learner", check_learner)
    if learner_ok:
        check("retrain_mode", lambda: check_retrain_mode(settings.learner, settings.retrain_mode))
        if settings.weak_weight is not None:
            check("weak_weight", lambda: check_learner_weights(settings.learner, settings.retrain_mode))
        if settings.auto_label_precision is not None and settings.auto_label_weight is not None:
            check("auto_label_weight", lambda: _auto_label_weights(settings.learner, settings.retrain_mode))
    # The name first, so an unknown strategy is reported on its field rather than on its parameters.
    if check("strategy", lambda: make_strategy(settings.strategy)):
        check("strategy_params" if settings.strategy_params else "strategy", check_strategy)
    check("initializer", lambda: check_initializer(settings.initializer))
    if settings.weak_start and not issues:
        check("weak_start", lambda: check_weak_start(settings.strategy, settings.strategy_params))
    stopping = settings.stopping
    if stopping is not None:
        check("stopping", lambda: parse_stopping(stopping))
    return issues


def _auto_label_weights(learner: str, mode: str) -> None:
    """Refuse auto-labels as weighted training rows where the learner or retrain mode cannot take them."""
    from loopwise.learners import check_learner_weights

    try:
        check_learner_weights(learner, mode)
    except ConfigError as exc:
        raise ConfigError(f"auto-labels train as weighted rows, as weak labels do (auto_label_weight null: they do not "
                          f"train): {exc}") from None


def takes_rows(learner: str) -> bool:
    """True when ``learner`` trains on featurised rows (dense or sparse), false when it reads raw texts itself."""
    from loopwise.learners import check_learner_input

    try:
        check_learner_input(learner, frozenset({"dense", "sparse"}), "featurised rows")
    except ConfigError:
        return False
    return True


def check_weak_start(strategy: str, params: dict[str, Any]) -> None:
    """Refuse ``weak_start`` with a strategy that cannot rank from a model of the weak labels alone (needs more than
    probabilities and features: a history, as ``auto``, or a committee), rather than silently keep the initializer's order."""
    from loopwise.strategies import FEATURES, PROBA, make_strategy

    needs = set(make_strategy(strategy, **params).requires) - {PROBA, FEATURES}
    if needs:
        raise ConfigError(
            f"weak_start ranks the queue by the strategy on a model of the rules' weak labels, and strategy {strategy!r} "
            f"also needs {', '.join(sorted(needs))}, which no loop has before the first labels; choose a strategy "
            "that needs only probabilities and features (margin, entropy, badge, ...) or leave weak_start off"
        )


def check_initializer(name: str) -> None:
    """Refuse a loop-0 order the server cannot run: an unknown name, or given ids (a server has no list of them)."""
    from loopwise.loop import initializer_kinds, parse_initializer

    if name == "ids":
        raise ConfigError("initializer 'ids' needs a list of record ids; on the server, label those records first instead")
    try:
        parse_initializer(name)
    except ConfigError:
        known = ", ".join(kind for kind in initializer_kinds() if kind != "ids")
        raise ConfigError(f"unknown initializer {name!r}; known: {known}") from None


def retrain_every(settings: dict[str, Any]) -> int:
    """New labels between retrains: ``retrain_every``, else ``batch_size``, else 20."""
    return int(settings.get("retrain_every") or settings.get("batch_size") or 20)


__all__ = ["DEFAULT_LEARNERS", "DEFAULT_STRATEGIES", "PROJECT_INPUTS", "check_settings", "default_learner", "project_settings", "retrain_every", "settings_issues"]

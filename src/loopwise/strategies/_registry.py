"""Registry of strategies by name, so configs and ``--strategy NAME`` can refer to them.

Adding a strategy is one file (the class, with its ``name``, ``requires`` and
``capabilities``) plus one line in :data:`BUILTIN`; the class is imported the
first time its name is used. Strategies of your own go in with :func:`register`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from loopwise.errors import ConfigError
from loopwise.strategies._base import Strategy

# name -> "module:Class" of the strategies that ship with loopwise (imported on first use).
BUILTIN: dict[str, str] = {
    "random": "loopwise.strategies._random:RandomSampling",
    "least_confidence": "loopwise.strategies._uncertainty:LeastConfidence",
    "margin": "loopwise.strategies._uncertainty:MarginSampling",
    "entropy": "loopwise.strategies._uncertainty:EntropySampling",
    "qbc": "loopwise.strategies._committee:QueryByCommittee",
    "information_density": "loopwise.strategies._density:InformationDensity",
    "kcenter": "loopwise.strategies._kcenter:KCenterGreedy",
    "kcenter_normalized": "loopwise.strategies._kcenter:NormalizedKCenterGreedy",
    "badge": "loopwise.strategies._badge:Badge",
    "cluster_margin": "loopwise.strategies._cluster_margin:ClusterMargin",
    "typiclust": "loopwise.strategies._typiclust:TypiClust",
    "probcover": "loopwise.strategies._probcover:ProbCover",
    "diverse": "loopwise.strategies._diverse:DiverseSampling",
    "ranked_batch": "loopwise.strategies._ranked_batch:RankedBatch",
    "bald": "loopwise.strategies._bayesian:BALD",
    "mean_std": "loopwise.strategies._bayesian:MeanSTD",
    "variation_ratio": "loopwise.strategies._bayesian:VariationRatios",
    "hybrid": "loopwise.strategies._hybrid:WeightedHybrid",
    "auto": "loopwise.strategies._auto:AutoStrategy",
    "auto_no_bandit": "loopwise.strategies._auto:AutoNoBandit",
    "auto_no_slice": "loopwise.strategies._auto:AutoNoSlice",
    "auto_learned": "loopwise.strategies._auto:AutoLearned",
    "learned": "loopwise.strategies._learned:LearnedSelector",
    "covered_margin": "loopwise.strategies._auto_arms:CoveredMargin",
    "ml_mean_uncertainty": "loopwise.strategies._multilabel:MeanUncertainty",
    "ml_min_margin": "loopwise.strategies._multilabel:MinMargin",
    "mmc": "loopwise.strategies._multilabel:MMC",
    "mmc_typical": "loopwise.strategies._multilabel:TypicalMMC",
    "label_cardinality": "loopwise.strategies._multilabel:CardinalityInconsistency",
    "cvirs": "loopwise.strategies._multilabel:CVIRS",
    "max_std": "loopwise.strategies._regression:MaxStd",
    "committee_variance": "loopwise.strategies._regression:CommitteeVariance",
    "emcm": "loopwise.strategies._regression:EMCM",
    "gsx": "loopwise.strategies._regression:GSx",
    "gsy": "loopwise.strategies._regression:GSy",
    "igs": "loopwise.strategies._regression:IGS",
    "seq_least_confidence": "loopwise.strategies._sequence:SequenceLeastConfidence",
    "seq_margin": "loopwise.strategies._sequence:SequenceMargin",
    "token_entropy_mean": "loopwise.strategies._sequence:TokenEntropyMean",
    "token_entropy_max": "loopwise.strategies._sequence:TokenEntropyMax",
    "token_entropy_sum": "loopwise.strategies._sequence:TokenEntropySum",
    "seq_entropy_kcenter": "loopwise.strategies._sequence:SequenceEntropyKCenter",
}

_REGISTRY: dict[str, type[Strategy]] = {}


def _builtin(name: str) -> type[Strategy]:
    module, _, attr = BUILTIN[name].partition(":")
    cls: type[Strategy] = getattr(importlib.import_module(module), attr)
    if cls.name != name:
        raise ConfigError(f"BUILTIN lists {BUILTIN[name]} as {name!r}, but its class is named {cls.name!r}")
    return cls


def strategy_class(name: str) -> type[Strategy]:
    """The class registered under ``name``; an unknown name lists the known ones."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    if name in BUILTIN:
        return _builtin(name)
    raise ConfigError(f"unknown strategy {name!r}; known strategies: {', '.join(available())}")


def register(cls: type[Strategy]) -> type[Strategy]:
    """Add a strategy class under its ``name``; usable as a decorator."""
    taken = _REGISTRY.get(cls.name) or (_builtin(cls.name) if cls.name in BUILTIN else None)
    if taken is not None and taken is not cls:
        raise ConfigError(f"strategy name {cls.name!r} is already registered by {taken.__name__}")
    if cls.name not in BUILTIN:
        _REGISTRY[cls.name] = cls
    return cls


@contextmanager
def registered(cls: type[Strategy]) -> Iterator[type[Strategy]]:
    """Register ``cls`` for the ``with`` block only, so a test's strategy never outlives the test."""
    was_there = cls.name in BUILTIN or _REGISTRY.get(cls.name) is cls
    register(cls)
    try:
        yield cls
    finally:
        if not was_there:
            _REGISTRY.pop(cls.name, None)


def available() -> list[str]:
    """The registered strategy names, sorted."""
    return sorted({*BUILTIN, *_REGISTRY})


def registered_classes() -> list[type[Strategy]]:
    """Every registered class, by name (imports the built-in ones)."""
    return [strategy_class(name) for name in available()]


def make_strategy(name: str, **params: Any) -> Strategy:
    """Build a registered strategy; an unknown name lists the known ones."""
    cls = strategy_class(name)
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"strategy {name!r}: {exc}") from None

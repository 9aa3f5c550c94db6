"""Loop-0 initialisation: the initialiser contract, a strategy that declares loop-0 use, random, or given ids."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from loopwise.errors import ConfigError
from loopwise.strategies import FEATURES, Strategy, StrategyInputs, make_strategy, registered_classes, serves_loop_zero


class Initializer(abc.ABC):
    """Chooses the loop-0 sample before any model exists."""

    @abc.abstractmethod
    def select(self, X: Any, ids: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        """Return ``size`` distinct pool positions."""

    @property
    def name(self) -> str:
        """What loop 0's records are called after (``initial:<name>``): the class name, as stored runs carry it."""
        return type(self).__name__

    def describe(self) -> dict[str, Any]:
        """The spec :func:`~loopwise.loop.parse_initializer` rebuilds this initialiser from (stored with the run)."""
        return {"kind": type(self).__name__, **self.params_()}

    def params_(self) -> dict[str, Any]:
        """Constructor arguments, stored unchanged (attributes ending in ``_`` are built state)."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}


def loop_zero_strategies() -> list[str]:
    """The registered strategies that can choose loop 0 with their default parameters (they declare it)."""
    names = []
    for cls in registered_classes():
        try:
            if cls.capabilities.cold_start and serves_loop_zero(cls()):
                names.append(cls.name)
        except (TypeError, ValueError):  # a strategy with required parameters is not usable by name alone
            continue
    return names


def loop_zero_strategy(name: str, params: Mapping[str, Any] | None = None) -> Strategy:
    """Build strategy ``name`` for loop 0; one that needs a model (or does not declare loop-0 use) is refused."""
    strategy = make_strategy(name, **dict(params or {}))
    if not serves_loop_zero(strategy):
        needs = sorted(set(strategy.requires) - {FEATURES})
        why = f"it needs {', '.join(needs)}, which only a model computes" if needs else "its class does not declare cold_start"
        raise ConfigError(f"strategy {name!r} cannot choose loop 0: {why}; loop-0 strategies: {', '.join(loop_zero_strategies())}")
    return strategy


class StrategyInit(Initializer):
    """Loop 0 chosen by a strategy that declares loop-0 use: it sees every record's features and no labels.

    ``strategy`` is a registered name (``diverse``, ``typiclust``,
    ``probcover``, ``kcenter``, ``random``, ...) and ``params`` its
    constructor arguments. The selection is the strategy's own, on the whole
    pool with the loop's generator.
    """

    def __init__(self, strategy: str = "random", params: Mapping[str, Any] | None = None) -> None:
        self.strategy = strategy
        self.params = dict(params or {})
        self.strategy_ = loop_zero_strategy(strategy, self.params)

    @property
    def name(self) -> str:
        """The strategy's registered name: loop 0 of ``--init kcenter`` is ``initial:kcenter``."""
        return self.strategy

    def select(self, X: Any, ids: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        features = X if FEATURES in self.strategy_.requires else None
        inputs = StrategyInputs(candidates=np.arange(len(ids)), features=features)
        return np.asarray(self.strategy_.select(inputs, size, rng).positions, dtype=np.int64)


class RandomInit(StrategyInit):
    """A uniform random sample (the ``random`` strategy on the whole pool)."""

    name = Initializer.name  # the class name, which the loop 0 of every stored run carries

    def __init__(self) -> None:
        self.strategy_ = loop_zero_strategy("random")


class GivenIds(Initializer):
    """The record ids the user chose, in their order."""

    def __init__(self, record_ids: Sequence[str]) -> None:
        self.record_ids = [str(i) for i in record_ids]

    def select(self, X: Any, ids: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        index = {str(v): i for i, v in enumerate(ids)}
        missing = [i for i in self.record_ids if i not in index]
        if missing:
            raise ConfigError(f"initial record ids not in the pool: {missing[:5]} ({len(missing)} missing)")
        if len(set(self.record_ids)) != len(self.record_ids):
            raise ConfigError("initial record ids contain duplicates")
        return np.asarray([index[i] for i in self.record_ids], dtype=np.int64)

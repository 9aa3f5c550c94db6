"""The named loop-0 initialisers (diverse, TypiClust, ProbCover) over their strategies, and the parser of stored specs."""

from __future__ import annotations

from typing import Any

from loopwise.errors import ConfigError
from loopwise.loop._initial import GivenIds, Initializer, RandomInit, StrategyInit, loop_zero_strategies, loop_zero_strategy
from loopwise.strategies import available


class DiverseInit(StrategyInit):
    """k-means with ``size`` clusters; the record nearest each centroid (the ``diverse`` strategy)."""

    name = Initializer.name  # the class name, as stored runs carry it

    def __init__(self, max_dims: int = 50) -> None:
        self.max_dims = max_dims
        self.strategy_ = loop_zero_strategy("diverse", {"max_dims": max_dims})


class TypiClustInit(StrategyInit):
    """The most typical record of each of ``size`` k-means clusters (Hacohen, Dekel & Weinshall 2022).

    Built for tiny budgets, where typical records teach a model more than
    uncertain ones. Pools beyond ``max_points`` records are clustered on a
    seeded subsample; sparse features go through a truncated SVD of
    ``max_dims`` dimensions. The ``typiclust`` strategy with no labels yet.
    """

    name = Initializer.name  # the class name, as stored runs carry it

    def __init__(self, n_neighbors: int = 20, max_clusters: int = 500, max_points: int = 20000, max_dims: int = 50) -> None:
        self.n_neighbors = n_neighbors
        self.max_clusters = max_clusters
        self.max_points = max_points
        self.max_dims = max_dims
        self.strategy_ = loop_zero_strategy("typiclust", self.params_())


class ProbCoverInit(StrategyInit):
    """Greedy maximum coverage with balls of radius ``delta`` (Yehuda, Dekel, Hacohen & Weinshall 2022).

    ``delta=None`` takes the largest radius keeping ``alpha`` of the balls
    pure with respect to ``n_clusters`` k-means clusters (set it to the
    number of classes). Pools beyond ``max_points`` records are covered on a
    seeded subsample. The ``probcover`` strategy with no labels yet.
    """

    name = Initializer.name  # the class name, as stored runs carry it

    def __init__(
        self,
        delta: float | None = None,
        alpha: float = 0.95,
        n_clusters: int = 10,
        max_points: int = 10000,
        max_dims: int = 50,
    ) -> None:
        self.delta = delta
        self.alpha = alpha
        self.n_clusters = n_clusters
        self.max_points = max_points
        self.max_dims = max_dims
        self.strategy_ = loop_zero_strategy("probcover", self.params_())


_KINDS: dict[str, type[Initializer]] = {
    c.__name__: c for c in (RandomInit, DiverseInit, GivenIds, TypiClustInit, ProbCoverInit, StrategyInit)
}
_ALIASES = {
    "random": "RandomInit",
    "diverse": "DiverseInit",
    "ids": "GivenIds",
    "typiclust": "TypiClustInit",
    "probcover": "ProbCoverInit",
}


def initializer_kinds() -> list[str]:
    """Every short name :func:`parse_initializer` takes: the named kinds, then the other loop-0 strategies."""
    return [*_ALIASES, *(n for n in loop_zero_strategies() if n not in _ALIASES)]


def parse_initializer(spec: dict[str, Any] | str) -> Initializer:
    """Rebuild an initialiser from ``describe()`` output or a short name.

    Short names: random, diverse, typiclust, probcover, ids, or any
    registered strategy that declares loop-0 use (``kcenter``), with the
    spec's other keys as its parameters.
    """
    if isinstance(spec, str):
        spec = {"kind": spec}
    spec = dict(spec)
    given = spec.pop("kind", None)
    kind = _ALIASES.get(str(given), given)
    if kind in _KINDS:
        try:
            return _KINDS[kind](**spec)
        except TypeError as exc:
            raise ConfigError(f"initialisation {given!r}: {exc}") from None
    if isinstance(given, str) and given in available():
        return StrategyInit(given, spec)
    raise ConfigError(f"unknown initialisation {given!r}; known: {', '.join(initializer_kinds())}")

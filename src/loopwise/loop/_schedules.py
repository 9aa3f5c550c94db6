"""Loop-size schedules: how many records each loop asks for, within a label budget."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from loopwise.errors import ConfigError


class Schedule(abc.ABC):
    """Initial sample size, batch size per loop, and the label budget that caps both."""

    def __init__(self, initial_size: int, budget: int) -> None:
        if initial_size < 1:
            raise ConfigError(f"initial size must be at least 1, got {initial_size}")
        if budget < initial_size:
            raise ConfigError(f"budget ({budget}) must be at least the initial size ({initial_size})")
        self.initial_size = initial_size
        self.budget = budget

    @abc.abstractmethod
    def batch_size(self, loop_index: int) -> int:
        """Nominal size of loop ``loop_index`` >= 1, before the budget caps it."""

    def size_for(self, loop_index: int, n_labelled: int, n_unlabelled: int) -> int:
        """Records to ask for in this loop, capped by the budget left and the pool left."""
        nominal = self.initial_size if loop_index == 0 else self.batch_size(loop_index)
        return max(0, min(nominal, self.budget - n_labelled, n_unlabelled))

    def describe(self) -> dict[str, Any]:
        return {"kind": type(self).__name__, **vars(self)}


class FixedSchedule(Schedule):
    """The same batch size every loop."""

    def __init__(self, initial_size: int, batch: int, budget: int) -> None:
        super().__init__(initial_size, budget)
        if batch < 1:
            raise ConfigError(f"batch size must be at least 1, got {batch}")
        self.batch = batch

    def batch_size(self, loop_index: int) -> int:
        return self.batch


class ListSchedule(Schedule):
    """Explicit batch sizes for loops 1, 2, ...; the last size repeats."""

    def __init__(self, initial_size: int, sizes: Sequence[int], budget: int) -> None:
        super().__init__(initial_size, budget)
        if not sizes or min(sizes) < 1:
            raise ConfigError(f"batch sizes must be a non-empty list of positive numbers, got {list(sizes)}")
        self.sizes = list(sizes)

    def batch_size(self, loop_index: int) -> int:
        return self.sizes[min(loop_index - 1, len(self.sizes) - 1)]


class GeometricSchedule(Schedule):
    """Batches that grow by ``growth`` each loop: small while the model is weak, larger later."""

    def __init__(self, initial_size: int, first_batch: int, growth: float, budget: int) -> None:
        super().__init__(initial_size, budget)
        if first_batch < 1 or growth < 1.0:
            raise ConfigError(f"need first_batch >= 1 and growth >= 1.0, got {first_batch} and {growth}")
        self.first_batch = first_batch
        self.growth = growth

    def batch_size(self, loop_index: int) -> int:
        return max(1, round(self.first_batch * self.growth ** (loop_index - 1)))


_KINDS: dict[str, type[Schedule]] = {c.__name__: c for c in (FixedSchedule, ListSchedule, GeometricSchedule)}


def parse_schedule(spec: dict[str, Any]) -> Schedule:
    """Rebuild a schedule from ``describe()`` output."""
    spec = dict(spec)
    kind = spec.pop("kind", None)
    if kind not in _KINDS:
        raise ConfigError(f"unknown schedule {kind!r}; known: {', '.join(_KINDS)}")
    return _KINDS[kind](**spec)

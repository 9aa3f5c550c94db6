"""Loop-size schedules: how many records each loop asks for, within a label budget."""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from typing import Any

from loopwise.core.records import LoopRecord
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

    def size_for(
        self, loop_index: int, n_labelled: int, n_unlabelled: int, records: Sequence[LoopRecord] = ()
    ) -> int:
        """Records to ask for in this loop, capped by the budget left and the pool left.

        ``records`` are the loops so far; fixed schedules ignore them, adaptive ones read the
        learning curve from them (so a resumed run picks the same sizes).
        """
        nominal = self.initial_size if loop_index == 0 else self.batch_size_after(loop_index, records)
        return max(0, min(nominal, self.budget - n_labelled, n_unlabelled))

    def batch_size_after(self, loop_index: int, records: Sequence[LoopRecord]) -> int:
        """Nominal size of loop ``loop_index`` given the loops so far; most schedules need only the index."""
        return self.batch_size(loop_index)

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


class AdaptiveSchedule(Schedule):
    """Batch sizes chosen from the learning curve so far and the prices of labels and compute.

    Small loops while each label still moves the model a lot, larger ones as the curve
    flattens: an inverse power law is fitted to the loops so far (the test ``metric``, or the
    previous model's accuracy on each new batch when there is none), and the batch grows as
    ``min_batch / sqrt(slope now / slope at the first fitted loop)``. Compute pays per loop, not
    per label, so the batch is also at least large enough that one loop's compute (the last
    loop's CPU seconds at ``compute_rate`` per CPU hour) is at most ``compute_share`` of its
    label bill at ``label_cost`` a label. Capped to ``[min_batch, max_batch]``. Until the curve has
    risen ``min_rise`` above its first loop it stays at ``min_batch``: a start stuck near chance is
    flat without having converged (on ag_news the unguarded rule grew the batches there and lost 28 points).
    """

    def __init__(self, initial_size: int, min_batch: int, max_batch: int, budget: int, label_cost: float = 1.0,
                 compute_rate: float = 0.0, compute_share: float = 0.1, metric: str = "accuracy",
                 min_rise: float = 0.05) -> None:
        super().__init__(initial_size, budget)
        if min_batch < 1 or max_batch < min_batch:
            raise ConfigError(f"need 1 <= min_batch <= max_batch, got {min_batch} and {max_batch}")
        if label_cost < 0 or compute_rate < 0 or not 0 < compute_share <= 1:
            raise ConfigError(
                f"need label_cost >= 0, compute_rate >= 0 and 0 < compute_share <= 1; got {label_cost}, {compute_rate}, {compute_share}"
            )
        self.min_batch = min_batch
        self.max_batch = max_batch
        self.label_cost = label_cost
        self.compute_rate = compute_rate
        self.compute_share = compute_share
        self.metric = metric
        self.min_rise = min_rise

    def batch_size(self, loop_index: int) -> int:
        return self.min_batch

    def batch_size_after(self, loop_index: int, records: Sequence[LoopRecord]) -> int:
        from loopwise.stopping import fit_power_law, label_only_accuracy, loop_compute_seconds

        size = float(self.min_batch)
        xs, ys = [], []
        for record in records:
            value = record.metrics.get(self.metric) if self.metric in record.metrics else label_only_accuracy(record)
            if value is not None and math.isfinite(float(value)):
                xs.append(float(record.n_labelled))
                ys.append(float(value))
        # A curve that has not picked up yet (stuck near chance) is flat without being converged: keep loops small.
        rising = len(ys) >= 2 and ys[-1] - ys[0] >= self.min_rise
        params = fit_power_law(xs, ys) if rising else None
        if params is not None and params[1] > 0:
            _, _, c = params
            # slope(n) = b c n^-(c+1); its ratio to the first fitted loop's slope needs no b.
            ratio = (xs[-1] / xs[0]) ** (-(c + 1.0))
            size = max(size, self.min_batch / math.sqrt(max(ratio, 1e-12)))
        if records and self.label_cost > 0 and self.compute_rate > 0:
            loop_compute = loop_compute_seconds(records[-1]) / 3600.0 * self.compute_rate
            size = max(size, loop_compute / (self.compute_share * self.label_cost))
        return int(min(self.max_batch, max(self.min_batch, round(size))))


_KINDS: dict[str, type[Schedule]] = {
    c.__name__: c for c in (FixedSchedule, ListSchedule, GeometricSchedule, AdaptiveSchedule)
}


def parse_schedule(spec: dict[str, Any]) -> Schedule:
    """Rebuild a schedule from ``describe()`` output."""
    spec = dict(spec)
    kind = spec.pop("kind", None)
    if kind not in _KINDS:
        raise ConfigError(f"unknown schedule {kind!r}; known: {', '.join(_KINDS)}")
    return _KINDS[kind](**spec)

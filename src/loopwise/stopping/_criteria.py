"""Stopping criteria over the history of recorded loops (budget, loops, target, stability, plateau)."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import numpy as np

from loopwise.core.records import LoopRecord
from loopwise.errors import ConfigError


def cohen_kappa(a: np.ndarray, b: np.ndarray, n_classes: int | None = None) -> float:
    """Cohen's kappa between two label vectors; 1.0 when both are one identical constant."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    k = int(max(a.max(initial=0), b.max(initial=0)) + 1) if n_classes is None else n_classes
    observed = float(np.mean(a == b)) if a.size else 1.0
    expected = float(np.dot(np.bincount(a, minlength=k), np.bincount(b, minlength=k))) / max(a.size, 1) ** 2
    if expected >= 1.0:
        return 1.0 if observed >= 1.0 else 0.0
    return (observed - expected) / (1.0 - expected)


class StoppingCriterion(abc.ABC):
    """``should_stop(records)`` decides from recorded loops alone, so a resumed run decides the same."""

    @abc.abstractmethod
    def should_stop(self, records: Sequence[LoopRecord]) -> bool: ...

    def __or__(self, other: StoppingCriterion) -> AnyOf:
        return AnyOf([self, other])

    def __and__(self, other: StoppingCriterion) -> AllOf:
        return AllOf([self, other])

    def describe(self) -> dict[str, Any]:
        return {"kind": type(self).__name__, **vars(self)}

    def label_budget(self) -> int | None:
        """The most records this rule lets be labelled, if it caps them; the server refuses to go past it."""
        return None


class AnyOf(StoppingCriterion):
    """Stop when any member says stop."""

    def __init__(self, criteria: Sequence[StoppingCriterion]) -> None:
        self.criteria = list(criteria)

    def should_stop(self, records: Sequence[LoopRecord]) -> bool:
        return any(c.should_stop(records) for c in self.criteria)

    def describe(self) -> dict[str, Any]:
        return {"kind": "AnyOf", "criteria": [c.describe() for c in self.criteria]}

    def label_budget(self) -> int | None:
        # Any member stops the run, so the smallest budget among them caps it.
        budgets = [b for b in (c.label_budget() for c in self.criteria) if b is not None]
        return min(budgets) if budgets else None


class AllOf(AnyOf):
    """Stop when every member says stop."""

    def should_stop(self, records: Sequence[LoopRecord]) -> bool:
        return bool(self.criteria) and all(c.should_stop(records) for c in self.criteria)

    def describe(self) -> dict[str, Any]:
        return {"kind": "AllOf", "criteria": [c.describe() for c in self.criteria]}

    def label_budget(self) -> int | None:
        # Every member must agree to stop, so a budget alone caps nothing.
        return None


class LabelBudget(StoppingCriterion):
    """Stop once ``budget`` labels have been bought."""

    def __init__(self, budget: int) -> None:
        if isinstance(budget, bool) or not isinstance(budget, int | np.integer) or budget < 1:
            raise ConfigError(f"LabelBudget: budget must be a whole number of labels, at least 1; got {budget!r}")
        self.budget = int(budget)

    def should_stop(self, records: Sequence[LoopRecord]) -> bool:
        return bool(records) and records[-1].n_labelled >= self.budget

    def label_budget(self) -> int | None:
        return self.budget


class MaxLoops(StoppingCriterion):
    """Stop after ``max_loops`` loops, loop 0 included."""

    def __init__(self, max_loops: int) -> None:
        self.max_loops = max_loops

    def should_stop(self, records: Sequence[LoopRecord]) -> bool:
        return len(records) >= self.max_loops


class TargetMetric(StoppingCriterion):
    """Stop when the last loop's test ``metric`` reaches ``target``."""

    def __init__(self, target: float, metric: str = "accuracy") -> None:
        self.target = target
        self.metric = metric

    def should_stop(self, records: Sequence[LoopRecord]) -> bool:
        return bool(records) and float(records[-1].metrics.get(self.metric, -np.inf)) >= self.target


class StabilizingPredictions(StoppingCriterion):
    """Stop when predictions on a fixed stop set stop changing (Bloodgood & Vijay-Shanker 2009).

    Cohen's kappa between successive loops' predictions must be at least
    ``threshold`` for the last ``window`` pairs of loops.
    """

    def __init__(self, threshold: float = 0.99, window: int = 3) -> None:
        self.threshold = threshold
        self.window = window

    def should_stop(self, records: Sequence[LoopRecord]) -> bool:
        if len(records) < self.window + 1:
            return False
        recent = records[-(self.window + 1) :]
        kappas = [
            cohen_kappa(a.stop_predictions, b.stop_predictions) for a, b in zip(recent[:-1], recent[1:], strict=True)
        ]
        return min(kappas) >= self.threshold


class Plateau(StoppingCriterion):
    """Stop when the learning curve has gained less than ``min_delta`` over the last ``window`` loops."""

    def __init__(self, window: int = 5, min_delta: float = 0.002, metric: str = "accuracy") -> None:
        self.window = window
        self.min_delta = min_delta
        self.metric = metric

    def should_stop(self, records: Sequence[LoopRecord]) -> bool:
        if len(records) < self.window + 1:
            return False
        # A loop without the metric (a server loop with too few labels to cross-validate) is no
        # evidence of a plateau: the window must hold the metric in every loop before it can stop.
        recent = [r.metrics.get(self.metric) for r in records[-(self.window + 1) :]]
        if any(v is None or not np.isfinite(float(v)) for v in recent):
            return False
        values = [float(v) for v in recent]  # type: ignore[arg-type]
        return max(values[1:]) - values[0] < self.min_delta


_KINDS: dict[str, type[StoppingCriterion]] = {
    "LabelBudget": LabelBudget,
    "MaxLoops": MaxLoops,
    "TargetMetric": TargetMetric,
    "StabilizingPredictions": StabilizingPredictions,
    "Plateau": Plateau,
}


def parse_stopping(spec: dict[str, Any]) -> StoppingCriterion:
    """Rebuild a criterion from ``describe()`` output (stored in a run's config)."""
    spec = dict(spec)
    kind = spec.pop("kind", None)
    if kind in ("AnyOf", "AllOf"):
        members = [parse_stopping(s) for s in spec.get("criteria", [])]
        return AnyOf(members) if kind == "AnyOf" else AllOf(members)
    if kind not in _KINDS:
        raise ConfigError(f"unknown stopping criterion {kind!r}; known: AnyOf, AllOf, {', '.join(_KINDS)}")
    try:
        return _KINDS[kind](**spec)
    except TypeError as exc:
        raise ConfigError(f"stopping criterion {kind}: {exc}") from None

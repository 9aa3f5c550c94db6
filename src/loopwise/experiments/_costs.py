"""Label prices for the cost ledger: per label, per class, per label source, or a function of the record."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loopwise.errors import ConfigError


def _check_price(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{what} must be a number, got {value!r}")
    price = float(value)
    if not math.isfinite(price) or price < 0:
        raise ConfigError(f"{what} must be a finite number >= 0, got {value!r}")
    return price


@dataclass(frozen=True)
class LabelPrice:
    """What one label costs: ``per_class[name]`` if given, else ``per_source[source]``, else ``per_label``.

    ``record_cost(record_id, label_name) -> float``, when given, replaces all three for
    prices that depend on the record itself (text length, image size); it is code, so a
    resumed run needs it passed again, like a custom model.
    """

    per_label: float = 1.0
    per_class: Mapping[str, float] = field(default_factory=dict)
    per_source: Mapping[str, float] = field(default_factory=dict)
    record_cost: Callable[[str, str], float] | None = None

    def checked(self, label_names: Sequence[str]) -> LabelPrice:
        """This price after checking every number and that each priced class exists; raises ConfigError."""
        _check_price(self.per_label, "cost per label")
        unknown = sorted(set(self.per_class) - set(label_names))
        if unknown:
            raise ConfigError(
                f"cost per class names {unknown!r}, which are not classes of this data; classes: {list(label_names)!r}"
            )
        for name, value in self.per_class.items():
            _check_price(value, f"cost of class {name!r}")
        for name, value in self.per_source.items():
            _check_price(value, f"cost of label source {name!r}")
        return self

    def cost(self, record_ids: Sequence[str], label_names: Sequence[str], source: str = "oracle") -> float:
        """Total price of labelling ``record_ids[i]`` as ``label_names[i]``, all from ``source``."""
        if self.record_cost is not None:
            return sum(
                _check_price(self.record_cost(rid, name), f"record_cost of record id {rid!r}")
                for rid, name in zip(record_ids, label_names, strict=True)
            )
        base = float(self.per_source.get(source, self.per_label))
        return float(sum(float(self.per_class.get(name, base)) for name in label_names))

    def describe(self) -> dict[str, Any]:
        """The storable part of the price (a ``record_cost`` function is named, not stored)."""
        out: dict[str, Any] = {"per_label": float(self.per_label), "per_class": dict(self.per_class)}
        if self.per_source:
            out["per_source"] = dict(self.per_source)
        if self.record_cost is not None:
            out["record_cost"] = getattr(self.record_cost, "__qualname__", "function")
        return out


def parse_class_costs(items: Sequence[str]) -> dict[str, float]:
    """``["cat=2", "dog=0.5"]`` (the CLI's ``--cost-per-class``) as ``{"cat": 2.0, "dog": 0.5}``; raises ConfigError."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        if not sep or not name:
            raise ConfigError(f"--cost-per-class takes CLASS=COST, got {item!r}")
        try:
            out[name] = _check_price(float(value), f"--cost-per-class {item!r}")
        except ValueError:
            raise ConfigError(f"--cost-per-class {item!r}: {value!r} is not a number") from None
    return out

"""The plan of a quality run: datasets with their protocols, strategies, seeds and capped cells, from TOML."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from loopwise.bench._cells import Cell, check_strategy
from loopwise.bench._protocol import Protocol
from loopwise.errors import ConfigError

#: What `loopwise bench quality` runs when neither the config nor the command line says otherwise.
DEFAULT_DATASETS = (
    "sms_spam", "ag_news", "trec", "customer_reviews", "letter",
    "adult", "covertype", "shuttle", "mnist", "fashion_mnist",
)  # fmt: skip
DEFAULT_STRATEGIES = (
    "random", "least_confidence", "margin", "entropy", "qbc", "information_density", "kcenter", "kcenter_normalized",
    "ranked_batch", "modal:least_confidence", "modal:margin", "modal:entropy", "modal:qbc", "modal:information_density",
    "modal:ranked_batch",
    "small_text:least_confidence", "small_text:margin", "small_text:entropy", "small_text:kcenter",
    "skactiveml:least_confidence", "skactiveml:margin", "skactiveml:entropy", "skactiveml:qbc", "skactiveml:kcenter",
)  # fmt: skip
PROTOCOL_KEYS = tuple(f.name for f in fields(Protocol) if f.name != "source")


@dataclass
class Cap:
    """A strategy left out on some datasets (too slow there), and why; reported with the results."""

    datasets: list[str]
    reason: str


@dataclass
class QualityPlan:
    """Datasets (one :class:`Protocol` each) x strategies x seeds, minus the capped cells."""

    protocols: list[Protocol]
    strategies: list[str]
    seeds: list[int]
    caps: dict[str, Cap] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.protocols:
            raise ConfigError("no datasets to run; give --dataset or list datasets in the config")
        if not self.strategies:
            raise ConfigError("no strategies to run; give --strategy or list strategies in the config")
        if not self.seeds:
            raise ConfigError("no seeds to run; --seeds must be at least 1")
        for name in self.strategies:
            check_strategy(name)
        names = [p.dataset for p in self.protocols]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(f"datasets listed twice: {dupes}")

    def is_capped(self, strategy: str, dataset: str) -> bool:
        cap = self.caps.get(strategy)
        return cap is not None and dataset in cap.datasets

    def cells(self) -> list[Cell]:
        """Every cell to run, seed by seed: a run stopped early still covers every dataset with its first seeds."""
        return [
            Cell(protocol, strategy, seed)
            for seed in self.seeds
            for protocol in self.protocols
            for strategy in self.strategies
            if not self.is_capped(strategy, protocol.dataset)
        ]


def _table(config: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = config.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{key}] must be a table")
    return value


def _protocol_fields(values: dict[str, Any], where: str) -> dict[str, Any]:
    unknown = sorted(set(values) - set(PROTOCOL_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown protocol keys {unknown}; allowed: {', '.join(PROTOCOL_KEYS)}")
    return dict(values)


def load_plan(
    config: str | Path | None = None,
    *,
    datasets: Sequence[str] | None = None,
    strategies: Sequence[str] | None = None,
    seeds: int | None = None,
    overrides: dict[str, Any] | None = None,
) -> QualityPlan:
    """Build a plan from a TOML file (see ``benchmarks/quality.toml``) and command-line choices.

    The file may hold ``datasets``, ``strategies`` and ``seeds``; a
    ``[protocol]`` table with the defaults of every dataset; ``[dataset.NAME]``
    tables overriding them per dataset (a budget per dataset); and
    ``[caps."STRATEGY"]`` tables with ``datasets`` and ``reason`` for cells
    left out. Arguments given here win over the file, and ``overrides``
    (protocol keys) apply to every dataset.
    """
    data: dict[str, Any] = {}
    path = Path(config) if config is not None else None
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the benchmark config: {exc}") from None
    where = str(path) if path else "defaults"
    base = _protocol_fields(_table(data, "protocol", path or Path(where)), f"{where} [protocol]")
    per_dataset = _table(data, "dataset", path or Path(where))
    extra = _protocol_fields(dict(overrides or {}), "command-line overrides")
    names = list(datasets) if datasets else list(data.get("datasets", DEFAULT_DATASETS))
    protocols = []
    for name in names:
        key = Protocol(name).dataset
        own = _protocol_fields(per_dataset.get(key, {}), f"{where} [dataset.{key}]")
        protocols.append(Protocol(name, **{**base, **own, **{k: v for k, v in extra.items() if v is not None}}))
    caps = {
        strategy: Cap(datasets=list(spec.get("datasets", [])), reason=str(spec.get("reason", "")))
        for strategy, spec in _table(data, "caps", path or Path(where)).items()
    }
    n_seeds = seeds if seeds is not None else int(data.get("seeds", 10))
    if n_seeds < 1:
        raise ConfigError(f"seeds must be at least 1; got {n_seeds}")
    return QualityPlan(
        protocols=protocols,
        strategies=list(strategies) if strategies else list(data.get("strategies", DEFAULT_STRATEGIES)),
        seeds=list(range(n_seeds)),
        caps=caps,
    )


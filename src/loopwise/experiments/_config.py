"""RunConfig: everything needed to replay a run, stored as JSON with the run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class DataSpec:
    """Where the pool comes from and how it is split and subsampled."""

    source: str
    label_column: str | None = None
    text_column: str | None = None
    id_column: str | None = None
    test_size: float = 0.25
    split_seed: int = 0
    max_pool: int | None = None
    max_test: int | None = None


@dataclass
class RunConfig:
    """One run: data, learner, strategy, loop-0 sample, schedule, stopping, retraining and seed."""

    data: DataSpec
    strategy: str
    seed: int
    schedule: dict[str, Any]
    learner: str = "logreg"
    strategy_params: dict[str, Any] = field(default_factory=dict)
    initializer: dict[str, Any] = field(default_factory=lambda: {"kind": "RandomInit"})
    stopping: dict[str, Any] | None = None
    retrain: str = "scratch"
    stop_set_size: int = 1000
    cost_per_label: float = 1.0
    cost_per_class: dict[str, float] = field(default_factory=dict)  # class name -> price of one label
    compute_rate: float = 0.0  # price of one CPU hour (TRAIN + INFER + SELECT), for the cost ledger
    comparison: str | None = None
    full_pool_accuracy: float | None = None
    full_label_cost: float | None = None  # what labelling the whole pool would cost at these prices
    label_quality: dict[str, Any] = field(default_factory=dict)  # simulated noise, annotator panel, audit (issue 12)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        data = dict(data)
        data["data"] = DataSpec(**data["data"])
        return cls(**data)

    @property
    def label(self) -> str:
        return f"{self.strategy} seed {self.seed}"

"""RunConfig: everything needed to replay a run, stored as JSON with the run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from loopwise.core.tasks import CLASSIFICATION, check_task
from loopwise.errors import ConfigError
from loopwise.learners import SPECS, check_learner_task
from loopwise.strategies import available, capabilities, make_strategy, strategy_class


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
    task: str | None = None  # the learning task; None: the dataset's (meta.json), else classification


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
    task: str = CLASSIFICATION  # what the pool's labels are (loopwise.core.tasks.TASKS)

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


def check_task_fit(config: RunConfig, task: str | None = None) -> None:
    """Refuse, before anything runs or is stored, a strategy or library learner that cannot serve the run's task.

    ``task`` defaults to ``config.task``. The messages name the strategy or learner,
    the task, and the ones that do serve it.
    """
    task = check_task(config.task if task is None else task, "task")
    strategy = make_strategy(config.strategy, **config.strategy_params)
    served = capabilities(strategy).tasks
    if task not in served:
        able = [n for n in available() if task in capabilities(strategy_class(n)).tasks]
        raise ConfigError(
            f"strategy {config.strategy!r} serves {', '.join(sorted(served))}, not {task}; "
            f"strategies for {task}: {', '.join(able) or 'none yet'}"
        )
    if config.learner in SPECS:
        check_learner_task(config.learner, task)
    if task != CLASSIFICATION:
        if config.label_quality and any(config.label_quality.get(k) for k in ("noise", "annotators", "audit")):
            raise ConfigError(f"simulated label noise, annotator panels and audits are for classification, not {task}")
        if config.cost_per_class:
            raise ConfigError(f"cost_per_class prices classes; a {task} run has none (use cost_per_label)")
        if config.retrain != "scratch":
            raise ConfigError(f"retrain mode {config.retrain!r}: {task} learners retrain from scratch only")

"""The plain-data record of finished runs that every report is built from."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from loopwise.errors import DataError


@dataclass
class LoopPoint:
    """What one loop of a run measured, after its TRAIN step.

    ``accuracy`` and ``macro_f1`` hold the run's headline score and second figure, which for
    tasks other than classification are that task's (``loopwise.core.tasks.HEADLINE``:
    micro-F1 and macro-F1 for multilabel, -RMSE and R² for regression); ``per_class_f1`` is
    per label for multilabel and empty for regression, the confusion matrix empty for both.
    """

    loop_index: int
    n_labelled: int
    accuracy: float
    macro_f1: float
    log_loss: float | None
    per_class_f1: list[float]
    confusion_matrix: list[list[int]]  # rows: true class, columns: predicted class
    # wall seconds of 'infer', 'select', 'train'; process CPU seconds as 'infer_cpu' ...; CUDA seconds as 'train_gpu' ...
    timings: dict[str, float] = field(default_factory=dict)
    label_cost: float = 0.0  # cost of the labels bought in this loop, not cumulative
    # what the strategy said about its choice: auto's arm, reason, values, slice accuracy, active_losing
    selection: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoopPoint:
        return cls(
            loop_index=int(data["loop_index"]),
            n_labelled=int(data["n_labelled"]),
            accuracy=_float(data["accuracy"]),
            macro_f1=_float(data["macro_f1"]),
            log_loss=None if data.get("log_loss") is None else _float(data["log_loss"]),
            per_class_f1=[_float(v) for v in data["per_class_f1"]],
            confusion_matrix=[[int(v) for v in row] for row in data["confusion_matrix"]],
            timings={str(k): float(v) for k, v in (data.get("timings") or {}).items()},
            label_cost=float(data.get("label_cost") or 0.0),
            selection=dict(data.get("selection") or {}),
        )


@dataclass
class RunResult:
    """One run of one strategy with one seed on one dataset, loop by loop."""

    run_id: str
    strategy: str
    seed: int
    dataset: str
    label_names: list[str]
    full_pool_accuracy: float | None  # the same model trained on the whole labelled pool: the ceiling
    loops: list[LoopPoint]
    compute_rate: float = 0.0  # price of one CPU hour, for the cost ledger
    full_label_cost: float | None = None  # what labelling the whole pool would cost
    task: str = "classification"  # what the labels are (loopwise.core.tasks.TASKS); names the metrics

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        full = data.get("full_pool_accuracy")
        return cls(
            run_id=str(data["run_id"]),
            strategy=str(data["strategy"]),
            seed=int(data["seed"]),
            dataset=str(data["dataset"]),
            label_names=[str(v) for v in data["label_names"]],
            full_pool_accuracy=None if full is None else float(full),
            loops=[LoopPoint.from_dict(p) for p in data["loops"]],
            compute_rate=float(data.get("compute_rate") or 0.0),
            full_label_cost=None if data.get("full_label_cost") is None else float(data["full_label_cost"]),
            task=str(data.get("task") or "classification"),
        )


def _float(value: object) -> float:
    # The JSON report writes non-finite metrics as null (strict JSON has no NaN); read them back as NaN.
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


def check_results(results: Sequence[RunResult]) -> list[RunResult]:
    """Refuse results a report cannot be honest about, naming the run and loop at fault.

    Reports compare runs, so every run must be on the same dataset with the same label set,
    run ids must be unique, and each run's loops must be in order with matrices of the right size.
    """
    results = list(results)
    if not results:
        raise DataError("results: expected at least one RunResult, got an empty list")
    for i, run in enumerate(results):
        if not isinstance(run, RunResult):
            raise DataError(f"results[{i}]: expected a RunResult, got {type(run).__name__}")
    datasets = sorted({run.dataset for run in results})
    if len(datasets) > 1:
        raise DataError(f"results: a report covers one dataset, got runs on {datasets!r}")
    tasks = sorted({run.task for run in results})
    if len(tasks) > 1:
        raise DataError(f"results: a report covers one task, got runs of {tasks!r}")
    first = results[0]
    seen: set[str] = set()
    for run in results:
        if run.run_id in seen:
            raise DataError(f"results: run_id {run.run_id!r} appears more than once")
        seen.add(run.run_id)
        if list(run.label_names) != list(first.label_names):
            raise DataError(
                f"run {run.run_id!r}: label_names {run.label_names!r} differ from "
                f"run {first.run_id!r}'s {first.label_names!r}; runs in one report must share a label set"
            )
        _check_run(run)
    return results


def _check_run(run: RunResult) -> None:
    if not run.loops:
        raise DataError(f"run {run.run_id!r}: has no loops; a report needs at least one evaluated loop")
    k = len(run.label_names)
    if k == 0:
        raise DataError(f"run {run.run_id!r}: label_names is empty; the report names every class")
    previous = -1
    for point in run.loops:
        where = f"run {run.run_id!r}, loop {point.loop_index}"
        if point.n_labelled < previous:
            raise DataError(
                f"{where}: n_labelled {point.n_labelled} is below the previous loop's {previous}; "
                "loops must be in the order they ran"
            )
        previous = point.n_labelled
        if run.task == "regression":
            continue  # one target: no per-class figures, no confusion matrix
        if len(point.per_class_f1) != k:
            raise DataError(f"{where}: per_class_f1 has {len(point.per_class_f1)} values for {k} label names")
        shape = (len(point.confusion_matrix), {len(row) for row in point.confusion_matrix})
        if run.task == "classification" and shape != (k, {k}):
            raise DataError(f"{where}: confusion_matrix must be {k} x {k} (one row and column per label name)")

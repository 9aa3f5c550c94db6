"""The values the store takes and returns: plain frozen dataclasses, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    id: int
    name: str
    task: str
    label_names: list[str]
    cost_per_label: float
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: str
    project_id: int
    project_name: str
    config: dict[str, Any]
    status: str
    name: str | None
    created_at: datetime
    finished_at: datetime | None
    n_loops: int
    label_names: list[str]
    task: str = "classification"  # what the run's labels are (loopwise.core.tasks.TASKS)


@dataclass(frozen=True, slots=True)
class LoopInfo:
    loop_index: int
    strategy: str
    selected_ids: list[str]
    n_labelled: int
    metrics: dict[str, Any]
    timings: dict[str, Any]
    label_cost: float
    artifact_hash: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LabelInfo:
    id: int
    external_id: str
    value: str
    source: str
    annotator: str | None
    run_id: str | None
    created_at: datetime
    supersedes_id: int | None
    model_version: int | None = None  # an auto-label's: the loop index of the run's model that gave it
    confidence: float | None = None  # an auto-label's: that model's probability of the value


@dataclass(frozen=True)
class LoopWrite:
    """Everything one loop persists; ``labels[i]`` is the class name given to ``selected_ids[i]``."""

    loop_index: int
    strategy: str
    selected_ids: list[str]
    labels: list[str]
    n_labelled: int
    metrics: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    label_cost: float = 0.0
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    model: bytes | None = None
    label_source: str = "oracle"
    annotator: str | None = None

"""Checks of what callers hand the store, before anything is written: loops, class names, costs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from loopwise.errors import ConfigError, DataError

from ._json import to_json
from ._models import LABEL_SOURCES
from ._types import LoopWrite, ProjectInfo


def check_loop(loop: LoopWrite) -> dict[str, Any]:
    """Validate a LoopWrite before anything is written; return its JSON-ready values."""
    if not isinstance(loop, LoopWrite):
        raise DataError(f"record_loop takes a LoopWrite, got {type(loop).__name__}")
    if not _is_int(loop.loop_index) or loop.loop_index < 0:
        raise DataError(f"loop_index must be an integer >= 0, got {loop.loop_index!r}")
    if not isinstance(loop.strategy, str) or not loop.strategy:
        raise DataError(f"strategy must be a non-empty string, got {loop.strategy!r}")
    if not _is_int(loop.n_labelled) or loop.n_labelled < 0:
        raise DataError(f"n_labelled must be an integer >= 0, got {loop.n_labelled!r}")
    for index, external_id in enumerate(loop.selected_ids):
        if not isinstance(external_id, str):
            raise DataError(
                f"selected_ids[{index}] must be a string external id, got {external_id!r}"
            )
    if len(loop.labels) != len(loop.selected_ids):
        raise DataError(
            f"labels has {len(loop.labels)} items but selected_ids has {len(loop.selected_ids)}; "
            "give one label per selected record, in the same order"
        )
    for index, value in enumerate(loop.labels):
        if not isinstance(value, str):
            raise DataError(f"labels[{index}] must be a class name (str), got {value!r}")
    check_unique(loop.selected_ids, "selected_ids")
    if loop.label_source not in LABEL_SOURCES:
        raise ConfigError(
            f"label_source must be one of {', '.join(LABEL_SOURCES)}; got {loop.label_source!r}"
        )
    if loop.annotator is not None and not isinstance(loop.annotator, str):
        raise DataError(f"annotator must be a string or None, got {loop.annotator!r}")
    if not isinstance(loop.metrics, Mapping):
        raise DataError(f"metrics must be a dict, got {type(loop.metrics).__name__}")
    if not isinstance(loop.timings, Mapping):
        raise DataError(f"timings must be a dict, got {type(loop.timings).__name__}")
    if not isinstance(loop.arrays, Mapping):
        raise DataError(f"arrays must be a dict of NumPy arrays, got {type(loop.arrays).__name__}")
    return {
        "metrics": to_json(loop.metrics, "metrics"),
        "timings": to_json(loop.timings, "timings"),
        "label_cost": check_cost(loop.label_cost, "label_cost"),
    }


def check_label_list(label_names: Sequence[str]) -> list[str]:
    """A project's class names as a list: non-empty strings, each once (ConfigError otherwise)."""
    if isinstance(label_names, str) or not isinstance(label_names, Sequence):
        raise ConfigError(f"label_names must be a list of class names, got {label_names!r}")
    names = list(label_names)
    if not names:
        raise ConfigError("label_names must name at least one class")
    for index, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise ConfigError(f"label_names[{index}] must be a non-empty string, got {name!r}")
    check_unique(names, "label_names", ConfigError)
    return names


def check_cost(value: float, what: str) -> float:
    """``value`` as a finite cost >= 0 (DataError naming ``what`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DataError(f"{what} must be a number, got {value!r}")
    cost = float(value)
    if not math.isfinite(cost) or cost < 0:
        raise DataError(f"{what} must be a finite number >= 0, got {value!r}")
    return cost


def check_unique(
    values: Sequence[str], what: str, error: type[DataError | ConfigError] = DataError
) -> None:
    """Refuse ``values`` if one repeats, naming the first repeat and ``what`` it is."""
    if len(set(values)) == len(values):
        return
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise error(f"{what} lists {value!r} more than once")
        seen.add(value)


def check_same_project(
    project: ProjectInfo, task: str, label_names: list[str], cost_per_label: float
) -> None:
    """Refuse to reuse an existing project under other settings (ConfigError saying both)."""
    stored = (project.task, project.label_names, project.cost_per_label)
    if stored != (task, label_names, cost_per_label):
        raise ConfigError(
            f"project {project.name!r} already exists with task={project.task!r}, "
            f"label_names={project.label_names}, cost_per_label={project.cost_per_label}; "
            f"got task={task!r}, label_names={label_names}, cost_per_label={cost_per_label}. "
            "Use another project name for different settings."
        )


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)

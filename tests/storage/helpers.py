"""Small builders shared by the storage tests."""

from __future__ import annotations

import numpy as np

from loopwise.storage import LoopWrite

LABEL_NAMES = ["cat", "dog", "bird"]
EXTERNAL_IDS = [f"r{i:03d}" for i in range(30)]


def make_loop(
    loop_index: int, selected: list[str], labels: list[str] | None = None, **overrides: object
) -> LoopWrite:
    """A LoopWrite with plausible metrics, timings and arrays; ``overrides`` replace fields."""
    rng = np.random.default_rng(loop_index)
    if labels is None:
        labels = [LABEL_NAMES[i % len(LABEL_NAMES)] for i in range(len(selected))]
    values: dict[str, object] = {
        "loop_index": loop_index,
        "strategy": "margin",
        "selected_ids": selected,
        "labels": labels,
        "n_labelled": 10 * (loop_index + 1),
        "metrics": {"accuracy": 0.5 + 0.1 * loop_index, "per_class_f1": {"cat": 0.4}},
        "timings": {"infer": 0.01, "select": 0.002, "train": 0.3},
        "label_cost": 2.5 * len(selected),
        "arrays": {"proba": rng.dirichlet(np.ones(3), size=30).astype(np.float32)},
        "model": None,
    }
    values.update(overrides)
    return LoopWrite(**values)  # type: ignore[arg-type]

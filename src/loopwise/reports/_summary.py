"""Learning-curve metrics (AULC, labels to reach a target) and the JSON-ready run summary."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from loopwise.errors import DataError
from loopwise.core.tasks import headline
from loopwise.reports._results import RunResult, check_results

#: The strategy name every other strategy is measured against (``RandomSampling.name``).
RANDOM_STRATEGY = "random"

#: Fractions of the full-pool accuracy a run is asked to reach, keyed by their name in the summary.
TARGETS: dict[str, float] = {"95": 0.95, "99": 0.99}


def _curve(n_labelled: Sequence[int], scores: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(n_labelled, dtype=np.float64)
    y = np.asarray(scores, dtype=np.float64)
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape:
        raise DataError(
            f"n_labelled and scores must be 1-D and of equal length, got {len(x)} and {len(y)} values"
        )
    if x.size > 1 and np.any(np.diff(x) < 0):
        raise DataError(f"n_labelled must be non-decreasing (one value per loop, in order), got {x.tolist()}")
    return x, y


def aulc(n_labelled: Sequence[int], scores: Sequence[float]) -> float:
    """Normalised area under the learning curve.

    The trapezoid area over the labels axis divided by the labels range, i.e. the mean
    score over the labelling budget, so it lies in [0, 1] for accuracy. Uneven spacing
    between loops is weighted by the labels each loop bought. A single point (or a curve
    whose labels never grow) returns the mean of its scores. Runs are comparable only when
    they span the same labels range.

    >>> aulc([10, 20, 30], [0.5, 0.5, 0.5])
    0.5
    >>> aulc([0, 100], [0.0, 1.0])
    0.5
    """
    x, y = _curve(n_labelled, scores)
    if x.size == 0:
        raise DataError("aulc: the curve is empty; expected at least one (n_labelled, score) point")
    span = x[-1] - x[0]
    if span == 0:
        return float(y.mean())
    return float(np.sum((y[1:] + y[:-1]) / 2.0 * np.diff(x)) / span)


def labels_to_reach(n_labelled: Sequence[int], scores: Sequence[float], target: float) -> int | None:
    """First ``n_labelled`` whose score is at least ``target``; ``None`` if the curve never gets there.

    >>> labels_to_reach([10, 20, 30], [0.6, 0.8, 0.9], 0.8)
    20
    """
    x, y = _curve(n_labelled, scores)
    reached = np.flatnonzero(y >= target)  # NaN scores and a NaN target never count as reached
    return int(x[reached[0]]) if reached.size else None


def _finite(value: float | None) -> float | None:
    # Keep the summary strict-JSON-ready: NaN and infinities become null.
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    arr = np.asarray(values, dtype=np.float64)
    # Sample standard deviation over seeds: the seeds are a sample of what the strategy does.
    std = float(arr.std(ddof=1)) if arr.size > 1 else None
    return _finite(float(arr.mean())), _finite(std)


def _run_summary(run: RunResult) -> dict[str, Any]:
    n = [p.n_labelled for p in run.loops]
    acc = [p.accuracy for p in run.loops]
    entry: dict[str, Any] = {
        "run_id": run.run_id,
        "strategy": run.strategy,
        "seed": run.seed,
        "aulc": _finite(aulc(n, acc)),
        "final_accuracy": _finite(acc[-1]),
    }
    for key, fraction in TARGETS.items():
        full = run.full_pool_accuracy
        # A share of a score below zero (-RMSE) would be a target above the full pool's: no such target.
        reachable = full is not None and full > 0
        entry[f"labels_to_{key}"] = labels_to_reach(n, acc, fraction * full) if reachable else None  # type: ignore[operator]
    entry["full_pool_accuracy"] = _finite(run.full_pool_accuracy)
    entry["curve"] = [
        {"labels": p.n_labelled, "accuracy": _finite(p.accuracy), "macro_f1": _finite(p.macro_f1)}
        for p in run.loops
    ]
    return entry


def _strategy_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"n_seeds": len(runs), "seeds": sorted(r["seed"] for r in runs)}
    for name in ("aulc", "final_accuracy"):
        values = [r[name] for r in runs if r[name] is not None]
        out[f"{name}_mean"], out[f"{name}_std"] = _mean_std(values)
    for key in TARGETS:
        reached = [r[f"labels_to_{key}"] for r in runs if r[f"labels_to_{key}"] is not None]
        out[f"labels_to_{key}_mean"] = float(np.mean(reached)) if reached else None
        out[f"reached_{key}"] = len(reached)
    return out


def _saving(strategy: dict[str, Any], random: dict[str, Any] | None, key: str) -> float | None:
    # Compared only when every seed of both strategies reached the target: a mean over the
    # seeds that happened to get there would flatter whichever strategy failed more often.
    if random is None:
        return None
    if any(s[f"reached_{key}"] < s["n_seeds"] for s in (strategy, random)):
        return None
    if not random[f"labels_to_{key}_mean"]:  # random reached it with no labels: nothing to save
        return None
    return 1.0 - float(strategy[f"labels_to_{key}_mean"]) / float(random[f"labels_to_{key}_mean"])


def summarise(results: list[RunResult]) -> dict[str, Any]:
    """Summarise runs of one dataset per strategy and per run, ready for ``json.dump``.

    Accuracy targets are 95% and 99% of each run's own ``full_pool_accuracy``.
    ``aulc_std`` and ``final_accuracy_std`` are sample standard deviations over seeds
    (``ddof=1``), ``None`` with a single seed. ``labels_to_95_mean`` averages the seeds that
    reached the target (``reached_95`` of ``n_seeds``); ``saving_vs_random_95`` is the
    fraction of labels saved against the ``"random"`` strategy (positive: fewer labels than
    random), ``None`` unless random is present and every seed of both reached the target.
    Strategies keep the order in which they first appear in ``results``.
    """
    results = check_results(results)
    runs = [_run_summary(run) for run in results]
    by_strategy: dict[str, list[dict[str, Any]]] = {}
    for entry in runs:
        by_strategy.setdefault(entry["strategy"], []).append(entry)
    strategies = {name: _strategy_summary(group) for name, group in by_strategy.items()}
    random = strategies.get(RANDOM_STRATEGY)
    for stats in strategies.values():
        for key in TARGETS:
            stats[f"saving_vs_random_{key}"] = _saving(stats, random, key)
    task = results[0].task
    score, second = headline(task)
    return {
        "dataset": results[0].dataset,
        "task": task,
        "metrics": {"score": score, "second": second},
        "strategies": strategies,
        "runs": runs,
    }

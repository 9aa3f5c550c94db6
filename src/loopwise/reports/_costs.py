"""The cost ledger of a run (labels and compute, per loop and running) and the break-even against random and full labelling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from loopwise.reports._results import LoopPoint, RunResult

#: The steps whose compute active learning pays for; EVALUATE is the simulation's own bookkeeping.
COMPUTE_STEPS = ("train", "infer", "select")
_SECONDS_PER_HOUR = 3600.0


def cpu_seconds(point: LoopPoint) -> dict[str, float]:
    """Process CPU seconds of TRAIN, INFER and SELECT in one loop (0 for a step a loop did not run)."""
    return {step: float(point.timings.get(f"{step}_cpu", 0.0)) for step in COMPUTE_STEPS}


def gpu_seconds(point: LoopPoint) -> float | None:
    """CUDA seconds of the loop's compute steps; ``None`` when no step ran on a GPU."""
    values = [point.timings[f"{step}_gpu"] for step in COMPUTE_STEPS if f"{step}_gpu" in point.timings]
    return float(sum(values)) if values else None


def ledger(run: RunResult) -> list[dict[str, Any]]:
    """One entry per loop: labels bought and their cost, CPU (and GPU) seconds by step, compute cost, running totals.

    Compute is priced at ``run.compute_rate`` per CPU hour; a GPU second, where there is one,
    is reported but not priced (no rate is given for it).
    """
    rows = []
    labels_total = cost_total = cpu_total = compute_total = people_total = 0.0
    measured_any = False
    previous = 0
    for point in run.loops:
        cpu = cpu_seconds(point)
        loop_cpu = sum(cpu.values())
        compute_cost = loop_cpu / _SECONDS_PER_HOUR * run.compute_rate
        bought = point.n_labelled - previous
        previous = point.n_labelled
        labels_total += bought
        cost_total += point.label_cost
        cpu_total += loop_cpu
        compute_total += compute_cost
        people = point.timings.get("annotator_seconds")  # server loops: the annotators' measured time
        if people is not None:
            measured_any = True
            people_total += float(people)
        rows.append(
            {
                "loop_index": point.loop_index,
                "labels": bought,
                "label_cost": point.label_cost,
                "cpu_seconds": cpu,
                "gpu_seconds": gpu_seconds(point),
                "compute_cost": compute_cost,
                "total_labels": int(labels_total),
                "total_label_cost": cost_total,
                "total_cpu_seconds": cpu_total,
                "total_compute_cost": compute_total,
                "total_cost": cost_total + compute_total,
                "annotator_seconds": None if people is None else float(people),
                "total_annotator_seconds": people_total if measured_any else None,
                "accuracy": point.accuracy,
            }
        )
    return rows


def ledger_totals(run: RunResult) -> dict[str, Any]:
    """The last running totals of ``ledger(run)``, plus the CPU seconds of each step over the run."""
    rows = ledger(run)
    by_step = {step: float(sum(r["cpu_seconds"][step] for r in rows)) for step in COMPUTE_STEPS}
    gpu = [r["gpu_seconds"] for r in rows if r["gpu_seconds"] is not None]
    last = rows[-1] if rows else {}
    return {
        "labels": last.get("total_labels", 0),
        "label_cost": last.get("total_label_cost", 0.0),
        "cpu_seconds": last.get("total_cpu_seconds", 0.0),
        "cpu_seconds_by_step": by_step,
        "gpu_seconds": float(sum(gpu)) if gpu else None,
        "compute_rate": run.compute_rate,
        "compute_cost": last.get("total_compute_cost", 0.0),
        "total_cost": last.get("total_cost", 0.0),
        "full_label_cost": run.full_label_cost,
        "annotator_seconds": last.get("total_annotator_seconds"),
    }


def cost_to_reach(run: RunResult, fraction: float = 0.95) -> dict[str, float] | None:
    """Label and compute cost spent up to the first loop at ``fraction`` of full-pool accuracy; ``None`` if never."""
    if run.full_pool_accuracy is None or run.full_pool_accuracy <= 0:  # a share of -RMSE is no target
        return None
    target = fraction * run.full_pool_accuracy
    for row in ledger(run):
        if row["accuracy"] >= target:
            return {
                "labels": float(row["total_labels"]),
                "label_cost": float(row["total_label_cost"]),
                "compute_cost": float(row["total_compute_cost"]),
                "cpu_seconds": float(row["total_cpu_seconds"]),
            }
    return None


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values))


def break_even(results: Sequence[RunResult], fraction: float = 0.95, random: str = "random") -> dict[str, Any]:
    """Per strategy: what reaching ``fraction`` of full-pool accuracy cost (mean over the seeds that reached it).

    Each entry holds ``label_cost``, ``compute_cost`` and ``labels`` (means over reaching
    seeds), ``reached``/``n_seeds``, the same figures of the ``random`` strategy when it
    ran (``random_label_cost`` ...), and ``full_label_cost``, labelling the whole pool.
    """
    groups: dict[str, list[RunResult]] = {}
    for run in results:
        groups.setdefault(run.strategy, []).append(run)
    out: dict[str, Any] = {}
    for name, runs in groups.items():
        reached = [c for c in (cost_to_reach(r, fraction) for r in runs) if c is not None]
        full = [r.full_label_cost for r in runs if r.full_label_cost is not None]
        out[name] = {
            "n_seeds": len(runs),
            "reached": len(reached),
            "labels": _mean([c["labels"] for c in reached]) if reached else None,
            "label_cost": _mean([c["label_cost"] for c in reached]) if reached else None,
            "compute_cost": _mean([c["compute_cost"] for c in reached]) if reached else None,
            "cpu_seconds": _mean([c["cpu_seconds"] for c in reached]) if reached else None,
            "full_label_cost": _mean(full) if full else None,
        }
    base = out.get(random)
    for entry in out.values():
        for key in ("labels", "label_cost", "compute_cost"):
            entry[f"random_{key}"] = None if base is None else base[key]
        entry["random_reached"] = None if base is None else base["reached"]
    return out


def break_even_sentence(strategy: str, entry: dict[str, Any], fraction: float = 0.95, currency: str = "") -> str:
    """The break-even line of one strategy in words, as the HTML report and ``runs show`` print it."""
    pct = f"{fraction * 100:g}%"

    def money(value: float | None) -> str:
        if value is None:
            return "n/a"
        # Compute often costs cents: keep four significant digits below one unit of money.
        return f"{currency}{value:,.2f}" if abs(value) >= 1 else f"{currency}{value:.4g}"

    if entry["label_cost"] is None:
        head = f"{strategy}: no run reached {pct} of full-pool accuracy"
    else:
        head = (
            f"{strategy}: to reach {pct} of full-pool accuracy this run spent {money(entry['label_cost'])} on labels "
            f"and {money(entry['compute_cost'])} on compute ({entry['reached']} of {entry['n_seeds']} seeds reached it)"
        )
    parts = [head]
    if entry.get("random_reached") is not None and strategy != "random":
        parts.append(
            f"random needed {money(entry['random_label_cost'])} on labels"
            if entry["random_label_cost"] is not None
            else "random never reached it"
        )
    if entry["full_label_cost"] is not None:
        parts.append(f"labelling everything would cost {money(entry['full_label_cost'])}")
    return "; ".join(parts) + "."

"""Summarise benchmarks/cost/results.jsonl: per dataset, learner and option against scratch, and stopping vs the oracle.

    .venv/bin/python benchmarks/cost/summarise.py benchmarks/cost/results.jsonl > benchmarks/cost/summary.md

Several JSONL files may be given; the JSON summary goes to $COST_SUMMARY, else results.json beside the first.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from loopwise.core import LoopRecord
from loopwise.stopping import CostAwareStop, hindsight_best_loop, hindsight_stop_loop

#: What one accuracy point is worth, in labels (each label costs 1; compute priced at 0).
VALUES_PER_POINT = (5.0, 20.0, 50.0, 100.0)


def _mean(values: list[float]) -> float:
    return float(np.mean(values))


def summarise(cells: list[dict[str, Any]]) -> dict[str, Any]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for c in cells:
        groups[(c["learner"], c["dataset"], c["option"])].append(c)
    rows = []
    for (learner, dataset, option), runs in sorted(groups.items()):
        base = groups.get((learner, dataset, "scratch"))
        if not base:
            continue
        seeds = sorted({r["seed"] for r in runs} & {r["seed"] for r in base})
        mine = [r for r in runs if r["seed"] in seeds]
        ref = [r for r in base if r["seed"] in seeds]
        rows.append({
            "learner": learner, "dataset": dataset, "option": option, "n_seeds": len(seeds),
            "final_accuracy": _mean([r["final_accuracy"] for r in mine]),
            "accuracy_diff_points": 100 * (_mean([r["final_accuracy"] for r in mine]) - _mean([r["final_accuracy"] for r in ref])),
            "aulc": _mean([r["aulc"] for r in mine]),
            "aulc_diff_points": 100 * (_mean([r["aulc"] for r in mine]) - _mean([r["aulc"] for r in ref])),
            "train_cpu_s": _mean([r["train_cpu_total"] for r in mine]),
            "train_cpu_ratio": _mean([r["train_cpu_total"] for r in mine]) / _mean([r["train_cpu_total"] for r in ref]),
            "compute_cpu_ratio": _mean([r["compute_cpu_total"] for r in mine]) / _mean([r["compute_cpu_total"] for r in ref]),
            "reached_95": sum(r["labels_to_95"] is not None for r in mine),
            "labels_to_95": _mean([r["labels_to_95"] for r in mine if r["labels_to_95"] is not None]) if any(r["labels_to_95"] is not None for r in mine) else None,
            "cpu_to_95": _mean([r["cpu_to_95"] for r in mine if r["cpu_to_95"] is not None]) if any(r["cpu_to_95"] is not None for r in mine) else None,
        })
    stopping = []
    for c in cells:
        if c["option"] != "scratch":
            continue
        # Recomputed from the stored curve (labels, accuracy, train CPU): the rule is pure over recorded loops.
        records = [
            LoopRecord(loop_index=i, strategy="margin", positions=np.arange(0), ids=np.arange(0).astype(str),
                       labels=np.arange(0), n_labelled=n, metrics={"accuracy": a}, timings={"train_cpu": t},
                       stop_predictions=np.zeros(1, dtype=np.int64))
            for i, (n, a, t) in enumerate(zip(c["labels"], c["accuracy"], c["train_cpu"], strict=True))
        ]
        for value in VALUES_PER_POINT:
            rule = CostAwareStop(value_per_point=value, label_cost=1.0, compute_rate=0.0)
            fired = next((k for k in range(1, len(records) + 1) if rule.should_stop(records[:k])), len(records))
            # The oracle: the first loop whose next gain on the fitted whole test curve is worth less than it costs.
            oracle = hindsight_stop_loop(records, value, label_cost=1.0)
            best = hindsight_best_loop(records, value, label_cost=1.0)  # the net-value argmax, for comparison
            stopping.append({"learner": c["learner"], "dataset": c["dataset"], "seed": c["seed"], "value_per_point": value,
                             "stopped_after_loop": fired - 1, "oracle_loop": oracle, "argmax_loop": best,
                             "n_loops": len(records), "within_one": abs(fired - 1 - oracle) <= 1,
                             "within_one_of_argmax": abs(fired - 1 - best) <= 1})
    return {"options": rows, "savings": _savings(rows), "stopping": stopping, "stopping_counts": _stopping_counts(stopping)}


def _savings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per learner and option: datasets where it kept scratch's final accuracy (within 0.5 points) on at most half its TRAIN CPU."""
    out = []
    for learner, option in sorted({(r["learner"], r["option"]) for r in rows if r["option"] != "scratch"}):
        group = [r for r in rows if r["learner"] == learner and r["option"] == option]
        met = [r["dataset"] for r in group if r["accuracy_diff_points"] >= -0.5 and r["train_cpu_ratio"] <= 0.5]
        out.append({"learner": learner, "option": option, "n_datasets": len(group), "datasets_met": met,
                    "min_seeds": min(r["n_seeds"] for r in group)})
    return out


def _stopping_counts(stopping: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per learner and value: datasets where every run stopped within one loop of the oracle, and runs that did."""
    counts = []
    for learner in sorted({s["learner"] for s in stopping}):
        for value in VALUES_PER_POINT:
            group = [s for s in stopping if s["learner"] == learner and s["value_per_point"] == value]
            by_dataset: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for s in group:
                by_dataset[s["dataset"]].append(s)
            counts.append({
                "learner": learner, "value_per_point": value, "n_datasets": len(by_dataset),
                "datasets_every_run_within_one": sum(all(s["within_one"] for s in runs) for runs in by_dataset.values()),
                "runs_within_one": sum(s["within_one"] for s in group), "n_runs": len(group),
                "runs_within_one_of_argmax": sum(s["within_one_of_argmax"] for s in group),
                "runs_stopped_before_the_end": sum(s["stopped_after_loop"] < s["n_loops"] - 1 for s in group),
                "runs_oracle_before_the_end": sum(s["oracle_loop"] < s["n_loops"] - 1 for s in group),
            })
    return counts


def markdown(summary: dict[str, Any]) -> str:
    out = ["| learner | dataset | option | seeds | final acc | Δ acc (pts) | AULC | Δ AULC (pts) | train CPU s | CPU ratio | all-compute ratio | labels to 95% | CPU s to 95% |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in summary["options"]:
        l95 = "never" if r["labels_to_95"] is None else f"{r['labels_to_95']:.0f}"
        c95 = "–" if r["cpu_to_95"] is None else f"{r['cpu_to_95']:.1f}"
        out.append(f"| {r['learner']} | {r['dataset']} | {r['option']} | {r['n_seeds']} | {r['final_accuracy']:.3f} | "
                   f"{r['accuracy_diff_points']:+.2f} | {r['aulc']:.3f} | {r['aulc_diff_points']:+.2f} | {r['train_cpu_s']:.1f} | "
                   f"{r['train_cpu_ratio']:.2f} | {r['compute_cpu_ratio']:.2f} | {l95} | {c95} |")
    out.append("")
    for c in summary["savings"]:
        out.append(f"- {c['learner']} `{c['option']}`: within 0.5 points of scratch's final accuracy at <= 0.5x its TRAIN CPU on "
                   f"{len(c['datasets_met'])} of {c['n_datasets']} datasets ({', '.join(c['datasets_met']) or 'none'}); "
                   f"at least {c['min_seeds']} seeds a dataset")
    out.append("")
    out.append("| learner | value per point | datasets: every run within one loop | runs within one loop | "
               "runs within one of the net-value argmax | runs the rule stopped early | runs the oracle stopped early |")
    out.append("|---|---|---|---|---|---|---|")
    for c in summary["stopping_counts"]:
        out.append(f"| {c['learner']} | {c['value_per_point']:g} | {c['datasets_every_run_within_one']} of {c['n_datasets']} | "
                   f"{c['runs_within_one']} of {c['n_runs']} | {c['runs_within_one_of_argmax']} of {c['n_runs']} | "
                   f"{c['runs_stopped_before_the_end']} | {c['runs_oracle_before_the_end']} |")
    out.append("")
    out.append("| learner | dataset | seed | value per point | stopped after loop | oracle loop | net-value argmax | loops run | within one |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for s in summary["stopping"]:
        out.append(f"| {s['learner']} | {s['dataset']} | {s['seed']} | {s['value_per_point']:g} | {s['stopped_after_loop']} | "
                   f"{s['oracle_loop']} | {s['argmax_loop']} | {s['n_loops']} | {'yes' if s['within_one'] else 'no'} |")
    return "\n".join(out) + "\n"


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or [Path(__file__).with_name("results.jsonl")]
    out = Path(os.environ.get("COST_SUMMARY", paths[0].with_name("results.json")))
    cells = [json.loads(line) for path in paths for line in path.read_text().splitlines() if line.strip()]
    summary = summarise(cells)
    out.write_text(json.dumps(summary, indent=1) + "\n")
    sys.stdout.write(markdown(summary))


if __name__ == "__main__":
    main()

"""Summarise benchmarks/cost/results.jsonl: per dataset, learner and option against scratch, and stopping vs the oracle.

    .venv/bin/python benchmarks/cost/summarise.py benchmarks/cost/results.jsonl > benchmarks/cost/summary.md

Also writes benchmarks/cost/results.json (the same figures for machines).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from loopwise.core import LoopRecord
from loopwise.stopping import CostAwareStop, hindsight_best_loop

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
            oracle = hindsight_best_loop(records, value, label_cost=1.0)
            stopping.append({"learner": c["learner"], "dataset": c["dataset"], "seed": c["seed"], "value_per_point": value,
                             "stopped_after_loop": fired - 1, "oracle_loop": oracle, "n_loops": len(records),
                             "within_one": abs(fired - 1 - oracle) <= 1})
    return {"options": rows, "stopping": stopping}


def markdown(summary: dict[str, Any]) -> str:
    out = ["| learner | dataset | option | seeds | final acc | Δ acc (pts) | AULC | Δ AULC (pts) | train CPU s | CPU ratio | labels to 95% | CPU s to 95% |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in summary["options"]:
        l95 = "never" if r["labels_to_95"] is None else f"{r['labels_to_95']:.0f}"
        c95 = "–" if r["cpu_to_95"] is None else f"{r['cpu_to_95']:.1f}"
        out.append(f"| {r['learner']} | {r['dataset']} | {r['option']} | {r['n_seeds']} | {r['final_accuracy']:.3f} | "
                   f"{r['accuracy_diff_points']:+.2f} | {r['aulc']:.3f} | {r['aulc_diff_points']:+.2f} | {r['train_cpu_s']:.1f} | "
                   f"{r['train_cpu_ratio']:.2f} | {l95} | {c95} |")
    out.append("")
    out.append("| learner | dataset | seed | value per point | stopped after loop | oracle loop | loops run | within one |")
    out.append("|---|---|---|---|---|---|---|---|")
    for s in summary["stopping"]:
        out.append(f"| {s['learner']} | {s['dataset']} | {s['seed']} | {s['value_per_point']:g} | {s['stopped_after_loop']} | "
                   f"{s['oracle_loop']} | {s['n_loops']} | {'yes' if s['within_one'] else 'no'} |")
    out.append("")
    for value in VALUES_PER_POINT:
        for learner in sorted({s["learner"] for s in summary["stopping"]}):
            group = [s for s in summary["stopping"] if s["value_per_point"] == value and s["learner"] == learner]
            hits = sum(s["within_one"] for s in group)
            out.append(f"- {learner}, value {value:g} per accuracy point: within one loop of the oracle on {hits} of {len(group)} runs")
    return "\n".join(out) + "\n"


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("results.jsonl"))
    cells = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    summary = summarise(cells)
    path.with_name("results.json").write_text(json.dumps(summary, indent=1) + "\n")
    sys.stdout.write(markdown(summary))


if __name__ == "__main__":
    main()

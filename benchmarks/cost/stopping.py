"""Cost-aware stopping without test labels, replayed from stored runs: the rule's loop against the hindsight oracle's.

Reads cells of benchmarks/cost/run.py (scratch runs; cells carry `stop_change`, the share of the fixed stop set
whose predicted class changed each loop). The rule (`ChangeBoundStop`) sees only those changes and the prices;
the oracle (`hindsight_stop_loop`) the whole test curve, for scoring only. Beside it: the test-curve rule
(`CostAwareStop`, the reference that reads the test set), "never stop" and "stop at once".

    .venv/bin/python benchmarks/cost/stopping.py --tune benchmarks/results/cost_logreg_stopping.jsonl   # choose the constants
    .venv/bin/python benchmarks/cost/stopping.py benchmarks/results/cost_logreg_stopping.jsonl \\
        benchmarks/results/cost_mlp_stopping.jsonl > benchmarks/cost/summary_stopping.md

Constants are chosen (--tune) on the tuning split only: logreg, the datasets of TUNING_DATASETS, seeds 0-4.
Everything else (those datasets' seeds 5-9, the other five datasets, every mlp run) is held out.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from loopwise.core import LoopRecord
from loopwise.stopping import ChangeBoundStop, CostAwareStop, StoppingCriterion, hindsight_stop_loop

#: What one accuracy point is worth, in labels (a label costs 1; compute priced at 0).
VALUES_PER_POINT = (5.0, 20.0, 50.0, 100.0)
#: Every other dataset of benchmarks/quality.toml's order, fixed before any rule was scored.
TUNING_DATASETS = ("sms_spam", "trec", "letter", "covertype", "mnist")
TUNING_SEEDS = range(5)
N_STOP = 1000  # run.py's stop set: min(1000, pool of 2,000)


def records_of(cell: dict[str, Any]) -> list[LoopRecord]:
    """The stored curve as loop records: test accuracy, and stop-set predictions that change by the stored shares."""
    predictions = np.zeros(N_STOP, dtype=np.int64)
    out = []
    for k, (n, accuracy) in enumerate(zip(cell["labels"], cell["accuracy"], strict=True)):
        if k:
            moved = cell["stop_change"][k] * N_STOP
            if abs(moved - round(moved)) > 1e-6:
                raise ValueError(f"{cell['dataset']} seed {cell['seed']}: stop_change {cell['stop_change'][k]} is not a share of {N_STOP}")
            predictions = predictions.copy()
            predictions[: round(moved)] += 1
        out.append(LoopRecord(loop_index=k, strategy="margin", positions=np.arange(0), ids=np.arange(0).astype(str),
                              labels=np.arange(0), n_labelled=n, metrics={"accuracy": accuracy}, timings={},
                              stop_predictions=predictions))
    return out


def fired(rule: StoppingCriterion | None, records: list[LoopRecord]) -> int:
    """The last loop run: where the rule first says stop, else the last loop (``None``: stop after loop 0)."""
    if rule is None:
        return 0
    return next((k for k in range(1, len(records) + 1) if rule.should_stop(records[:k])), len(records)) - 1


def split(cell: dict[str, Any]) -> str:
    """Which part of the benchmark a run belongs to."""
    if cell["learner"] != "logreg":
        return "held out (mlp)"
    if cell["dataset"] in TUNING_DATASETS:
        return "tuning" if cell["seed"] in TUNING_SEEDS else "tuning datasets, seeds 5-9"
    return "held-out datasets"


RULES: dict[str, Callable[[float, dict[str, Any]], StoppingCriterion | None]] = {
    "ChangeBoundStop (label-free)": lambda v, kw: ChangeBoundStop(value_per_point=v, **kw),
    "CostAwareStop, test curve (reads the test set)": lambda v, kw: CostAwareStop(value_per_point=v),
    "never stop": lambda v, kw: ChangeBoundStop(value_per_point=0.0, useful_share=1.0, window=1, min_loops=10**6),
    "stop at once": lambda v, kw: None,
}


def score(cells: list[dict[str, Any]], make: Callable[[float], StoppingCriterion | None]) -> dict[float, dict[str, Any]]:
    """Per value: per dataset the (rule, oracle) loops of every run, datasets with every run within one, runs within one."""
    out = {}
    for value in VALUES_PER_POINT:
        by: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for c in cells:
            by[c["dataset"]].append((fired(make(value), c["records"]), c["oracle"][value]))
        out[value] = {"runs": dict(by), "datasets_within_one": sum(all(abs(f - o) <= 1 for f, o in r) for r in by.values()),
                      "n_datasets": len(by), "runs_within_one": sum(abs(f - o) <= 1 for r in by.values() for f, o in r),
                      "n_runs": sum(len(r) for r in by.values()),
                      "datasets_met": sorted(d for d, r in by.items() if all(abs(f - o) <= 1 for f, o in r))}
    return out


def compact(cells: list[dict[str, Any]], kw: dict[str, Any]) -> list[str]:
    """One row per learner and dataset: the label-free rule's runs within one loop, per value."""
    rows = []
    for learner in sorted({c["learner"] for c in cells}, key=lambda name: name != "logreg"):
        s = score([c for c in cells if c["learner"] == learner], lambda v: ChangeBoundStop(value_per_point=v, **kw))
        for dataset in sorted(s[VALUES_PER_POINT[0]]["runs"]):
            cells_ = []
            for value in VALUES_PER_POINT:
                runs = s[value]["runs"][dataset]
                ok = sum(abs(f - o) <= 1 for f, o in runs)
                cells_.append(f"{'**' if ok == len(runs) else ''}{ok} of {len(runs)}{'**' if ok == len(runs) else ''}")
            rows.append(f"| {learner} | {dataset} | " + " | ".join(cells_) + " |")
    return rows


GRID = {"useful_share": (0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4), "window": (1, 2, 3), "min_loops": (2, 3, 4, 5)}


def tune(cells: list[dict[str, Any]]) -> list[tuple[int, int, dict[str, Any]]]:
    """The grid on the tuning split, best first: datasets within one summed over the values, then runs."""
    results = []
    for share, window, min_loops in itertools.product(*GRID.values()):
        if min_loops < window + 1:
            continue
        kw = {"useful_share": share, "window": window, "min_loops": min_loops}
        s = score(cells, lambda v, kw=kw: ChangeBoundStop(value_per_point=v, **kw))
        results.append((sum(x["datasets_within_one"] for x in s.values()), sum(x["runs_within_one"] for x in s.values()), kw))
    return sorted(results, key=lambda r: (-r[0], -r[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--tune", action="store_true", help="print the grid on the tuning split and stop")
    args = parser.parse_args()
    cells = [json.loads(line) for p in args.paths for line in p.read_text().splitlines() if line.strip()]
    cells = [c for c in cells if c["option"] == "scratch" and "stop_change" in c]
    for c in cells:
        c["records"] = records_of(c)
        c["oracle"] = {v: hindsight_stop_loop(c["records"], v, label_cost=1.0) for v in VALUES_PER_POINT}
    if args.tune:
        for datasets, runs, kw in tune([c for c in cells if split(c) == "tuning"])[:15]:
            print(f"{datasets:3d} datasets {runs:4d} runs  {kw}")
        return
    kw: dict[str, Any] = {}  # ChangeBoundStop's defaults are the tuned constants
    out = [f"Rule constants: ChangeBoundStop defaults {json.dumps({k: v for k, v in vars(ChangeBoundStop(1.0)).items() if k in GRID})}; "
           "a label costs 1, compute 0; one accuracy point is worth V labels. \"Within one\": |rule's loop - oracle's loop| <= 1.", ""]
    out.append("| part | learner | rule | V | datasets: every run within one loop | runs within one loop | datasets met |")
    out.append("|---|---|---|---|---|---|---|")
    parts = ["tuning", "tuning datasets, seeds 5-9", "held-out datasets", "all logreg", "held out (mlp)"]
    detail = []
    for part in parts:
        group = [c for c in cells if (c["learner"] == "logreg" if part == "all logreg" else split(c) == part)]
        if not group:
            continue
        for name, make in RULES.items():
            s = score(group, lambda v, make=make: make(v, kw))
            for value, x in s.items():
                out.append(f"| {part} | {group[0]['learner']} | {name} | {value:g} | {x['datasets_within_one']} of {x['n_datasets']} | "
                           f"{x['runs_within_one']} of {x['n_runs']} | {', '.join(x['datasets_met']) or '–'} |")
                if name.startswith("ChangeBound") and part in ("all logreg", "held out (mlp)"):
                    for dataset, runs in sorted(x["runs"].items()):
                        detail.append(f"| {group[0]['learner']} | {dataset} | {value:g} | "
                                      f"{' '.join(f'{f}/{o}' for f, o in runs)} | {sum(abs(f - o) <= 1 for f, o in runs)} of {len(runs)} |")
    out += ["", "ChangeBoundStop per dataset: runs within one loop of the oracle, of the dataset's runs, at each V.", "",
            "| learner | dataset | " + " | ".join(f"V = {v:g}" for v in VALUES_PER_POINT) + " |",
            "|---|---|" + "---|" * len(VALUES_PER_POINT), *compact(cells, kw)]
    out += ["", "ChangeBoundStop per dataset: rule's loop / oracle's loop for each seed (seeds in file order).", "",
            "| learner | dataset | V | rule / oracle per run | runs within one |", "|---|---|---|---|---|", *detail]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()

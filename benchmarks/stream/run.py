"""Stream benchmark: budget managers at 10% of the stream vs labelling a random 10%, prequential accuracy.

Usage: nice -n 10 .venv/bin/python benchmarks/stream/run.py [--limit 5000] [--seeds 10] [--workers 2]
Writes benchmarks/results/stream.json and prints progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

DATASETS = ("elec2", "covertype", "adult", "bank_marketing")
# Managers whose decisions use no random draw give the same run for every seed (SGD on one row at a
# time draws nothing either), so they run once; the randomised ones run with every seed.
DETERMINISTIC = ("fixed_uncertainty", "variable_uncertainty", "biqf")
RANDOMISED = ("random", "randomized_variable_uncertainty", "split")


def one(task: tuple[str, int | None, str, float, int]) -> dict[str, Any]:
    """One run: a dataset's stream, a manager, a seed; its final prequential accuracy and labels spent."""
    from loopwise.stream import IncrementalLearner, Prequential, StreamState, make_manager, simulate_stream
    from loopwise.stream._data import load_stream

    name, limit, manager, budget, seed = task
    data = load_stream(name, limit)
    state = StreamState(IncrementalLearner("sgd", len(data.label_names), seed), make_manager(manager, budget), Prequential(1000))
    start = time.perf_counter()
    curve = simulate_stream(data.X, data.y, state, seed=seed, chunk=1000)
    return {
        "dataset": name, "order": data.order, "n_records": len(data.X), "manager": manager, "seed": seed,
        "final_accuracy": curve[-1]["accuracy"], "labels_spent": state.n_labelled,
        "label_rate": state.n_labelled / len(data.X), "seconds": time.perf_counter() - start,
        "curve": [{k: m[k] for k in ("n_seen", "accuracy", "window_accuracy", "labels_spent")} for m in curve],
    }


def main() -> None:
    """Run every (dataset, manager, seed) cell and write the summary JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/stream.json")
    args = parser.parse_args()
    tasks = [(d, args.limit, m, args.budget, s) for d in DATASETS for m in RANDOMISED for s in range(args.seeds)]
    tasks += [(d, args.limit, m, args.budget, 0) for d in DATASETS for m in DETERMINISTIC]
    runs = []
    with ProcessPoolExecutor(args.workers) as pool:
        for i, run in enumerate(pool.map(one, tasks), 1):
            runs.append(run)
            print(f"[{i}/{len(tasks)}] {run['dataset']} {run['manager']} seed {run['seed']}: "
                  f"acc {run['final_accuracy']:.4f} labels {run['label_rate']:.3f} ({run['seconds']:.1f}s)", file=sys.stderr, flush=True)
    summary: dict[str, Any] = {}
    for d in DATASETS:
        cells = {m: [r for r in runs if r["dataset"] == d and r["manager"] == m] for m in RANDOMISED + DETERMINISTIC}
        random_mean = float(np.mean([r["final_accuracy"] for r in cells["random"]]))
        summary[d] = {
            "order": cells["random"][0]["order"], "n_records": cells["random"][0]["n_records"],
            "managers": {
                m: {
                    "runs": len(rs),
                    "mean_final_accuracy": float(np.mean([r["final_accuracy"] for r in rs])),
                    "std_final_accuracy": float(np.std([r["final_accuracy"] for r in rs])),
                    "mean_label_rate": float(np.mean([r["label_rate"] for r in rs])),
                    "beats_random": bool(np.mean([r["final_accuracy"] for r in rs]) > random_mean) if m != "random" else None,
                }
                for m, rs in cells.items()
            },
        }
    out = {
        "command": " ".join(["benchmarks/stream/run.py", *sys.argv[1:]]),
        "budget": args.budget, "seeds": args.seeds, "limit": args.limit, "learner": "SGDClassifier(log_loss), running StandardScaler",
        "summary": summary, "runs": runs,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

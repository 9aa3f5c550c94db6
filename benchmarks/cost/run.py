"""What the compute-saving retrain options and adaptive loop sizes cost and give, against scratch with fixed loops.

For each dataset of benchmarks/quality.toml (its protocol: pool 2,000, margin sampling, 20 + 20 a loop),
each learner (logreg, mlp) and each option, one run per seed records final accuracy, AULC, TRAIN CPU seconds
(process CPU time from the loop's ledger), labels and CPU seconds to 95% of full-pool accuracy; on the scratch
runs, cost-aware stopping is compared with the hindsight oracle. Every cell also carries the label-free
and label-only signals that stopping without a test set reads (`stop_change`, `batch_accuracy`, the
`batch_*` flip counts; with --cv, `cv_accuracy`), replayed by benchmarks/cost/stopping.py. One JSON line
per cell, appended to --out, so an interrupted run continues where it stopped.

    nice -n 10 .venv/bin/python benchmarks/cost/run.py --seeds 1 --out benchmarks/cost/results.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from loopwise.bench._plan import load_plan
from loopwise.bench._protocol import prepared
from loopwise.core import Pool
from loopwise.evaluation import evaluate
from loopwise.labeling import SimulatedOracle
from loopwise.learners import as_learner, make_estimator
from loopwise.loop import AdaptiveSchedule, FixedSchedule, GivenIds, Loop, ProxySelection, SEALSCandidates, run_simulation
from loopwise.reports import aulc
from loopwise.stopping import CostAwareStop, hindsight_best_loop, label_only_accuracy

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = {
    "logreg": ["scratch", "warm", "adaptive", "seals"],
    "mlp": ["scratch", "warm", "warm_sp", "adaptive", "proxy", "seals"],
}
VALUES_PER_POINT = (5.0, 10.0)
PROXY_PARAMS: dict[str, Any] = {"epochs": 15, "min_steps": 60, "warm_start": True}  # what one accuracy point is worth, in labels (each label costs 1)


def _model(learner: str, option: str, seed: int) -> Any:
    model = make_estimator(learner, seed=seed)
    if learner == "mlp" and option in ("warm", "warm_sp"):
        # A continued fit of a quarter of the epochs; shrink-and-perturb keeps the warm start plastic.
        model.set_params(warm_epochs=max(1, model.epochs // 4))
        if option == "warm_sp":
            model.set_params(shrink=0.5, perturb=0.01)
    return model


def _proxy(learner: str, seed: int, n_classes: int) -> ProxySelection:
    """Selection via proxy: a small, briefly trained mlp (32 hidden units, a sixth of the steps) selects for the mlp."""
    if learner == "mlp":
        model = make_estimator("mlp", seed=seed).set_params(**PROXY_PARAMS)
        return ProxySelection(as_learner(model, n_classes), checkpoint_every=0, continued=PROXY_PARAMS.get("warm_start", False))
    # logreg: a proxy of fewer lbfgs iterations
    return ProxySelection(as_learner(make_estimator("logreg", seed=seed).set_params(max_iter=50), n_classes))


def batch_flips(records: list[Any]) -> dict[str, list[int | None]]:
    """Per loop k >= 2, on loop k's new labels: how many predictions the model of loop k - 1 changed from loop k - 2's,
    and how many of those changes fixed or broke the answer. Neither model trained on these labels."""
    out: dict[str, list[int | None]] = {"batch_changed": [], "batch_fixed": [], "batch_broken": []}
    for k, record in enumerate(records):
        if k < 2 or record.pool_proba is None or records[k - 1].pool_proba is None:
            for key in out:
                out[key].append(None)
            continue
        before = np.asarray(records[k - 1].pool_proba)[record.positions].argmax(axis=1)
        after = np.asarray(record.pool_proba)[record.positions].argmax(axis=1)
        changed = before != after
        out["batch_changed"].append(int(changed.sum()))
        out["batch_fixed"].append(int((changed & (after == record.labels)).sum()))
        out["batch_broken"].append(int((changed & (before == record.labels)).sum()))
    return out


def cv_curve(records: list[Any], data: Any, learner: str, seed: int) -> list[float | None]:
    """Per loop, the server's cross-validated accuracy on the labelled set so far: the label-only curve stopping reads.

    Computed after the run from the loop's own picks (the run itself is unchanged); ``None`` where the
    labels are too few per class to split.
    """
    from loopwise.server._driver import cross_validate

    out: list[float | None] = []
    positions: list[int] = []
    for record in records:
        positions.extend(int(p) for p in record.positions)
        pos = np.asarray(positions)
        metrics = cross_validate(as_learner(make_estimator(learner, seed=seed), data.n_classes), data.X_pool[pos], data.y_pool[pos])
        out.append(float(metrics["accuracy"]) if "accuracy" in metrics else None)
    return out


def run_cell(dataset: str, learner: str, option: str, seed: int, cv: bool = False) -> dict[str, Any]:
    plan = load_plan(ROOT / "benchmarks" / "quality.toml", datasets=[dataset], strategies=["margin"], seeds=1,
                     overrides={"learner": learner})
    protocol = plan.protocols[0]
    data = prepared(protocol)
    schedule = (AdaptiveSchedule(protocol.initial, 10, 80, protocol.budget) if option == "adaptive"
                else FixedSchedule(protocol.initial, protocol.batch, protocol.budget))
    loop = Loop(
        Pool.new(data.pool_ids, data.X_pool), as_learner(_model(learner, option, seed), data.n_classes),
        __import__("loopwise.strategies", fromlist=["make_strategy"]).make_strategy("margin"), schedule,
        seed=seed, initializer=GivenIds(data.pool_ids[data.initial_positions(seed)].tolist()),
        retrain="warm_start" if option.startswith("warm") else "scratch",
        X_test=data.X_test, y_test=data.y_test, evaluate=evaluate,
        proxy=_proxy(learner, seed, data.n_classes) if option == "proxy" else None,
        candidate_pool=SEALSCandidates(n_neighbors=10) if option == "seals" else None,
    )
    start = time.perf_counter()
    records = run_simulation(loop, SimulatedOracle(data.y_pool))
    labels = [r.n_labelled for r in records]
    accuracy = [float(r.metrics["accuracy"]) for r in records]
    train_cpu = [float(r.timings["train_cpu"]) for r in records]
    compute_cpu = [sum(float(r.timings.get(f"{s}_cpu", 0.0)) for s in ("train", "infer", "select")) for r in records]
    target = 0.95 * data.full_pool_accuracy
    hit = next((i for i, a in enumerate(accuracy) if a >= target), None)
    cell: dict[str, Any] = {
        "dataset": dataset, "learner": learner, "option": option, "seed": seed,
        "labels": labels, "accuracy": accuracy, "train_cpu": train_cpu,
        "final_accuracy": accuracy[-1], "aulc": aulc(labels, accuracy),
        "train_cpu_total": float(sum(train_cpu)),
        "select_cpu_total": float(sum(float(r.timings.get("select_cpu", 0.0)) for r in records)),
        "infer_cpu_total": float(sum(float(r.timings.get("infer_cpu", 0.0)) for r in records)), "compute_cpu_total": float(sum(compute_cpu)),
        "full_pool_accuracy": data.full_pool_accuracy,
        "labels_to_95": None if hit is None else labels[hit],
        "cpu_to_95": None if hit is None else float(sum(compute_cpu[: hit + 1])),
        "wall_s": time.perf_counter() - start,
    }
    # Label-free and label-only signals, for stopping without the test set: the share of the fixed stop set
    # whose predicted class changed since the last loop, and the last model's accuracy on each new batch.
    cell["stop_change"] = [None] + [float(np.mean(a.stop_predictions != b.stop_predictions)) for a, b in zip(records[:-1], records[1:])]
    cell["batch_accuracy"] = [label_only_accuracy(r) for r in records]
    cell.update(batch_flips(records))
    if cv:
        cell["cv_accuracy"] = cv_curve(records, data, learner, seed)
    if option == "scratch":
        stops = {}
        for value in VALUES_PER_POINT:
            rule = CostAwareStop(value_per_point=value, label_cost=1.0, compute_rate=0.0)
            fired = next((k for k in range(1, len(records) + 1) if rule.should_stop(records[:k])), len(records))
            stops[str(value)] = {"stopped_after_loop": fired - 1,
                                 "oracle_loop": hindsight_best_loop(records, value, label_cost=1.0),
                                 "n_loops": len(records)}
        cell["stopping"] = stops
    return cell


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--learner", action="append", choices=sorted(OPTIONS))
    parser.add_argument("--dataset", action="append")
    parser.add_argument("--option", action="append", help="options to run (default: every option of the learner)")
    parser.add_argument("--first-seed", type=int, default=0, help="run seeds first-seed .. seeds-1")
    parser.add_argument("--cv", action="store_true",
                        help="also record each loop's cross-validated accuracy on the labelled set (label-only stopping)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "cost" / "results.jsonl")
    args = parser.parse_args()
    datasets = args.dataset or load_plan(ROOT / "benchmarks" / "quality.toml", strategies=["margin"], seeds=1).protocols
    names = [d if isinstance(d, str) else d.dataset for d in datasets]
    done = set()
    if args.out.exists():
        for line in args.out.read_text().splitlines():
            c = json.loads(line)
            done.add((c["dataset"], c["learner"], c["option"], c["seed"]))
    for seed in range(args.first_seed, args.seeds):
        for learner in args.learner or ["logreg", "mlp"]:
            for name in names:
                for option in OPTIONS[learner]:
                    if (name, learner, option, seed) in done or (args.option and option not in args.option):
                        continue
                    cell = run_cell(name, learner, option, seed, cv=args.cv)
                    with args.out.open("a") as fh:
                        fh.write(json.dumps(cell) + "\n")
                    print(f"{name} {learner} {option} seed {seed}: acc {cell['final_accuracy']:.3f} "
                          f"train CPU {cell['train_cpu_total']:.1f} s wall {cell['wall_s']:.1f} s", flush=True)



if __name__ == "__main__":
    sys.exit(main())

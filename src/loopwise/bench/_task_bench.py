"""The multilabel and regression benchmark: strategies (ours and the peers') in the same loop, seeds, AULC, Wilcoxon."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from loopwise.bench._stats import mean_ci, paired
from loopwise.bench.peers._tasks import TASK_PEERS
from loopwise.core.tasks import headline
from loopwise.experiments import build_loop, prepare_data
from loopwise.experiments._config import DataSpec, RunConfig
from loopwise.labeling import SimulatedOracle
from loopwise.loop import FixedSchedule, run_simulation
from loopwise.reports import aulc
from loopwise.strategies import registered

_PEERS = {cls.name: cls for cls in TASK_PEERS}
_PREPARED: dict[str, Any] = {}  # per worker process: the data is loaded and featurised once, not once a cell


def _prepared(spec: DataSpec, learner: str) -> Any:
    key = json.dumps([vars(spec), learner], sort_keys=True)
    if key not in _PREPARED:
        _PREPARED[key] = prepare_data(spec, learner)
    return _PREPARED[key]


def _cell(args: tuple[dict[str, Any], str, str, int, dict[str, int]]) -> dict[str, Any]:
    """One (strategy, seed) run on the protocol's data: the learning curve of the task's headline metric."""
    spec_dict, learner, strategy, seed, sched = args
    spec = DataSpec(**spec_dict)
    data = _prepared(spec, learner)
    schedule = FixedSchedule(sched["initial_size"], sched["batch"], sched["budget"]).describe()
    config = RunConfig(data=spec, strategy=strategy, seed=seed, learner=learner, task=data.task, schedule=schedule)
    start = time.perf_counter()
    peer = _PEERS.get(strategy)
    if peer is not None:
        with registered(peer):
            loop = build_loop(config, data)
    else:
        loop = build_loop(config, data)
    records = run_simulation(loop, SimulatedOracle(data.y_pool))
    key = headline(data.task)[0]
    labels = [r.n_labelled for r in records]
    scores = [float(r.metrics[key]) for r in records]
    return {
        "strategy": strategy, "seed": seed, "labels": labels, "score": scores,
        "aulc": float(aulc(labels, scores)), "seconds": round(time.perf_counter() - start, 2),
    }


def run_task_benchmark(
    spec: DataSpec,
    learner: str,
    strategies: Sequence[str],
    seeds: Sequence[int],
    *,
    initial: int,
    batch: int,
    budget: int,
    out: str | Path,
    workers: int = 2,
) -> dict[str, Any]:
    """Run every strategy with every seed (the same loop-0 sample per seed), summarise AULC against random, write JSON.

    A peer strategy (``skactiveml:gsy``, ``small_text:cvirs`` ...) runs in the same loop with the same
    learner, split and loop-0 sample; only its selection differs.
    """
    sched = {"initial_size": initial, "batch": batch, "budget": budget}
    args = [(vars(spec), learner, name, seed, sched) for name in strategies for seed in seeds]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        cells = list(pool.map(_cell, args))
    data = _prepared(spec, learner)
    task = data.task
    by: dict[str, dict[int, float]] = {}
    for cell in cells:
        by.setdefault(cell["strategy"], {})[cell["seed"]] = cell["aulc"]
    summary = {}
    for name, aulcs in by.items():
        mean, ci = mean_ci(np.asarray(list(aulcs.values())))
        summary[name] = {"aulc_mean": mean, "aulc_ci95": ci, "vs_random": None if name == "random" else paired(aulcs, by["random"])}
    doc = {
        "command": os.environ.get("LOOPWISE_BENCH_COMMAND", ""),
        "dataset": spec.source,
        "task": task,
        "metric": headline(task)[0],
        "learner": learner,
        "pool": len(data.pool_ids),
        "test": len(data.y_test),
        "schedule": sched,
        "seeds": list(seeds),
        "summary": summary,
        "cells": cells,
    }
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return doc



def _num(value: float, sign: bool = False) -> str:
    """Dollars of RMSE as whole numbers, scores in [0, 1] to 4 decimals."""
    spec = ",.0f" if abs(value) >= 100 else ".4f"
    return format(value, ("+" if sign else "") + spec)


def markdown_table(doc: dict[str, Any]) -> str:
    """The summary as the Markdown table of docs/benchmarks.md: AULC, its difference from random, Wilcoxon p, wins."""
    lines = [
        f"| strategy | AULC ({doc['metric']}) mean ± 95% CI | − random | Wilcoxon p | seeds won |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, entry in doc["summary"].items():
        vs = entry["vs_random"]
        ci = "" if entry["aulc_ci95"] is None else f" ± {_num(entry['aulc_ci95'])}"
        if vs is None:
            lines.append(f"| {name} | {_num(entry['aulc_mean'])}{ci} | baseline | | |")
        else:
            p = "–" if vs["p_wilcoxon"] is None else f"{vs['p_wilcoxon']:.3g}"
            won = round(vs["win_rate"] * vs["n"])
            lines.append(f"| {name} | {_num(entry['aulc_mean'])}{ci} | {_num(vs['mean'], sign=True)} | {p} | {won}/{vs['n']} |")
    return "\n".join(lines)

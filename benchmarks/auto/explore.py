"""Try `auto` variants on the quality protocol, seed by seed, against the stored random and margin cells.

    python benchmarks/auto/explore.py --variant NAME=JSONPARAMS ... --dataset trec --seeds 3 [--plan benchmarks/quality.toml]

Uses the harness's own cell runner (same pools, loop-0 samples, learner), so AULCs equal what
`loopwise bench quality` would store; prints one JSON line per (variant, dataset, seed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from loopwise.bench._cells import Cell, _run_loopwise
from loopwise.bench._plan import load_plan
from loopwise.bench._protocol import prepared
from loopwise.reports import aulc
from loopwise.strategies import _registry
from loopwise.strategies._auto import AutoStrategy


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--dataset", action="append", default=[])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--plan", default="benchmarks/quality.toml")
    ap.add_argument("--results", default="benchmarks/results")
    args = ap.parse_args()
    plan = load_plan(Path(args.plan))
    protocols = {p.dataset: p for p in plan.protocols}
    for spec in args.variant:
        name, _, params = spec.partition("=")
        kwargs = json.loads(params) if params else {}
        for ds in args.dataset or list(protocols):
            stored = json.loads((Path(args.results) / f"{ds}.json").read_text())["cells"]
            ref = {(c["strategy"], c["seed"]): c["aulc"] for c in stored}
            protocol = protocols[ds]
            data = prepared(protocol)
            for seed in range(args.seeds):
                cls = type(f"V_{name}", (AutoStrategy,), {"name": "auto"})
                _registry._REGISTRY["auto"] = AutoStrategy
                cell = Cell(protocol, "auto", seed)
                start = time.perf_counter()
                import loopwise.bench._cells as cells_mod

                orig = cells_mod.make_strategy
                cells_mod.make_strategy = lambda _n, _k=kwargs: AutoStrategy(**_k)  # type: ignore[assignment]
                try:
                    labels, acc, _f1, _order, _sel = _run_loopwise(cell, data, data.initial_positions(seed))
                finally:
                    cells_mod.make_strategy = orig
                a = aulc(labels, acc)
                out = {"variant": name, "dataset": ds, "seed": seed, "aulc": round(a, 5),
                       "random": ref.get(("random", seed)), "margin": ref.get(("margin", seed)),
                       "seconds": round(time.perf_counter() - start, 1)}
                print(json.dumps(out), flush=True)
                del cls


if __name__ == "__main__":
    sys.exit(main())

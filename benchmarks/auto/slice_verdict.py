"""Does ``auto``'s labels-only verdict "the active part is losing to random" agree with the test set, loop by loop?

    python benchmarks/auto/slice_verdict.py run OUT.json [--dataset ag_news] [--seeds 10] [--fractions 0.05,0.2]
    python benchmarks/auto/slice_verdict.py table OUT.json [benchmarks/results]

``run``: on the quality plan's protocol for the dataset (20 initial, 20 a loop, 200 labels,
the shared initial sample of each seed), runs a margin-led ``auto`` (arms margin and random,
no coverage phase, so the bandit weighs margin against random from loop 1) at each slice
fraction, and plain ``auto``; stores each loop's selection info (arm, active_losing,
active_vs_random, slice accuracy) and test accuracy.
``table``: per loop, the test set's verdict (committed ``margin`` cells minus ``random``
cells of the same seeds: its mean's sign, with the Wilcoxon p) against the share of seeds whose run said
"active losing" from labels alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


def _run(out: str, dataset: str = "ag_news", seeds: int = 10, fractions: str = "0.05,0.2") -> None:
    from loopwise.bench._plan import load_plan
    from loopwise.core import Pool
    from loopwise.evaluation import evaluate
    from loopwise.labeling import SimulatedOracle
    from loopwise.learners import as_learner, make_estimator
    from loopwise.loop import FixedSchedule, GivenIds, Loop, run_simulation
    from loopwise.bench._protocol import prepared
    from loopwise.strategies._auto import AutoStrategy

    plan = load_plan(Path(__file__).resolve().parents[1] / "quality.toml")
    protocol = next(p for p in plan.protocols if p.dataset == dataset)
    data = prepared(protocol)
    variants: dict[str, Any] = {
        f"margin_led_{f}": (lambda f=f: AutoStrategy(slice_fraction=float(f), coverage_per_class=0, min_confidence=0,
                                                    arms=("margin", "random")))
        for f in fractions.split(",")
    }
    variants["auto"] = lambda: AutoStrategy()
    rows: list[dict[str, Any]] = []
    for name, make in variants.items():
        for seed in range(seeds):
            initial = data.initial_positions(seed)
            loop = Loop(
                Pool.new(data.pool_ids, data.X_pool),
                as_learner(make_estimator(protocol.learner, seed=seed), data.n_classes),
                make(),
                FixedSchedule(protocol.initial, protocol.batch, protocol.budget),
                seed=seed,
                initializer=GivenIds(data.pool_ids[initial].tolist()),
                X_test=data.X_test,
                y_test=data.y_test,
                evaluate=evaluate,
            )
            records = run_simulation(loop, SimulatedOracle(data.y_pool))
            rows.append({
                "variant": name, "seed": seed,
                "labels": [r.n_labelled for r in records],
                "accuracy": [round(float(r.metrics["accuracy"]), 5) for r in records],
                "selection": [r.extra.get("selection", {}) for r in records],
            })
            print(name, seed, rows[-1]["accuracy"][-1], flush=True)
    Path(out).write_text(json.dumps({"dataset": dataset, "protocol": protocol.protocol_id, "rows": rows}) + "\n")


def _table(out: str, results: str = "benchmarks/results") -> None:
    from scipy.stats import wilcoxon

    doc = json.loads(Path(out).read_text())
    committed = json.loads((Path(results) / f"{doc['dataset']}.json").read_text())
    curves = {s: {c["seed"]: c["accuracy"] for c in committed["cells"] if c["strategy"] == s} for s in ("margin", "random")}
    for variant in sorted({r["variant"] for r in doc["rows"]}):
        rows = [r for r in doc["rows"] if r["variant"] == variant]
        seeds = [r["seed"] for r in rows]
        print(f"\n### {variant} ({len(rows)} seeds)\n")
        print("| loop | labels | test: margin − random (pts) | p | test says | own run − random (pts) | "
              "runs saying losing / not / no verdict | significant (90% upper < 0) | agree |")
        print("|---:|---:|---:|---:|---|---:|---|---:|---:|")
        for t in range(1, len(rows[0]["labels"])):
            d = np.array([curves["margin"][s][t] - curves["random"][s][t] for s in seeds])
            own = np.array([r["accuracy"][t] - curves["random"][r["seed"]][t] for r in rows])
            p = float(wilcoxon(d).pvalue) if np.any(d != 0) else 1.0
            says = "margin behind" if d.mean() < 0 else "margin not behind"
            verdicts = [r["selection"][t].get("active_losing") for r in rows]
            sig = [((r["selection"][t].get("active_vs_random") or {}).get("high") or 1) < 0 for r in rows]
            n_l, n_n, n_none = sum(v is True for v in verdicts), sum(v is False for v in verdicts), sum(v is None for v in verdicts)
            truth = bool(d.mean() < 0)  # the sign of the seeds' mean difference (p says how sure)
            agree = sum((v is True) == truth for v in verdicts if v is not None)
            print(f"| {t} | {rows[0]['labels'][t]} | {100 * d.mean():+.1f} | {p:.3f} | {says} | {100 * own.mean():+.1f} | "
                  f"{n_l} / {n_n} / {n_none} | {sum(sig)} | {agree}/{n_l + n_n} |")
        arms = [a for r in rows for a in (s.get("arm") for s in r["selection"][1:]) if a]
        print("\narms played:", {a: arms.count(a) for a in sorted(set(arms))})


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    kw = {}
    pos = []
    it = iter(args)
    for a in it:
        if a.startswith("--"):
            kw[a[2:]] = next(it)
        else:
            pos.append(a)
    if "seeds" in kw:
        kw["seeds"] = int(kw["seeds"])  # type: ignore[assignment]
    (_run if cmd == "run" else _table)(*pos, **kw)

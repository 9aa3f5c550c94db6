"""One `auto` selection on a 1M x 64 pool, 10 classes, batch 100, 10 loops of history: seconds and memory.

    python benchmarks/auto/speed_auto.py [--n 1000000] [--arm covered_margin|typiclust|margin|learned] [--model PATH]

Memory is the peak of Python allocations (tracemalloc, NumPy included) during the selection, above
what the inputs (pool rows, the candidates' probabilities, the history's probability matrices) hold.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc

import numpy as np

from loopwise.strategies import AutoStrategy, History, StrategyInputs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--loops", type=int, default=10)
    ap.add_argument("--arm", default=None, help="force one arm (e.g. covered_margin, the costliest); default: auto's own choice")
    ap.add_argument("--model", default=None, help="learned selector model file (default: the built-in one)")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n, d, k = args.n, args.d, args.k
    X = rng.standard_normal((n, d), dtype=np.float32)
    W = rng.standard_normal((d, k), dtype=np.float32) / 4
    history = History()
    labelled = np.zeros(n, dtype=bool)
    first = rng.choice(n, 1000, replace=False)
    history.add_labels(0, first, rng.integers(0, k, len(first)), "initial:RandomInit")
    labelled[first] = True
    for t in range(1, args.loops + 1):
        Z = X @ (W * (1 + 0.1 * t))
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        history.append(t, P.astype(np.float32))
        if t < args.loops:
            pick = rng.choice(np.flatnonzero(~labelled), args.batch, replace=False)
            history.add_labels(t, pick, rng.integers(0, k, args.batch), "auto")
            labelled[pick] = True
    candidates = np.flatnonzero(~labelled)
    proba = history.proba_by_loop[-1][candidates]
    features = X[candidates]
    inputs = StrategyInputs(candidates=candidates, proba=proba, features=features, labelled_features=X[labelled], history=history)
    if args.arm is None:
        strategy = AutoStrategy()
    else:
        strategy = AutoStrategy(arms=(args.arm,), min_confidence=0.0, learned_model=args.model)
    tracemalloc.start()
    start = time.perf_counter()
    sel = strategy.select(inputs, args.batch, np.random.default_rng(1))
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"n": n, "d": d, "k": k, "batch": args.batch, "loops": args.loops, "arm": sel.info["arm"],
                      "seconds": round(seconds, 3), "peak_mb_above_inputs": round(peak / 2**20, 1),
                      "metadata_mb": round(history.metadata.nbytes() / 2**20, 1)}))


if __name__ == "__main__":
    main()

"""Speed and memory of the batch-aware strategies on a pool of a million records (outside the test run).

Each case runs in a fresh subprocess, so peak RSS belongs to that case alone:

    .venv/bin/python benchmarks/speed_strategies.py            # all cases, prints a table
    .venv/bin/python benchmarks/speed_strategies.py --quick    # 100,000 records, for a smoke run

Time is wall-clock of the selection call (best and median of the repeats;
"cpu s" is the CPU time of all threads in the best run, which shows how much
of the wall time other processes on a shared machine took away);
"traced" is the tracemalloc peak of one call (every NumPy buffer the call
allocates beyond its inputs); "RSS+" is the rise of the process's peak
resident set over its resident set just before the calls.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import loopwise.strategies as ls

N, D, K = 1_000_000, 64, 10
# name: (picks, labelled rows, repeats, target seconds, target extra MiB)
CASES: dict[str, tuple[int, int, int, float | None, float | None]] = {
    "kcenter": (100, 1000, 10, 3.0, 300.0),
    # The textbook eager greedy (a full pass per pick), to show what the lazy search saves and that it agrees.
    "kcenter_eager": (100, 1000, 3, None, None),
    "badge": (1000, 0, 1, 60.0, None),
    "cluster_margin": (1000, 0, 3, 60.0, None),
    "ranked_batch": (100, 1000, 1, None, None),
    "typiclust": (100, 1000, 1, None, None),
    "probcover": (100, 1000, 1, None, None),
}


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float32 embeddings, labelled rows and softmax probabilities, built without large temporaries."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D), dtype=np.float32)
    L = rng.standard_normal((1000, D), dtype=np.float32)
    proba = np.empty((n, K), dtype=np.float32)
    for start in range(0, n, 100_000):
        logits = 2.0 * rng.standard_normal((min(100_000, n - start), K), dtype=np.float32)
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        proba[start : start + len(logits)] = logits / logits.sum(axis=1, keepdims=True)
    return X, L, proba


def _eager_k_center(X: np.ndarray, L: np.ndarray, k: int) -> np.ndarray:
    """Textbook greedy k-center, one full distance pass per pick: the baseline the lazy search must equal."""
    from loopwise.strategies._pairwise import min_sq_distances, sq_distances_to_row, sq_norms

    X_sq = sq_norms(X)
    min_sq = min_sq_distances(X, L, None, X_sq=X_sq)
    picks = np.empty(k, dtype=np.int64)
    for t in range(k):
        picks[t] = c = int(np.argmax(min_sq))
        np.minimum(min_sq, sq_distances_to_row(X, X_sq, c), out=min_sq)
        min_sq[c] = -np.inf
    return picks


def _call(name: str, X: np.ndarray, L: np.ndarray, proba: np.ndarray, picks: int) -> Callable[[], Any]:
    rng = np.random.default_rng(1)
    calls: dict[str, Callable[[], Any]] = {
        "kcenter": lambda: ls.k_center_greedy(X, L, picks),
        "kcenter_eager": lambda: _eager_k_center(X, L, picks),
        "badge": lambda: ls.badge(proba, X, picks, rng),
        "cluster_margin": lambda: ls.cluster_margin(proba, X, picks, rng),
        "ranked_batch": lambda: ls.ranked_batch(ls.least_confidence(proba), X, L, picks),
        "typiclust": lambda: ls.typiclust(X, L, picks, rng),
        "probcover": lambda: ls.prob_cover(X, L, picks, rng),
    }
    return calls[name]


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_case(name: str, n: int) -> dict[str, Any]:
    picks, n_labelled, repeats, target_s, target_mib = CASES[name]
    X, L, proba = _data(n)
    L = L[:n_labelled]
    # Warm up imports and the BLAS threads on a small slice, outside the measurement.
    _call(name, X[:2000], L[:10], proba[:2000], min(picks, 20))()
    rss_before = _rss_mib()
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        _call(name, X, L, proba, picks)()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    result = _call(name, X, L, proba, picks)()
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    note = ""
    if name == "kcenter_eager":
        same = np.array_equal(result, ls.k_center_greedy(X, L, picks))
        note = "same picks as kcenter" if same else "DIFFERENT picks from kcenter"
    return {
        "case": name,
        "n": n,
        "picks": picks,
        "labelled": n_labelled,
        "best_s": min(times),
        "median_s": statistics.median(times),
        "cpu_s": cpu[times.index(min(times))],
        "repeats": repeats,
        "traced_mib": traced,
        "rss_extra_mib": rss_peak - rss_before,
        "target_s": target_s,
        "target_mib": target_mib,
        "note": note,
    }


def _verdict(row: dict[str, Any]) -> str:
    ok = []
    if row["target_s"] is not None:
        ok.append(row["best_s"] <= row["target_s"])
    if row["target_mib"] is not None:
        ok.append(max(row["traced_mib"], row["rss_extra_mib"]) <= row["target_mib"])
    if not ok:
        return "-"
    return "ok" if all(ok) else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", help="run one case in this process and print it as JSON")
    parser.add_argument("--quick", action="store_true", help="100,000 records instead of 1,000,000")
    parser.add_argument("--only", nargs="*", default=list(CASES), help="cases to run")
    args = parser.parse_args()
    n = 100_000 if args.quick else N
    if args.case:
        print(json.dumps(run_case(args.case, n)))
        return
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, NumPy {np.__version__}, load average at start {load}")
    print(f"# pool {n:,} x {D} float32, {K} classes; labelled rows where the case uses them")
    header = (
        f"{'case':<15}{'picks':>6}{'labelled':>9}{'best s':>9}{'median s':>10}{'cpu s':>7}{'runs':>5}"
        f"{'traced MiB':>11}{'RSS+ MiB':>10}{'target':>16}  verdict"
    )
    print(header)
    print("-" * len(header))
    for name in args.only:
        cmd = [sys.executable, __file__, "--case", name] + (["--quick"] if args.quick else [])
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        target = "-"
        if row["target_s"] is not None:
            target = f"<={row['target_s']:g}s" + (f", <={row['target_mib']:g}MiB" if row["target_mib"] else "")
        print(
            f"{row['case']:<15}{row['picks']:>6}{row['labelled']:>9}{row['best_s']:>9.2f}{row['median_s']:>10.2f}"
            f"{row['cpu_s']:>7.2f}{row['repeats']:>5}{row['traced_mib']:>11.1f}{row['rss_extra_mib']:>10.1f}{target:>16}"
            f"  {_verdict(row)}  {row['note']}".rstrip(),
            flush=True,
        )
    with open("/proc/loadavg") as f:
        print(f"# load average at end {' '.join(f.read().split()[:3])}")


if __name__ == "__main__":
    main()

"""Labels to reach 99% of full-pool accuracy, strategy / random, median over datasets where both reach it.

    python benchmarks/auto/labels_to_99.py benchmarks/results auto auto_learned_lodo learned_lodo margin

Per dataset, a strategy "reaches it" where its seed-mean learning curve (over the seeds it shares with
random) first gets to 0.99 x the dataset's full-pool accuracy within the budget; the ratio is its labels
over random's. Also, per seed pairs: the median over datasets of the median ratio over seeds where both
runs reach it (conditioning on reaching favours neither side but drops the slow seeds).
"""

from __future__ import annotations

import sys
from statistics import median

import numpy as np

from loopwise.bench._store import ResultStore
from loopwise.reports import labels_to_reach


def main(root: str, *strategies: str) -> None:
    docs = list(ResultStore(root).load())
    for s in strategies:
        ratios, pair_ratios, only_s, only_r, neither = [], [], 0, 0, 0
        for doc in docs:
            full = doc["data"]["full_pool_accuracy"]
            cells = {(c["strategy"], int(c["seed"])): c for c in doc["cells"]}
            seeds = sorted(k[1] for k in cells if k[0] == s and ("random", k[1]) in cells)
            if not seeds:
                continue
            labels = cells[(s, seeds[0])]["labels"]
            curve = lambda name: np.mean([cells[(name, k)]["accuracy"] for k in seeds], axis=0).tolist()  # noqa: E731
            a, b = labels_to_reach(labels, curve(s), 0.99 * full), labels_to_reach(labels, curve("random"), 0.99 * full)
            if a is not None and b is not None:
                ratios.append(a / b)
            only_s += a is not None and b is None
            only_r += a is None and b is not None
            neither += a is None and b is None
            per = [labels_to_reach(cells[(s, k)]["labels"], cells[(s, k)]["accuracy"], 0.99 * full) for k in seeds]
            per_r = [labels_to_reach(cells[("random", k)]["labels"], cells[("random", k)]["accuracy"], 0.99 * full) for k in seeds]
            pr = [x / y for x, y in zip(per, per_r) if x is not None and y is not None]
            if pr:
                pair_ratios.append(median(pr))
        med = f"{median(ratios):.2f}" if ratios else "–"
        pmed = f"{median(pair_ratios):.2f}" if pair_ratios else "–"
        print(f"| {s} | {med} over {len(ratios)} ({', '.join(f'{r:.2f}' for r in ratios)}) | {only_s} | {only_r} | {neither} | "
              f"{pmed} over {len(pair_ratios)} |")


if __name__ == "__main__":
    print("| strategy | mean-curve ratio to random, median over datasets both reach | only it reaches | only random | neither | per-seed-pair ratio median |")
    print("|---|---|---:|---:|---:|---|")
    main(sys.argv[1], *sys.argv[2:])

"""`auto` (or an ablation) against random, margin and every strategy in a quality results folder, as Markdown.

    python benchmarks/auto/compare.py benchmarks/results [auto]
    python benchmarks/auto/compare.py benchmarks/results/batch50 auto

Statistics come from the harness (loopwise.bench._stats): AULC differences paired by seed, Wilcoxon
signed-rank p over the seeds both strategies ran. Ranks are taken, per dataset, over every strategy's
mean AULC on the seeds the compared strategy has (so a partly run strategy is ranked like for like).
"""

from __future__ import annotations

import sys
from statistics import median
from typing import Any

import numpy as np

from loopwise.bench._stats import summarise_quality
from loopwise.bench._store import ResultStore


def _cell(entry: dict[str, Any] | None) -> str:
    if not entry:
        return "–"
    p = entry["p_wilcoxon"]
    star = "*" if p is not None and p < 0.05 else ""
    return f"{100 * entry['mean']:+.1f}{star} (p {p:.3f})" if p is not None else f"{100 * entry['mean']:+.1f}"


def main(root: str, strategy: str = "auto") -> None:
    docs = []
    for doc in ResultStore(root).load():
        seeds = {int(c["seed"]) for c in doc["cells"] if c["strategy"] == strategy}
        if not seeds:
            continue
        docs.append({**doc, "cells": [c for c in doc["cells"] if int(c["seed"]) in seeds]})
    summary = summarise_quality(docs)
    print(f"| dataset | seeds | {strategy} | random | margin | − random | − margin | rank of {strategy} | labels to 99%: {strategy} / random |")
    print("|---|---:|---:|---:|---:|---|---|---:|---|")
    ratios, ranks, above, sig_above, sig_below, sig_below_margin = [], [], 0, 0, 0, 0
    for ds in summary["datasets"]:
        s = ds["strategies"]
        me, rnd, mar = s[strategy], s.get("random"), s.get("margin")
        from loopwise.bench._stats import paired

        aulcs = {name: {int(c["seed"]): float(c["aulc"]) for c in next(d for d in docs if d["dataset"] == ds["dataset"])["cells"] if c["strategy"] == name} for name in (strategy, "random", "margin")}
        vs_r = paired(aulcs[strategy], aulcs["random"]) if aulcs["random"] else None
        vs_m = paired(aulcs[strategy], aulcs["margin"]) if aulcs["margin"] else None
        if vs_r:
            above += vs_r["mean"] > 0
            sig_above += vs_r["mean"] > 0 and (vs_r["p_wilcoxon"] or 1) < 0.05
            sig_below += vs_r["mean"] < 0 and (vs_r["p_wilcoxon"] or 1) < 0.05
        if vs_m:
            sig_below_margin += vs_m["mean"] < 0 and (vs_m["p_wilcoxon"] or 1) < 0.05
        l_me, l_r = me.get("labels_to_99"), (rnd or {}).get("labels_to_99")
        hits = f"{me.get('reached_99', 0)}/{me['n_seeds']} vs {(rnd or {}).get('reached_99', 0)}/{(rnd or {}).get('n_seeds', 0)}"
        lab = f"{l_me if l_me is not None else '–'} / {l_r if l_r is not None else '–'} ({hits} seeds reach it)"
        if l_me is not None and l_r is not None and me.get("reached_99") == me["n_seeds"] and rnd and rnd.get("reached_99") == rnd["n_seeds"]:
            ratios.append(l_me / l_r)
        ranks.append(me["rank"])
        print(
            f"| {ds['dataset']} | {me['n_seeds']} | {100 * me['aulc_mean']:.1f} | "
            f"{100 * rnd['aulc_mean']:.1f} | {100 * mar['aulc_mean']:.1f} | {_cell(vs_r)} | {_cell(vs_m)} | "
            f"{me['rank']:.1f} of {len(s)} | {lab} |"
        )
    overall = summary["overall"]
    order = sorted(overall, key=lambda k: overall[k]["mean_rank"])
    print()
    print(f"above random on {above} of {len(ranks)} datasets, significantly on {sig_above}; significantly behind random on "
          f"{sig_below}, behind margin on {sig_below_margin}; mean rank {np.mean(ranks):.2f} "
          f"(place {order.index(strategy) + 1} of {len(order)}: "
          + ", ".join(f"{k} {overall[k]['mean_rank']:.2f}" for k in order[:5]) + ")")
    if ratios:
        print(f"labels to 99% of full-pool accuracy, {strategy} / random, median over {len(ratios)} datasets where every seed "
              f"of both reached it: {median(ratios):.2f}")
    else:
        print("labels to 99%: no dataset where every seed of both reached it")


if __name__ == "__main__":
    main(*sys.argv[1:])

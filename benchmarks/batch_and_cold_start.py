"""Issue 4's two quality questions, answered from stored `loopwise bench quality` results.

1. With 50 records a loop, do the batch-diverse strategies (BADGE, cluster-margin) beat margin?
   Reads ``benchmarks/results/batch50`` (plan: ``benchmarks/quality_batch.toml``) and compares
   the AULC of each with margin's, paired by seed.
2. Over the first three loops, does a TypiClust or ProbCover loop-0 sample beat a random one?
   Reads ``benchmarks/results/cold_start/<init>`` (plan: ``benchmarks/quality_cold_start.toml``,
   run once per ``--init``) and compares, for the same follow-up strategy and seed, the area under
   the learning curve of the three loops (20, 40 and 60 labels) and the loop-0 accuracy.

Differences are in accuracy points; p is the two-sided Wilcoxon signed-rank test over the seeds.
Prints Markdown and writes the figures as JSON:

    python benchmarks/batch_and_cold_start.py > benchmarks/results/batch_and_cold_start.md
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loopwise.bench import ResultStore, paired

BATCH_RESULTS = Path("benchmarks/results/batch50")
COLD_RESULTS = Path("benchmarks/results/cold_start")
OUT_JSON = Path("benchmarks/results/batch_and_cold_start.json")
BATCH_DIVERSE = ("badge", "cluster_margin")
COLD_INITS = ("typiclust", "probcover")
SIGNIFICANT = 0.05


def _aulc(cell: dict[str, Any]) -> float:
    return float(cell["aulc"])


def _loop0_accuracy(cell: dict[str, Any]) -> float:
    return float(cell["accuracy"][0])


def _by_seed(doc: dict[str, Any], strategy: str, value: Callable[[dict[str, Any]], float] = _aulc) -> dict[int, float]:
    return {int(cell["seed"]): value(cell) for cell in doc["cells"] if cell["strategy"] == strategy}


def _fmt(diff: dict[str, Any] | None) -> str:
    if diff is None:
        return "–"
    mark = "*" if diff["p_wilcoxon"] is not None and diff["p_wilcoxon"] < SIGNIFICANT else ""
    return f"{100 * diff['mean']:+.1f}{mark} (p {diff['p_wilcoxon']:.3f}, wins {diff['win_rate']:.0%})"


def _ahead(diff: dict[str, Any] | None) -> bool:
    return diff is not None and diff["mean"] > 0 and diff["p_wilcoxon"] is not None and diff["p_wilcoxon"] < SIGNIFICANT


def batch_table(root: Path = BATCH_RESULTS) -> tuple[list[str], dict[str, Any]]:
    docs = ResultStore(root).load()
    lines = [
        "| dataset | random | margin | badge | cluster_margin | badge − margin | cluster_margin − margin |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    figures: dict[str, Any] = {}
    for doc in docs:
        seeds = {s: _by_seed(doc, s) for s in ("random", "margin", *BATCH_DIVERSE)}
        means = {s: (100 * sum(v.values()) / len(v) if v else None) for s, v in seeds.items()}
        diffs = {s: paired(seeds[s], seeds["margin"]) for s in BATCH_DIVERSE}
        figures[doc["dataset"]] = {"aulc_mean": means, "minus_margin": diffs}
        cells = " | ".join("–" if means[s] is None else f"{means[s]:.1f}" for s in ("random", "margin", *BATCH_DIVERSE))
        lines.append(f"| {doc['dataset']} | {cells} | {_fmt(diffs['badge'])} | {_fmt(diffs['cluster_margin'])} |")
    ahead = sorted(d for d, f in figures.items() if any(_ahead(f["minus_margin"][s]) for s in BATCH_DIVERSE))
    ahead_any = sorted(d for d, f in figures.items() if any((f["minus_margin"][s] or {}).get("mean", 0) > 0 for s in BATCH_DIVERSE))
    lines.append("")
    lines.append(f"BADGE or cluster-margin ahead of margin, significantly (p < {SIGNIFICANT}): {len(ahead)} datasets ({', '.join(ahead) or 'none'}); "
                 f"ahead in the mean at all: {len(ahead_any)} ({', '.join(ahead_any) or 'none'}).")
    return lines, {"datasets": figures, "significantly_ahead": ahead, "ahead_in_mean": ahead_any}


def cold_start_table(root: Path = COLD_RESULTS) -> tuple[list[str], dict[str, Any]]:
    stores = {init: {d["dataset"]: d for d in ResultStore(root / init).load()} for init in ("random", *COLD_INITS)}
    datasets = sorted(stores["random"])
    lines = [
        "| dataset | then | random init | typiclust | probcover | typiclust − random | probcover − random | loop 0: typiclust − random | loop 0: probcover − random |",
        "|---|---|---:|---:|---:|---|---|---|---|",
    ]
    figures: dict[str, Any] = {}
    for dataset in datasets:
        for follow in ("margin", "random"):
            if dataset not in stores["random"]:
                continue
            base = _by_seed(stores["random"][dataset], follow)
            base0 = _by_seed(stores["random"][dataset], follow, _loop0_accuracy)
            row: dict[str, Any] = {"random_aulc": 100 * sum(base.values()) / len(base) if base else None}
            for init in COLD_INITS:
                doc = stores[init].get(dataset)
                ours = _by_seed(doc, follow) if doc else {}
                ours0 = _by_seed(doc, follow, _loop0_accuracy) if doc else {}
                row[f"{init}_aulc"] = 100 * sum(ours.values()) / len(ours) if ours else None
                row[f"{init}_minus_random"] = paired(ours, base) if ours else None
                row[f"{init}_loop0_minus_random"] = paired(ours0, base0) if ours0 else None
            figures.setdefault(dataset, {})[follow] = row
            means = " | ".join("–" if row[k] is None else f"{row[k]:.1f}" for k in ("random_aulc", "typiclust_aulc", "probcover_aulc"))
            diffs = " | ".join(_fmt(row[f"{i}_minus_random"]) for i in COLD_INITS)
            firsts = " | ".join(_fmt(row[f"{i}_loop0_minus_random"]) for i in COLD_INITS)
            lines.append(f"| {dataset} | {follow} | {means} | {diffs} | {firsts} |")
    ahead = sorted(
        d for d, f in figures.items() if any(_ahead(f[follow][f"{i}_minus_random"]) for i in COLD_INITS for follow in f)
    )
    lines.append("")
    lines.append(f"TypiClust or ProbCover ahead of random initialisation over the first three loops, significantly "
                 f"(p < {SIGNIFICANT}): {len(ahead)} datasets ({', '.join(ahead) or 'none'}).")
    return lines, {"datasets": figures, "significantly_ahead": ahead}


def main() -> None:
    batch_lines, batch = batch_table()
    cold_lines, cold = cold_start_table()
    print("### Batch-diverse strategies against margin, 50 records a loop (AULC, accuracy points)\n")
    print("\n".join(batch_lines))
    print("\n### Cold start: the first three loops from a TypiClust or ProbCover sample (AULC of loops 0-2, accuracy points)\n")
    print("\n".join(cold_lines))
    OUT_JSON.write_text(json.dumps({"batch50": batch, "cold_start": cold}, indent=1) + "\n")
    print(f"\nfigures: {OUT_JSON}", file=sys.stderr)


if __name__ == "__main__":
    main()

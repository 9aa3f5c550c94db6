"""Summarise benchmarks/label_quality/results*.json into the figures docs/benchmarks.md quotes (Markdown tables)."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from statistics import mean, median
from typing import Any


def _by(cells: dict[str, Any]) -> dict[str, dict[str, dict[int, Any]]]:
    out: dict[str, dict[str, dict[int, Any]]] = defaultdict(lambda: defaultdict(dict))
    for key, cell in cells.items():
        dataset, seed, kind = key.split("/")
        out[dataset][kind][int(seed)] = cell
    return out


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main(*paths: str) -> None:
    """Print the tables; several result files (e.g. a loop run and a consensus run) are merged, first wins."""
    files = [json.loads(Path(p).read_text()) for p in paths or ["benchmarks/label_quality/results.json"]]
    results = files[0]
    cells: dict[str, Any] = {}
    for f in reversed(files):
        cells.update(f["cells"])
    by = _by(cells)
    print(f"protocol: {results['protocol']}\n")
    for noise in ("0.1", "0.3"):
        print(f"### {float(noise):.0%} noise: AULC on the label-cost axis (extra audit labels counted)\n")
        print("| dataset | seeds | perfect | noisy | noisy + audit | recovered | audit recall | audit precision | extra labels | wrong labels at end (no audit / audit) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        recovered_all = []
        for dataset, kinds in sorted(by.items()):
            seeds = sorted(set(kinds.get("perfect", {})) & set(kinds.get(f"noise{noise}", {})) & set(kinds.get(f"noise{noise}+audit", {})))
            if not seeds:
                continue
            perfect = mean(kinds["perfect"][s]["aulc"] for s in seeds)
            noisy = mean(kinds[f"noise{noise}"][s]["aulc"] for s in seeds)
            audited = mean(kinds[f"noise{noise}+audit"][s]["aulc"] for s in seeds)
            recovered = (audited - noisy) / (perfect - noisy) if perfect > noisy else None
            if recovered is not None:
                recovered_all.append(recovered)
            audits = [kinds[f"noise{noise}+audit"][s]["audit"] for s in seeds]
            recall = [a["recall"] for a in audits if a["recall"] is not None]
            precision = [a["precision"] for a in audits if a["precision"] is not None]
            extra = mean(kinds[f"noise{noise}+audit"][s]["extra_labels"] for s in seeds)
            wrong = (mean(kinds[f"noise{noise}"][s]["wrong_labels_at_end"] for s in seeds), mean(kinds[f"noise{noise}+audit"][s]["wrong_labels_at_end"] for s in seeds))
            print(
                f"| {dataset} | {len(seeds)} | {perfect:.4f} | {noisy:.4f} | {audited:.4f} | {_fmt(recovered, 2)} | "
                f"{_fmt(mean(recall) if recall else None, 2)} | {_fmt(mean(precision) if precision else None, 2)} | {extra:.1f} | {wrong[0]:.1f} / {wrong[1]:.1f} |"
            )
        if recovered_all:
            print(f"\nmedian share of the noise's AULC cost recovered: {median(recovered_all):.2f} over {len(recovered_all)} datasets\n")
    for panel in ("3", "5"):
        print(f"### consensus over {panel} annotators (label accuracy against the truth; ranking of annotators right)\n")
        print("| dataset | seeds | majority | Dawid-Skene | CROWDLAB | DS ranking right | CROWDLAB ranking right |")
        print("|---|---|---|---|---|---|---|")
        for dataset, kinds in sorted(by.items()):
            cells = kinds.get(f"consensus{panel}", {})
            if not cells:
                continue
            c = list(cells.values())

            def acc(method: str, cells: list[Any] = c) -> str:
                values = [x[method]["accuracy"] for x in cells if method in x]
                return _fmt(mean(values) if values else None, 4)

            def ranks(method: str, cells: list[Any] = c) -> str:
                values = [x[method]["ranking_correct"] for x in cells if method in x]
                return f"{sum(values)}/{len(values)}"

            print(f"| {dataset} | {len(c)} | {acc('majority')} | {acc('dawid_skene')} | {acc('crowdlab')} | {ranks('dawid_skene')} | {ranks('crowdlab')} |")
        print()
    print("### auto-labelling at a 0.98 precision target (after the perfect-oracle run; 200 fresh human labels calibrate)\n")
    print("| dataset | seeds | runs that labelled | auto-labels (mean) | of unlabelled | measured precision (min, mean) |")
    print("|---|---|---|---|---|---|")
    for dataset, kinds in sorted(by.items()):
        autos = [cell["autolabel"] for cell in kinds.get("perfect", {}).values()]
        if not autos:
            continue
        labelled = [a for a in autos if a["n_labelled"]]
        prec = [a["precision"] for a in labelled]
        print(
            f"| {dataset} | {len(autos)} | {len(labelled)} | {mean(a['n_labelled'] for a in autos):.0f} | {autos[0]['n_unlabelled']} | "
            f"{_fmt(min(prec) if prec else None, 3)}, {_fmt(mean(prec) if prec else None, 3)} |"
        )


if __name__ == "__main__":
    main(*sys.argv[1:])

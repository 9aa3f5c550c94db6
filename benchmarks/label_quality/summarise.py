"""Summarise benchmarks/results/label_quality*.json into the figures docs/benchmarks.md quotes (Markdown tables)."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from statistics import mean, median
from typing import Any

DEFAULT = "benchmarks/results/label_quality*.json"


def _by(cells: dict[str, Any]) -> dict[str, dict[str, dict[str, dict[int, Any]]]]:
    """cells[dataset][strategy][kind][seed] from keys ``dataset/seed/strategy/kind`` (``-``: no strategy)."""
    out: dict[str, dict[str, dict[str, dict[int, Any]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(dict)))
    for key, cell in cells.items():
        dataset, seed, strategy, kind = key.split("/")
        out[dataset][strategy][kind][int(seed)] = cell
    return out


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _per_loop(audits: list[dict[str, Any]]) -> str:
    """Precision and recall of each loop's checks, pooled over seeds: ``loop: hits/flagged, hits/wrong``."""
    by_loop: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for audit in audits:
        for row in audit["per_loop"]:
            acc = by_loop[row["loop"]]
            acc[0] += row["hits"]
            acc[1] += row["flagged"]
            acc[2] += row["wrong"]
    parts = []
    for loop, (hits, flagged, wrong) in sorted(by_loop.items()):
        parts.append(f"{loop}: {_fmt(hits / flagged if flagged else None, 2)}/{_fmt(hits / wrong if wrong else None, 2)}")
    return ", ".join(parts)


def loop_tables(by: dict[str, Any], strategy: str, noise: str) -> list[float]:
    """Print the AULC table of one strategy and noise rate; return each dataset's share of the noise cost recovered."""
    print(f"### {strategy}, {float(noise):.0%} noise: AULC on the label-cost axis (extra audit labels counted)\n")
    print("| dataset | seeds | perfect | noisy | noisy + audit | recovered | ceiling recovered | audit recall | audit precision | checks | extra labels | wrong labels at end (no audit / audit) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    recovered_all = []
    per_loop_rows = []
    for dataset, strategies in sorted(by.items()):
        kinds = strategies.get(strategy, {})
        seeds = sorted(set(kinds.get("perfect", {})) & set(kinds.get(f"noise{noise}", {})) & set(kinds.get(f"noise{noise}+audit", {})))
        if not seeds:
            continue
        perfect = mean(kinds["perfect"][s]["aulc"] for s in seeds)
        noisy = mean(kinds[f"noise{noise}"][s]["aulc"] for s in seeds)
        audited = mean(kinds[f"noise{noise}+audit"][s]["aulc"] for s in seeds)
        recovered = (audited - noisy) / (perfect - noisy) if perfect > noisy else None
        if recovered is not None:
            recovered_all.append(recovered)
        known = kinds.get(f"noise{noise}+known", {})
        ceiling = None
        if perfect > noisy and all(s in known for s in seeds):
            ceiling = (mean(known[s]["aulc"] for s in seeds) - noisy) / (perfect - noisy)
        audits = [kinds[f"noise{noise}+audit"][s]["audit"] for s in seeds]
        # Pooled over seeds: all wrong labels given the chance, all checks.
        n_found = sum(round(a["recall"] * a["n_wrong_seen"]) for a in audits if a["recall"] is not None)
        n_seen = sum(a["n_wrong_seen"] for a in audits)
        n_flagged = sum(a["n_flagged"] for a in audits)
        n_hits = sum(round(a["precision"] * a["n_flagged"]) for a in audits if a["precision"] is not None)
        extra = mean(kinds[f"noise{noise}+audit"][s]["extra_labels"] for s in seeds)
        wrong = (mean(kinds[f"noise{noise}"][s]["wrong_labels_at_end"] for s in seeds), mean(kinds[f"noise{noise}+audit"][s]["wrong_labels_at_end"] for s in seeds))
        print(
            f"| {dataset} | {len(seeds)} | {perfect:.4f} | {noisy:.4f} | {audited:.4f} | {_fmt(recovered, 2)} | {_fmt(ceiling, 2)} | "
            f"{_fmt(n_found / n_seen if n_seen else None, 2)} | {_fmt(n_hits / n_flagged if n_flagged else None, 2)} | "
            f"{n_flagged / len(seeds):.1f} | {extra:.1f} | {wrong[0]:.1f} / {wrong[1]:.1f} |"
        )
        per_loop_rows.append(f"- {dataset}: {_per_loop(audits)}")
    if recovered_all:
        print(f"\nmedian share of the noise's AULC cost recovered: {median(recovered_all):.2f} over {len(recovered_all)} datasets where noise lowered the AULC\n")
    if per_loop_rows:
        print("per loop, pooled over seeds (loop: precision/recall of that loop's checks):\n")
        print("\n".join(per_loop_rows) + "\n")
    return recovered_all


def main(*paths: str) -> None:
    """Print the tables; several result files are merged, first wins."""
    files = [json.loads(Path(p).read_text()) for p in paths or sorted(str(p) for p in Path(".").glob(DEFAULT))]
    cells: dict[str, Any] = {}
    for f in reversed(files):
        cells.update(f["cells"])
    by = _by(cells)
    print(f"protocol: {files[0]['protocol']}\n")
    strategies = sorted({s for d in by.values() for s in d if s != "-"})
    noises = sorted({k[len("noise"):] for d in by.values() for s in d.values() for k in s if k.startswith("noise") and "+" not in k})
    for strategy in strategies:
        for noise in noises:
            loop_tables(by, strategy, noise)
    for panel in ("3", "5"):
        rows = [(dataset, list(s["-"].get(f"consensus{panel}", {}).values())) for dataset, s in sorted(by.items())]
        rows = [(d, c) for d, c in rows if c]
        if not rows:
            continue
        print(f"### consensus over {panel} annotators (label accuracy against the truth; ranking of annotators right)\n")
        print("| dataset | seeds | majority | Dawid-Skene | CROWDLAB | DS ranking right | CROWDLAB ranking right |")
        print("|---|---|---|---|---|---|---|")
        for dataset, c in rows:

            def acc(method: str, cells: list[Any] = c) -> str:
                values = [x[method]["accuracy"] for x in cells if method in x]
                return _fmt(mean(values) if values else None, 4)

            def ranks(method: str, cells: list[Any] = c) -> str:
                values = [x[method]["ranking_correct"] for x in cells if method in x]
                return f"{sum(values)}/{len(values)}"

            print(f"| {dataset} | {len(c)} | {acc('majority')} | {acc('dawid_skene')} | {acc('crowdlab')} | {ranks('dawid_skene')} | {ranks('crowdlab')} |")
        print()
    for strategy in strategies:
        autos = [(dataset, [cell["autolabel"] for cell in s[strategy].get("perfect", {}).values()]) for dataset, s in sorted(by.items())]
        autos = [(d, a) for d, a in autos if a]
        if not autos:
            continue
        print(f"### auto-labelling at a 0.98 precision target ({strategy}, after the perfect-oracle run; 200 fresh human labels calibrate)\n")
        print("| dataset | seeds | runs that labelled | auto-labels (mean) | of unlabelled | measured precision (min, mean) |")
        print("|---|---|---|---|---|---|")
        for dataset, runs in autos:
            labelled = [a for a in runs if a["n_labelled"]]
            prec = [a["precision"] for a in labelled]
            print(
                f"| {dataset} | {len(runs)} | {len(labelled)} | {mean(a['n_labelled'] for a in runs):.0f} | {runs[0]['n_unlabelled']} | "
                f"{_fmt(min(prec) if prec else None, 3)}, {_fmt(mean(prec) if prec else None, 3)} |"
            )
        print()


if __name__ == "__main__":
    main(*sys.argv[1:])

"""Statistics of a quality run: AULC with confidence intervals, paired tests against random and across libraries, ranks."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
from scipy import stats

from loopwise.bench._cells import LOOPWISE
from loopwise.reports import labels_to_reach

REFERENCE = "random"
TARGETS = {"95": 0.95, "99": 0.99}


def _r(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float | None]:
    """Mean and the half-width of its Student-t confidence interval (``None`` below two values)."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    if values.size < 2:
        return mean, None
    sem = float(values.std(ddof=1)) / math.sqrt(values.size)
    return mean, float(stats.t.ppf(0.5 + level / 2, values.size - 1) * sem)


def paired(a: dict[int, float], b: dict[int, float]) -> dict[str, Any] | None:
    """``a - b`` over the seeds both have: mean, 95% CI, Wilcoxon signed-rank p (two-sided), win rate.

    The win rate counts a tie as half a win. All-zero differences (identical
    runs) give ``p = 1``; scipy's Wilcoxon drops zero differences otherwise.
    """
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    diff = np.array([a[s] - b[s] for s in seeds])
    mean, ci = mean_ci(diff)
    nonzero = diff[np.abs(diff) > 1e-12]
    p: float | None
    if nonzero.size == 0:
        p = 1.0
    else:
        p = float(stats.wilcoxon(diff, zero_method="wilcox").pvalue) if diff.size >= 2 else None
    wins = float(((diff > 1e-12).sum() + 0.5 * (np.abs(diff) <= 1e-12).sum()) / diff.size)
    return {"mean": _r(mean, 5), "ci95": _r(ci, 5), "p_wilcoxon": _r(p, 5), "win_rate": _r(wins, 3), "n": len(seeds)}


def _labels_to(cells: list[dict[str, Any]], target: float) -> tuple[float | None, int]:
    reached = [labels_to_reach(c["labels"], c["accuracy"], target) for c in cells]
    hits = [r for r in reached if r is not None]
    return (float(np.mean(hits)) if hits else None), len(hits)


def summarise_dataset(doc: dict[str, Any]) -> dict[str, Any]:
    """Per-strategy statistics of one dataset document (see :class:`~loopwise.bench.ResultStore`)."""
    full = doc["data"].get("full_pool_accuracy")
    by_strategy: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for cell in doc["cells"]:
        by_strategy[cell["strategy"]].append(cell)
    aulcs = {s: {int(c["seed"]): float(c["aulc"]) for c in cells} for s, cells in by_strategy.items()}
    reference = aulcs.get(REFERENCE)
    out: dict[str, Any] = {}
    for strategy, cells in by_strategy.items():
        values = np.array([c["aulc"] for c in cells])
        mean, ci = mean_ci(values)
        entry: dict[str, Any] = {
            "library": cells[0]["library"],
            "method": cells[0]["method"],
            "n_seeds": len(cells),
            "aulc_mean": _r(mean, 5),
            "aulc_ci95": _r(ci, 5),
            "final_accuracy_mean": _r(float(np.mean([c["accuracy"][-1] for c in cells])), 5),
            "select_seconds_mean": _r(float(np.mean([c["select_seconds"] for c in cells])), 3),
        }
        for key, fraction in TARGETS.items():
            if full is None:
                entry[f"labels_to_{key}"], entry[f"reached_{key}"] = None, 0
            else:
                mean_labels, hits = _labels_to(cells, fraction * full)
                entry[f"labels_to_{key}"] = _r(mean_labels, 1)
                entry[f"reached_{key}"] = hits
        # The seed-mean curve's first labels at 99% of full-pool accuracy (cells of a dataset share one labels grid).
        mean_curve = np.mean([c["accuracy"] for c in cells], axis=0).tolist() if full is not None else None
        entry["labels_to_99_mean_curve"] = (
            None if mean_curve is None else labels_to_reach(cells[0]["labels"], mean_curve, TARGETS["99"] * full)
        )
        entry["vs_random"] = None if reference is None or strategy == REFERENCE else paired(aulcs[strategy], reference)
        out[strategy] = entry
    ranks = _ranks({s: e["aulc_mean"] for s, e in out.items()})
    for strategy, rank in ranks.items():
        out[strategy]["rank"] = rank
    return {
        "dataset": doc["dataset"],
        "full_pool_accuracy": full,
        "protocol": doc["protocol"],
        "data": doc["data"],
        "strategies": out,
        "loopwise_vs_peers": _versus_peers(out, aulcs),
    }


def _ranks(means: dict[str, float | None]) -> dict[str, float]:
    names = [s for s, m in means.items() if m is not None]
    if not names:
        return {}
    ranks = stats.rankdata([-float(means[s]) for s in names])  # type: ignore[arg-type]
    return {s: float(r) for s, r in zip(names, ranks)}


def _versus_peers(entries: dict[str, Any], aulcs: dict[str, dict[int, float]]) -> list[dict[str, Any]]:
    """loopwise's strategy minus each peer's implementation of the same method, paired by seed.

    ``identical`` is true when both learning curves have the same AULC in every shared seed, as when
    both pick the same records (the order within a batch may differ: ``selection_digest`` in a cell
    hashes the labelling order, so it tells apart runs that label the same batch in another order).
    """
    rows = []
    for peer, entry in sorted(entries.items()):
        if entry["library"] == LOOPWISE:
            continue
        ours = entry["method"]
        if ours not in entries or entries[ours]["library"] != LOOPWISE:
            continue
        diff = paired(aulcs[ours], aulcs[peer])
        if diff is not None:
            shared = set(aulcs[ours]) & set(aulcs[peer])
            same = all(abs(aulcs[ours][k] - aulcs[peer][k]) < 1e-9 for k in shared)
            rows.append({"method": ours, "peer": peer, "library": entry["library"], **diff, "identical": same})
    return rows


def summarise_quality(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every dataset's statistics, plus each strategy's mean rank and mean AULC gain over random across datasets."""
    datasets = [summarise_dataset(doc) for doc in docs]
    ranks: dict[str, list[float]] = defaultdict(list)
    gains: dict[str, list[float]] = defaultdict(list)
    meta: dict[str, tuple[str, str]] = {}
    for ds in datasets:
        for strategy, entry in ds["strategies"].items():
            meta[strategy] = (entry["library"], entry["method"])
            if "rank" in entry:
                ranks[strategy].append(entry["rank"])
            if entry["vs_random"] is not None and entry["vs_random"]["mean"] is not None:
                gains[strategy].append(entry["vs_random"]["mean"])
    ratios: dict[str, list[float]] = defaultdict(list)
    for ds in datasets:
        random_99 = ds["strategies"].get(REFERENCE, {}).get("labels_to_99_mean_curve")
        for strategy, entry in ds["strategies"].items():
            if random_99 and entry.get("labels_to_99_mean_curve") is not None:
                ratios[strategy].append(entry["labels_to_99_mean_curve"] / random_99)
    overall = {
        strategy: {
            # Labels to 99% of full-pool accuracy over random's, by seed-mean curves: median over the datasets where both reach it.
            "labels_to_99_vs_random_median": _r(float(np.median(ratios[strategy])), 3) if ratios[strategy] else None,
            "labels_to_99_vs_random_n": len(ratios[strategy]),
            "library": meta[strategy][0],
            "method": meta[strategy][1],
            "mean_rank": _r(float(np.mean(ranks[strategy])), 3) if ranks[strategy] else None,
            "n_datasets": len(ranks[strategy]),
            "mean_aulc_gain_vs_random": _r(float(np.mean(gains[strategy])), 5) if gains[strategy] else None,
            "datasets_better_than_random": sum(
                1
                for ds in datasets
                if (v := ds["strategies"].get(strategy, {}).get("vs_random")) and v["mean"] > 0 and (v["p_wilcoxon"] or 1) < 0.05
            ),
            "datasets_worse_than_random": sum(
                1
                for ds in datasets
                if (v := ds["strategies"].get(strategy, {}).get("vs_random")) and v["mean"] < 0 and (v["p_wilcoxon"] or 1) < 0.05
            ),
        }
        for strategy in meta
    }
    return {"datasets": datasets, "overall": overall}

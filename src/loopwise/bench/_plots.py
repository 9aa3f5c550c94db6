"""Figures of a quality run: learning curves per dataset (one panel per method) and a summary across datasets."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from loopwise.bench._cells import LOOPWISE
from loopwise.bench._stats import REFERENCE, mean_ci

LIBRARY_COLOURS = {
    LOOPWISE: "#1f5fa8",
    "modAL": "#e8830c",
    "small-text": "#2e9c3f",
    "scikit-activeml": "#c4302b",
}
RANDOM_COLOUR = "0.45"
# Implementations of one method often pick the same records, so their curves coincide: loopwise is
# drawn wide and solid, each peer thinner with its own dash pattern on top, so all stay visible.
LIBRARY_STYLES = {
    LOOPWISE: {"lw": 2.6, "ls": "-"},
    "modAL": {"lw": 1.5, "ls": (0, (5, 2))},
    "small-text": {"lw": 1.5, "ls": (0, (1, 1.5))},
    "scikit-activeml": {"lw": 1.5, "ls": (0, (6, 2, 1, 2))},
}
METHOD_ORDER = (
    "least_confidence", "margin", "entropy", "qbc", "information_density", "kcenter", "ranked_batch", "typiclust", "badge",
)  # fmt: skip
DPI = 90


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)  # our own Agg canvas: no pyplot state, no backend switch
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    return path


def _mean_band(cells: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Mean accuracy per labels count and its 95% CI over seeds (seeds of a strategy share the labels grid)."""
    grids = {tuple(c["labels"]) for c in cells}
    if len(grids) != 1:
        return None
    x = np.asarray(cells[0]["labels"], dtype=np.float64)
    Y = np.asarray([c["accuracy"] for c in cells], dtype=np.float64)
    mean = Y.mean(axis=0)
    if len(cells) < 2:
        return x, mean, np.zeros_like(mean)
    half = np.array([mean_ci(Y[:, j])[1] or 0.0 for j in range(Y.shape[1])])
    return x, mean, half


def _curve(ax: Any, cells: list[dict[str, Any]], colour: str, label: str, style: dict[str, Any]) -> np.ndarray | None:
    band = _mean_band(cells)
    if band is None:
        return None
    x, mean, half = band
    ax.plot(x, mean, color=colour, label=label, **style)
    ax.fill_between(x, mean - half, mean + half, color=colour, alpha=0.15, lw=0)
    return mean


def plot_dataset(doc: dict[str, Any], path: Path) -> Path:
    """Learning curves of one dataset: a panel per method with loopwise, each peer and random (95% CI bands)."""
    by_strategy: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for cell in doc["cells"]:
        by_strategy[cell["strategy"]].append(cell)
    by_method: dict[str, list[str]] = defaultdict(list)
    for strategy, cells in by_strategy.items():
        if strategy != REFERENCE:
            by_method[cells[0]["method"]].append(strategy)
    methods = [m for m in METHOD_ORDER if m in by_method] + sorted(set(by_method) - set(METHOD_ORDER))
    n_cols = 4
    n_rows = max(1, -(-len(methods) // n_cols))
    fig = Figure(figsize=(3.6 * n_cols, 2.9 * n_rows + 0.6), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, sharex=True, sharey=True, squeeze=False).ravel()
    full = doc["data"].get("full_pool_accuracy")
    means: list[np.ndarray | None] = []
    for ax, method in zip(axes, methods):
        if REFERENCE in by_strategy:
            means.append(_curve(ax, by_strategy[REFERENCE], RANDOM_COLOUR, "random", {"lw": 1.3, "ls": "--"}))
        for strategy in sorted(by_method[method], key=lambda s: (by_strategy[s][0]["library"] != LOOPWISE, s)):
            library = by_strategy[strategy][0]["library"]
            style = LIBRARY_STYLES.get(library, {"lw": 1.5, "ls": "-"})
            means.append(_curve(ax, by_strategy[strategy], LIBRARY_COLOURS.get(library, "black"), library, style))
        if full is not None:
            ax.axhline(full, color="0.2", lw=0.8, ls=":")
        ax.set_title(method, fontsize=10)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        ax.legend(fontsize=7, loc="lower right")
    for ax in axes[len(methods) :]:
        ax.set_axis_off()
    drawn = [m for m in means if m is not None]
    if drawn:
        # The means set the range: with few seeds a t-interval can be wider than [0, 1].
        low = min(float(m.min()) for m in drawn)
        high = max([float(m.max()) for m in drawn] + ([full] if full is not None else []))
        pad = 0.05 * max(high - low, 0.05)
        axes[0].set_ylim(max(0.0, low - pad), min(1.0, high + pad))
    n_seeds = len({c["seed"] for c in doc["cells"]})
    fig.suptitle(
        f"{doc['dataset']}: test accuracy vs labels (mean of {n_seeds} seeds, 95% CI; dotted: full pool)", fontsize=11
    )
    fig.supxlabel("labelled records", fontsize=9)
    fig.supylabel("accuracy", fontsize=9)
    return _save(fig, path)


def plot_summary(summary: dict[str, Any], path: Path) -> Path:
    """Mean rank of each strategy across datasets, and its AULC gain over random per dataset and on average."""
    overall = summary["overall"]
    names = sorted((s for s in overall if overall[s]["mean_rank"] is not None), key=lambda s: overall[s]["mean_rank"])
    colours = [LIBRARY_COLOURS.get(overall[s]["library"], "black") for s in names]
    fig = Figure(figsize=(12, 0.32 * len(names) + 1.6), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(names))
    left.barh(y, [overall[s]["mean_rank"] for s in names], color=colours)
    left.set_yticks(y, names, fontsize=8)
    left.invert_yaxis()
    left.set_xlabel("mean rank by AULC across datasets (1 = best)")
    left.grid(axis="x", alpha=0.3)
    for i, strategy in enumerate(names):
        gains = [
            ds["strategies"][strategy]["vs_random"]["mean"]
            for ds in summary["datasets"]
            if strategy in ds["strategies"] and ds["strategies"][strategy]["vs_random"]
        ]
        if gains:
            right.scatter(100 * np.asarray(gains), np.full(len(gains), i), s=9, color=colours[i], alpha=0.45, lw=0)
        mean = overall[strategy]["mean_aulc_gain_vs_random"]
        if mean is not None:
            right.scatter([100 * mean], [i], s=46, marker="D", color=colours[i], edgecolor="black", lw=0.6)
    right.axvline(0, color="0.3", lw=0.8)
    right.set_xlabel("AULC − random, accuracy points (dots: datasets; diamond: mean)")
    right.grid(axis="x", alpha=0.3)
    present = {overall[s]["library"] for s in names}
    handles = [Patch(color=c, label=lib) for lib, c in LIBRARY_COLOURS.items() if lib in present]
    fig.legend(handles=handles, loc="outside upper center", ncols=max(1, len(handles)), fontsize=9, frameon=False)
    return _save(fig, path)

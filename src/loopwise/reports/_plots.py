"""Matplotlib figures of a set of runs, rendered off-screen to PNG bytes for the HTML report."""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from loopwise.core.tasks import metric_titles
from loopwise.reports._costs import ledger
from loopwise.reports._results import LoopPoint, RunResult

# Modest sizes: a 15-run, 30-loop, 26-class report must stay small and quick to open.
DPI = 80
STEP_ORDER = ("infer", "select", "train")
_STEP_COLOURS = {"infer": "#4c78a8", "select": "#f58518", "train": "#54a24b"}


def group_by_strategy(results: Sequence[RunResult]) -> dict[str, list[RunResult]]:
    """Runs per strategy, strategies in order of first appearance (the order the caller chose)."""
    groups: dict[str, list[RunResult]] = {}
    for run in results:
        groups.setdefault(run.strategy, []).append(run)
    return groups


def strategy_colours(strategies: Sequence[str]) -> dict[str, str]:
    """One colour per strategy, the same in every figure."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(strategies) <= 10 else "tab20"]
    return {name: _hex(cmap(i % cmap.N)) for i, name in enumerate(strategies)}


def _hex(rgba: tuple[float, ...]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgba[:3])


def _text(value: object) -> str:
    # Data names are literal text: an even number of "$" would otherwise switch on mathtext.
    return str(value).replace("$", r"\$")


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)  # Agg canvas of our own: no pyplot, no global backend switch
    buffer = io.BytesIO()
    # No "Software" metadata: smaller files, and the same bytes for the same data.
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _aligned(runs: Sequence[RunResult], value: Callable[[LoopPoint], float]) -> tuple[np.ndarray, np.ndarray]:
    """Runs' curves on one labels grid: ``(x, Y)`` with one row of ``Y`` per run.

    Seeds of one strategy usually share their labels grid; when they do not (adaptive batch
    sizes, a run stopped early) each run is interpolated on the union grid, inside its own
    labels range only, and is NaN outside it rather than extrapolated.
    """
    xs = [np.array([p.n_labelled for p in run.loops], dtype=np.float64) for run in runs]
    ys = [np.array([value(p) for p in run.loops], dtype=np.float64) for run in runs]
    if all(x.shape == xs[0].shape and np.array_equal(x, xs[0]) for x in xs):
        return xs[0], np.vstack(ys)
    grid = np.unique(np.concatenate(xs))
    rows = [np.where((grid >= x[0]) & (grid <= x[-1]), np.interp(grid, x, y), np.nan) for x, y in zip(xs, ys)]
    return grid, np.vstack(rows)


def _band(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Mean and band over seeds: ±1 std with 3 or more seeds, min–max with 2, none with 1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # grid points that only one run covers
        mean = np.nanmean(Y, axis=0)
        if Y.shape[0] == 1:
            return None
        if Y.shape[0] == 2:
            return mean, np.nanmin(Y, axis=0), np.nanmax(Y, axis=0)
        std = np.nanstd(Y, axis=0, ddof=1)
    return mean, mean - std, mean + std


def _mean_curve(ax: Axes, runs: Sequence[RunResult], value: Callable[[LoopPoint], float], colour: str,
                label: str | None, band: bool = True, lw: float = 1.6) -> None:
    x, Y = _aligned(runs, value)
    spread = _band(Y) if band else None
    if spread is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ax.plot(x, np.nanmean(Y, axis=0), color=colour, lw=lw, label=label, marker="." if len(x) < 15 else None)
        return
    mean, low, high = spread
    ax.plot(x, mean, color=colour, lw=lw, label=label)
    ax.fill_between(x, low, high, color=colour, alpha=0.18, lw=0)


def _legend_label(name: str, runs: Sequence[RunResult]) -> str:
    n = len(runs)
    spread = "" if n == 1 else (" min–max" if n == 2 else " ±1 sd")
    return _text(f"{name} ({n} seed{'s' if n > 1 else ''}{spread})")


def learning_curves_png(results: Sequence[RunResult]) -> bytes:
    """Accuracy and macro-F1 against labels bought: mean per strategy with a band over seeds."""
    groups = group_by_strategy(results)
    colours = strategy_colours(list(groups))
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    axes = fig.subplots(1, 2, sharex=True)
    score, second = metric_titles(results[0].task)
    panels: list[tuple[str, Callable[[LoopPoint], float]]] = [
        (score, lambda p: p.accuracy),
        (second, lambda p: p.macro_f1),
    ]
    for ax, (name, value) in zip(axes, panels):
        for strategy, runs in groups.items():
            _mean_curve(ax, runs, value, colours[strategy], _legend_label(strategy, runs))
        ax.set_xlabel("labelled records")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    full = [r.full_pool_accuracy for r in results if r.full_pool_accuracy is not None]
    if full:
        axes[0].axhline(float(np.mean(full)), color="0.35", ls="--", lw=1, label="full pool")
    axes[0].legend(fontsize=8, loc="lower right")
    return _png(fig)


def _class_f1(k: int) -> Callable[[LoopPoint], float]:
    return lambda p: p.per_class_f1[k]


def per_class_f1_png(results: Sequence[RunResult], n_cols: int = 6) -> bytes:
    """One small panel per class, one mean line per strategy: readable at 26 classes and beyond."""
    groups = group_by_strategy(results)
    colours = strategy_colours(list(groups))
    names = results[0].label_names if results[0].loops[0].per_class_f1 else []
    if not names:  # regression: one target, no classes
        fig = Figure(figsize=(4, 1), layout="constrained")
        fig.text(0.5, 0.5, f"no per-class F1 for {results[0].task}", ha="center", va="center")
        return _png(fig)
    n_cols = max(1, min(n_cols, len(names)))
    n_rows = math.ceil(len(names) / n_cols)
    scale = 1.5 if n_rows == 1 else 1.0  # a handful of classes gets panels big enough to read
    fig = Figure(figsize=(1.9 * scale * n_cols, 1.45 * scale * n_rows + 0.5), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, sharex=True, sharey=True, squeeze=False).ravel()
    for k, (ax, name) in enumerate(zip(axes, names)):
        for strategy, runs in groups.items():
            # No band here: 26 panels of overlapping bands would hide the lines they qualify.
            _mean_curve(ax, runs, _class_f1(k), colours[strategy], _text(strategy) if k == 0 else None,
                        band=False, lw=1.2)
        shown = name if len(name) <= 22 else name[:21] + "…"
        ax.set_title(_text(shown), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes[len(names):]:
        ax.set_axis_off()
    fig.supxlabel("labelled records", fontsize=8)
    fig.supylabel("F1", fontsize=8)
    fig.legend(loc="outside upper center", ncols=min(len(groups), 6), fontsize=8, frameon=False)
    return _png(fig)


def _steps(results: Sequence[RunResult]) -> list[str]:
    # infer/select/train first in pipeline order, then any extra step a loop recorded.
    # CPU and GPU seconds (keys "train_cpu", "train_gpu") are the ledger's, drawn in the cost figure instead.
    seen = {key for run in results for p in run.loops for key in p.timings if not key.endswith(("_cpu", "_gpu"))}
    return [s for s in STEP_ORDER if s in seen] + sorted(seen - set(STEP_ORDER))


def timings_png(results: Sequence[RunResult], n_cols: int = 3) -> bytes:
    """Seconds per loop, stacked by step (infer, select, train), averaged over seeds, per strategy."""
    groups = group_by_strategy(results)
    steps = _steps(results) or list(STEP_ORDER)
    n_cols = max(1, min(n_cols, len(groups)))
    n_rows = math.ceil(len(groups) / n_cols)
    fig = Figure(figsize=(3.8 * n_cols, 2.6 * n_rows + 0.4), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, sharey=True, squeeze=False).ravel()
    extra = ["#b279a2", "#9d755d", "#bab0ac", "#e45756"]
    colour = {s: _STEP_COLOURS.get(s) or extra[i % len(extra)] for i, s in enumerate(steps)}
    for ax, (strategy, runs) in zip(axes, groups.items()):
        n_loops = max(len(r.loops) for r in runs)
        bottom = np.zeros(n_loops)
        for step in steps:
            # Mean over the seeds that ran that many loops; a missing step counts as no time.
            seconds = np.full((len(runs), n_loops), np.nan)
            for i, run in enumerate(runs):
                seconds[i, : len(run.loops)] = [p.timings.get(step, 0.0) for p in run.loops]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nan_to_num(np.nanmean(seconds, axis=0))
            ax.bar(np.arange(n_loops), mean, bottom=bottom, color=colour[step], width=0.85,
                   label=_text(step) if ax is axes[0] else None)
            bottom += mean
        ax.set_title(_text(strategy), fontsize=9)
        ax.set_xlabel("loop", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[len(groups):]:
        ax.set_axis_off()
    axes[0].set_ylabel("seconds", fontsize=8)
    fig.legend(loc="outside upper center", ncols=len(steps), fontsize=8, frameon=False)
    return _png(fig)


def cost_png(results: Sequence[RunResult]) -> bytes:
    """The cost curves: accuracy against total money spent (labels + compute), and CPU seconds against labels."""
    groups = group_by_strategy(results)
    colours = strategy_colours(list(groups))
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    ax_acc, ax_cpu = fig.subplots(1, 2)
    for strategy, runs in groups.items():
        for i, run in enumerate(runs):
            # One thin line per run: seeds differ in compute, so there is no common money axis to average on.
            rows = ledger(run)
            label = _text(f"{strategy} ({len(runs)} run{'s' if len(runs) > 1 else ''})") if i == 0 else None
            ax_acc.plot([r["total_cost"] for r in rows], [r["accuracy"] for r in rows],
                        color=colours[strategy], lw=1.1, alpha=0.85, label=label)
            ax_cpu.plot([r["total_labels"] for r in rows], [r["total_cpu_seconds"] for r in rows],
                        color=colours[strategy], lw=1.1, alpha=0.85)
    full = [run.full_pool_accuracy for run in results if run.full_pool_accuracy is not None]
    if full:
        ax_acc.axhline(0.95 * float(np.mean(full)), color="#888", lw=0.8, ls="--")
    ax_acc.set_xlabel("total spent (labels + compute)")
    ax_acc.set_ylabel(metric_titles(results[0].task)[0])
    ax_cpu.set_xlabel("labels bought")
    ax_cpu.set_ylabel("cumulative CPU seconds (train + infer + select)")
    for ax in (ax_acc, ax_cpu):
        ax.grid(alpha=0.3)
    ax_acc.legend(fontsize=8, loc="lower right")
    return _png(fig)

"""The report of token-classification runs: entity F1 against labelled tokens, mean per strategy, with each run's last loop."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from loopwise.errors import DataError
from loopwise.reports._plots import _png, _text, strategy_colours


def mean_curve(runs: Sequence[Mapping[str, Any]], grid: np.ndarray, metric: str = "entity_f1") -> np.ndarray:
    """The mean over runs of each run's ``metric`` interpolated at the labelled-token counts ``grid`` (NaN past a run's last loop)."""
    rows = []
    for run in runs:
        x = np.asarray([p["tokens"] for p in run["curve"]], dtype=float)
        y = np.asarray([p[metric] for p in run["curve"]], dtype=float)
        rows.append(np.where(grid <= x[-1], np.interp(grid, x, y), np.nan))
    stacked = np.vstack(rows)
    counts = np.isfinite(stacked).sum(axis=0)
    total = np.where(np.isfinite(stacked), stacked, 0.0).sum(axis=0)
    return np.divide(total, counts, out=np.full(len(grid), np.nan), where=counts > 0)


def _check(curves: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for run in curves:
        if not run["curve"]:
            raise DataError(f"run {run['run_id']!r} has no loops; a report needs at least one evaluated loop")
        for point in run["curve"]:
            if point.get("tokens") is None or point.get("entity_f1") is None:
                raise DataError(f"run {run['run_id']!r}, loop {point.get('loop')}: no labelled tokens or entity F1 (not an evaluated sentence run)")
        groups.setdefault(str(run["strategy"]), []).append(run)
    if not groups:
        raise DataError("no runs to report")
    return groups


def curve_png(curves: Sequence[Mapping[str, Any]]) -> bytes:
    """Mean entity F1 by labelled tokens for each strategy (faint lines: its runs)."""
    groups = _check(curves)
    colours = strategy_colours(list(groups))
    top = max(p["tokens"] for run in curves for p in run["curve"])
    grid = np.linspace(0, top, 200)
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    for name, runs in groups.items():
        for run in runs:
            ax.plot([p["tokens"] for p in run["curve"]], [p["entity_f1"] for p in run["curve"]], color=colours[name], alpha=0.2, linewidth=0.8)
        ax.plot(grid, mean_curve(runs, grid), color=colours[name], linewidth=2, label=_text(f"{name} ({len(runs)} runs)"))
    ax.set_xlabel("labelled tokens")
    ax.set_ylabel("entity F1 (seqeval)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return _png(fig)


def render_sequence_html(curves: Sequence[Mapping[str, Any]], title: str = "loopwise: token classification") -> str:
    """A self-contained HTML page: the curve figure and a table of each run's last loop."""
    _check(curves)
    rows = []
    for run in curves:
        last = run["curve"][-1]
        rows.append([run["run_id"], run["strategy"], str(run["seed"]), str(last["sentences"]), str(last["tokens"]),
                     f"{last['entity_f1']:.3f}", f"{last['entity_precision']:.3f}", f"{last['entity_recall']:.3f}"])
    head = "".join(f"<th>{escape(h)}</th>" for h in ("run", "strategy", "seed", "sentences", "tokens", "entity F1", "precision", "recall"))
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    image = base64.b64encode(curve_png(curves)).decode("ascii")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head><body>"
        f"<h1>{escape(title)}</h1><p>Entity F1 on the evaluation split against the tokens labelled; the cost of a sentence is its tokens.</p>"
        f"<img alt='entity F1 by labelled tokens' src='data:image/png;base64,{image}'>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )


def write_sequence_html(curves: Sequence[Mapping[str, Any]], path: str | Path) -> None:
    Path(path).write_text(render_sequence_html(curves), encoding="utf-8")

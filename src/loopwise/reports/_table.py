"""The per-strategy summary table, as rows of text shared by the terminal and the HTML report."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from loopwise.core.tasks import CLASSIFICATION, metric_titles
from loopwise.reports._summary import RANDOM_STRATEGY, TARGETS

SUMMARY_HEADERS: list[str] = [
    "strategy",
    "seeds",
    "AULC",
    "final accuracy",
    *(f"labels to {key}%" for key in TARGETS),
    *(f"saving vs random @{key}%" for key in TARGETS),
]


def summary_headers(summary: dict[str, Any]) -> list[str]:
    """``SUMMARY_HEADERS`` with the run's headline metric named (final micro F1, final -RMSE ...)."""
    title = metric_titles(str(summary.get("task") or CLASSIFICATION))[0]
    return [f"final {title}" if h == "final accuracy" else h for h in SUMMARY_HEADERS]


def _mean_std(mean: float | None, std: float | None, digits: int = 3) -> str:
    if mean is None:
        return "–"
    return f"{mean:.{digits}f}" if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


def _labels(stats: dict[str, Any], key: str) -> str:
    mean, reached, n = stats[f"labels_to_{key}_mean"], stats[f"reached_{key}"], stats["n_seeds"]
    if mean is None:
        return f"never (0/{n})"
    # Say how many seeds got there: a mean over the lucky seeds alone would mislead.
    return f"{mean:,.0f}" if reached == n else f"{mean:,.0f} ({reached}/{n})"


def _saving(name: str, value: float | None) -> str:
    if name == RANDOM_STRATEGY:
        return "baseline"
    return "–" if value is None else f"{value:+.0%}"


def summary_rows(summary: dict[str, Any]) -> list[list[str]]:
    """One row of display text per strategy, in the column order of ``SUMMARY_HEADERS``."""
    rows = []
    for name, stats in summary["strategies"].items():
        rows.append(
            [
                name,
                str(stats["n_seeds"]),
                _mean_std(stats["aulc_mean"], stats["aulc_std"]),
                _mean_std(stats["final_accuracy_mean"], stats["final_accuracy_std"]),
                *(_labels(stats, key) for key in TARGETS),
                *(_saving(name, stats[f"saving_vs_random_{key}"]) for key in TARGETS),
            ]
        )
    return rows


def render_table(summary: dict[str, Any]) -> Table:
    """A rich table with one row per strategy: AULC, final accuracy, labels to 95/99%, saving vs random."""
    # Strategy and dataset names are data, not rich markup: "[red]" in a name must print as-is.
    table = Table(title=f"{escape(str(summary['dataset']))}: strategies compared", title_justify="left")
    for i, header in enumerate(summary_headers(summary)):
        table.add_column(header, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for row in summary_rows(summary):
        table.add_row(*(escape(cell) for cell in row))
    return table

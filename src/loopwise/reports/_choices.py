"""Per loop, what ``auto`` chose and why, and where its labels say the active picks lose to random."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from loopwise.reports._results import RunResult

VERDICT_NOTE = (
    "From labels alone: the random-control slice of every batch is a held-out sample of the pool; each "
    "batch's reward is the share of the slice's log-loss it removed, and the verdict compares the mean "
    "reward of the loops the active arms bought with the loops the random arm bought (90% Welch interval; "
    "no verdict before the random arm has been played and rewarded). Slice accuracy: the accuracy of the "
    "previous loop's model on its own slice, an unbiased estimate of its accuracy on the pool."
)


def losing_loops(run: RunResult) -> list[int]:
    """Loops of ``run`` whose strategy said, from labels alone, that its active picks were losing to random."""
    return [p.loop_index for p in run.loops if p.selection.get("active_losing") is True]


def significant_losing_loops(run: RunResult) -> list[int]:
    """Loops of ``run`` where the 90% interval of active minus random reward lies wholly below 0."""
    out = []
    for p in run.loops:
        high = (p.selection.get("active_vs_random") or {}).get("high")
        if high is not None and high < 0:
            out.append(p.loop_index)
    return out


def losing_summary(results: Sequence[RunResult]) -> dict[str, dict[str, list[int]]]:
    """``{run_id: {"losing": [...], "significant": [...]}}`` for the runs that record a verdict at all."""
    return {
        r.run_id: {"losing": losing_loops(r), "significant": significant_losing_loops(r)}
        for r in results
        if any("active_losing" in p.selection for p in r.loops)
    }


def losing_lines(results: Sequence[RunResult]) -> list[str]:
    """One plain sentence per run whose labels say its active part is losing to random (what the CLI prints)."""
    lines = []
    for run_id, verdict in losing_summary(results).items():
        if verdict["losing"]:
            sig = verdict["significant"]
            significant = f" (significantly in {', '.join(map(str, sig))})" if sig else ""
            lines.append(f"run {run_id}: the active part is losing to random, from labels alone, in loops "
                         f"{', '.join(map(str, verdict['losing']))}{significant}")
    return lines


def _num(value: Any, spec: str = ".3f") -> str:
    return "–" if value is None else format(float(value), spec)


def _verdict(sel: dict[str, Any]) -> str:
    cmp = sel.get("active_vs_random")
    losing = sel.get("active_losing")
    if losing is None or not cmp:
        return "no verdict yet"
    interval = "" if cmp.get("low") is None else f" [{_num(cmp['low'], '+.3f')}, {_num(cmp['high'], '+.3f')}]"
    word = "active part is LOSING to random" if losing else "active part is not behind random"
    if cmp.get("high") is not None and cmp["high"] < 0:
        word += " (significant)"
    return f"{word}: {_num(cmp['diff'], '+.3f')}{interval}, {cmp['n_active']} active / {cmp['n_random']} random loops"


def _run_table(run: RunResult) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("loop", "labels", "arm", "why", "arm values", "slice accuracy",
                                              "active vs random"))
    rows = []
    for p in run.loops:
        sel = p.selection
        if "arm" not in sel:
            continue
        values = ", ".join(f"{k} {float(v):.3g}" for k, v in (sel.get("values") or {}).items()) or "–"
        acc = sel.get("slice_accuracy")
        acc_text = "–" if acc is None else f"{float(acc):.3f} (n {sel.get('slice_n', 0)}; last 3: {_num(sel.get('slice_accuracy_last3'))}, n {sel.get('slice_n_last3', 0)})"
        cls = ' class="losing"' if sel.get("active_losing") is True else ""
        cells = [str(p.loop_index), f"{p.n_labelled:,}", str(sel["arm"]), str(sel.get("reason", "")), values, acc_text, _verdict(sel)]
        rows.append(f"<tr{cls}>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    return f'<table class="data choices"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def choices_section(results: Sequence[RunResult]) -> str:
    """The report's section on the choices of runs whose strategy explains them (``auto``), or ``""``."""
    runs = [r for r in results if any("arm" in p.selection for p in r.loops)]
    if not runs:
        return ""
    parts = ['<section id="choices">', "<h2>auto's choices per loop</h2>"]
    alerts = []
    for r in runs:
        losing = losing_loops(r)
        if losing:
            alerts.append(f"<li>{escape(r.run_id)} ({escape(r.strategy)}, seed {r.seed}): the active part is losing to "
                          f"random, from labels alone, in loops {escape(', '.join(map(str, losing)))}</li>")
    if alerts:
        parts.append(f'<ul id="active-losing">{"".join(alerts)}</ul>')
    for r in runs:
        parts.append(f"<details><summary>{escape(r.run_id)} ({escape(r.strategy)}, seed {r.seed})</summary>"
                     f"{_run_table(r)}</details>")
    parts.append(f'<p class="note">{escape(VERDICT_NOTE)}</p>')
    parts.append("</section>")
    return "\n".join(parts)

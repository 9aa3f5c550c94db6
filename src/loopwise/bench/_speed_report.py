"""The results file and the Markdown section of ``loopwise bench speed``: ratios to the peers and the floors."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from loopwise.bench._speed_cases import LIBRARIES, LIBRARY_NAMES, SpeedResult


def write_results(path: Path, results: list[SpeedResult], env: dict[str, Any], command: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"command": command, "environment": env, "results": [asdict(r) for r in results]}
    path.write_text(json.dumps(payload, indent=1) + "\n")


def load_results(path: Path) -> tuple[list[SpeedResult], dict[str, Any], str]:
    payload = json.loads(Path(path).read_text())
    return [SpeedResult(**r) for r in payload["results"]], payload["environment"], payload.get("command", "")


# -- tables ------------------------------------------------------------------------------------

#: The speed floors of issue 4: (method, n, d, batch) -> (seconds, MiB or None).
FLOORS: dict[tuple[str, int, int, int], tuple[float, float | None]] = {
    ("least_confidence", 1_000_000, 64, 100): (0.05, 100.0),
    ("kcenter", 1_000_000, 64, 100): (3.0, 300.0),
    ("badge", 1_000_000, 64, 1000): (60.0, None),
    ("cluster_margin", 1_000_000, 64, 1000): (60.0, None),
    ("auto", 1_000_000, 64, 100): (2.0, 500.0),  # issue 9, with a history of 10 loops
}

#: Methods timed against another loopwise method of the same run (same pool, batch and load): method -> baseline.
BASELINES = {"auto": "margin"}


def _seconds(s: float) -> str:
    return f"{s * 1000:.3g} ms" if s < 1 else f"{s:.3g} s"


def _cell(r: SpeedResult | None) -> str:
    if r is None:
        return "-"
    if r.status == "ok" and r.best_s is not None:
        return f"{_seconds(r.best_s)} / {r.peak_extra_mib:.0f} MiB"
    return {"timeout": "> cap", "oom": "out of memory", "error": "error", "skipped": "skipped"}.get(r.status, r.status)


def ratio_rows(results: list[SpeedResult]) -> list[dict[str, Any]]:
    """One row per (method, n, d, batch): loopwise's figures, each peer's, and loopwise/peer time ratios."""
    by_key = {r.key(): r for r in results}
    rows = []
    for r in results:
        if r.library != "loopwise":
            continue
        row: dict[str, Any] = {"method": r.method, "n": r.n, "d": r.d, "batch": r.batch, "loopwise": r, "peers": {}}
        for lib in LIBRARIES[1:]:
            peer = by_key.get((lib, r.method, r.n, r.d, r.batch))
            if peer is None:
                continue
            ratio = None
            if r.status == "ok" and peer.status == "ok" and peer.best_s and r.best_s is not None:
                ratio = r.best_s / peer.best_s
            row["peers"][lib] = (peer, ratio)
        rows.append(row)
    return rows


def _ratio_text(peer: SpeedResult, ratio: float | None, cap_s: float | None, mine: SpeedResult | None = None) -> str:
    if ratio is not None:
        return f"{ratio:.2g}"
    slow = peer.status == "timeout" or (peer.status == "skipped" and peer.detail.startswith(("timeout", "projected")))
    if mine is not None and mine.status == "ok" and mine.best_s is not None and slow and cap_s:
        return f"< {mine.best_s / cap_s:.2g}"  # the peer would take longer than the cap
    return "n/a"


def floor_rows(results: list[SpeedResult]) -> list[tuple[str, str, str, str]]:
    """(configuration, floor, measured, verdict) for each floor the results cover."""
    by_key = {r.key(): r for r in results}
    out = []
    for (method, n, d, batch), (seconds, mib) in FLOORS.items():
        r = by_key.get(("loopwise", method, n, d, batch))
        if r is None:
            continue
        what = f"{method}, {batch:,} from {n:,} x {d}"
        floor = f"<= {_seconds(seconds)}" + (f", <= {mib:g} MiB" if mib is not None else "")
        if r.status != "ok" or r.best_s is None:
            out.append((what, floor, r.status, "missed"))
            continue
        ok = r.best_s <= seconds and (mib is None or (r.peak_extra_mib or 0.0) <= mib)
        out.append((what, floor, _cell(r), "met" if ok else "missed"))
    return out


def baseline_rows(results: list[SpeedResult]) -> list[tuple[str, str, str, str, str]]:
    """(configuration, arm played, method's cell, baseline's cell, time ratio) for each method in :data:`BASELINES`."""
    by_key = {r.key(): r for r in results}
    out = []
    for r in results:
        base_method = BASELINES.get(r.method)
        if r.library != "loopwise" or base_method is None:
            continue
        base = by_key.get(("loopwise", base_method, r.n, r.d, r.batch))
        ratio = "n/a"
        if base is not None and r.status == base.status == "ok" and r.best_s is not None and base.best_s:
            ratio = f"{r.best_s / base.best_s:.3g}"
        what = f"{r.method} vs {base_method}, {r.batch:,} from {r.n:,} x {r.d}"
        out.append((what, str(r.extra.get("arm", "-")), _cell(r), _cell(base), ratio))
    return out


def _table(rows: list[dict[str, Any]], cap: float | None) -> list[str]:
    lines = ["| method | pool | d | batch | loopwise | peer | peer | loopwise/peer |", "|---|---:|---:|---:|---|---|---|---:|"]
    for row in rows:
        lw: SpeedResult = row["loopwise"]
        base = f"| {row['method']} | {row['n']:,} | {row['d']} | {row['batch']} | {_cell(lw)} |"
        if not row["peers"]:
            lines.append(base + " - | - | - |")
            continue
        for lib, (peer, ratio) in row["peers"].items():
            lines.append(base + f" {LIBRARY_NAMES[lib]} | {_cell(peer)} | {_ratio_text(peer, ratio, cap, lw)} |")
    return lines


def render_markdown(
    results: list[SpeedResult], env: dict[str, Any], command: str, raw: str = "benchmarks/results/speed_grid.json"
) -> str:
    """The Speed section: conditions, the floors, loopwise against the peers at 1M x 64, and every configuration.

    ``raw`` names the JSON file the figures come from.
    """
    cap = env.get("cap_s")
    lines = [
        f"Command (from the repository root): `{command}`",
        "",
        f"Run on {env.get('cpu')}, {env.get('cpus')} CPUs, {env.get('memory_gib')} GiB, {env.get('time')}; "
        f"load average {env.get('load_average')} at the start and {env.get('load_average_end')} at the end "
        f"(1-minute, 5-minute, 15-minute); {env.get('duration_s')} s in all; cap {cap:g} s and "
        f"{env.get('mem_cap_gib'):g} GiB per configuration. "
        "Versions: " + ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items() if v) + ". "
        f"Raw figures: `{raw}`.",
        "",
        "Cells are the best time of one selection / peak memory above the pool's own arrays. "
        "loopwise/peer is the time ratio (below 1: loopwise is faster; `< x` where the peer passed the cap "
        "or was skipped as projected past it).",
        "",
    ]
    floors = floor_rows(results)
    if floors:
        lines += ["#### The floors", "", "| configuration | floor | measured | |", "|---|---|---|---|"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in floors]
        lines.append("")
    baselines = baseline_rows(results)
    if baselines:
        lines += ["#### Against a baseline of the same run", "",
                  "| configuration | arm played | method | baseline | time ratio |", "|---|---|---|---|---:|"]  # fmt: skip
        lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in baselines]
        lines.append("")
    rows = ratio_rows(results)
    largest = max((r.n for r in results), default=0)
    smallest_d = min((r.d for r in results), default=0)
    headline = [row for row in rows if row["n"] == largest and row["d"] == smallest_d]
    if headline:
        lines += [f"#### Every method on {largest:,} x {smallest_d}", ""]
        lines += _table(headline, cap)
        lines.append("")
    lines += ["#### All configurations", "", "<details><summary>every pool size, dimension and batch</summary>", ""]
    lines += _table(rows, cap)
    lines += ["", "</details>"]
    notes = sorted({(r.library, r.method, r.note) for r in results if r.note})
    if notes:
        lines += ["", "Peer calls:", ""]
        lines += [f"- {LIBRARY_NAMES[lib]} {method}: {note}." for lib, method, note in notes]
    failures = sorted({(r.library, r.method, r.detail) for r in results if r.status in ("error", "oom")})
    if failures:
        lines += ["", "Failures (first configuration where each happened):", ""]
        seen = set()
        for r in results:
            if r.status in ("error", "oom") and (r.library, r.method) not in seen:
                seen.add((r.library, r.method))
                lines.append(f"- {LIBRARY_NAMES[r.library]} {r.method} at n={r.n:,}, d={r.d}, batch={r.batch}: {r.status}, {r.detail}")
    return "\n".join(lines) + "\n"

"""`loopwise bench server`: the annotation server under 50/100/200 annotators, SQLite and PostgreSQL, 1 and N processes."""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from loopwise.cli._common import console, user_errors
from loopwise.errors import ConfigError


def server_cmd(
    annotators: Annotated[list[int] | None, typer.Option("--annotators", help="Simulated annotators; repeat. Default: 50, 100, 200.")] = None,
    store: Annotated[list[str] | None, typer.Option("--store", help="sqlite or postgresql; repeat. Default: both (PostgreSQL when a URL is given).")] = None,
    workers: Annotated[list[int] | None, typer.Option("--workers", help="Server processes; repeat. Default: 1 and 2.")] = None,
    seconds: Annotated[float, typer.Option(help="Length of each run, seconds.", min=1)] = 15.0,
    postgres: Annotated[str | None, typer.Option("--postgres", help="PostgreSQL URL whose user may create databases; default $LOOPWISE_TEST_POSTGRES_URL.")] = None,
    out: Annotated[Path, typer.Option(help="JSON results file.")] = Path("benchmarks/results/server_load.json"),
    client: Annotated[str, typer.Option("--client", help="The annotators' HTTP client: raw (a light keep-alive client, little CPU) or httpx.")] = "raw",
) -> None:
    """Load a real `loopwise serve` on loopback and print p50/p95/p99 of next record and submit, throughput,
    the server's CPU per request, the load average, errors and lost labels per configuration, with ratios
    against 50 annotators on SQLite in one process."""
    from loopwise.bench.server_load import CLIENTS, add_ratios, dataset, machine, run_cell

    with user_errors():
        postgres = postgres or os.environ.get("LOOPWISE_TEST_POSTGRES_URL")
        stores = store or (["sqlite", "postgresql"] if postgres else ["sqlite"])
        for name in stores:
            if name not in ("sqlite", "postgresql"):
                raise ConfigError(f"--store must be sqlite or postgresql, got {name!r}")
        if client not in CLIENTS:
            raise ConfigError(f"--client must be one of {', '.join(CLIENTS)}, got {client!r}")
        if "postgresql" in stores and not postgres:
            raise ConfigError("--store postgresql needs --postgres URL or LOOPWISE_TEST_POSTGRES_URL")
        counts = sorted(set(annotators or [50, 100, 200]))
        processes = sorted(set(workers or [1, 2]))
        plan = [(s, w, n) for s in stores for w in processes for n in counts]
        if ("sqlite", 1, 50) not in plan:
            plan.insert(0, ("sqlite", 1, 50))  # the baseline every ratio is taken against
        console.print(f"{len(plan)} configurations, {seconds:.0f} s each; load average now {machine()['load_average']}", highlight=False)
        data = dataset()
        cells: list[dict[str, Any]] = []
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="loopwise-bench-server-") as tmp:
            for i, (kind, n_workers, n) in enumerate(plan, 1):
                console.print(f"[{i}/{len(plan)}] {kind}, {n_workers} process(es), {n} annotators, {seconds:.0f} s ...", highlight=False)
                cell = run_cell(kind, n_workers, n, seconds, Path(tmp) / f"cell{i}", postgres_url=postgres, data=data, client=client)
                cells.append(cell)
                console.print(
                    f"    next p95 {cell['next_ms']['p95']:.1f} ms, p99 {cell['next_ms']['p99']:.1f} ms; "
                    f"{cell['requests_per_s']:.0f} requests/s; server CPU {cell['serving_cpu_ms_per_request']:.2f} ms/request, "
                    f"client CPU {cell['client_cpu_ms_per_request']:.2f} ms/request; errors {cell['errors']}, lost {cell['lost']}, "
                    f"served twice {cell['double_served']}; load average {cell['load_average'][0]:.1f} ({time.monotonic() - started:.0f} s so far)",
                    highlight=False,
                )
        add_ratios(cells)
        measured_on = machine()
        report = {
            "command": shlex.join(["loopwise", "bench", "server", *sys.argv[3:]]),
            "machine": measured_on, "seconds": seconds, "think_s": [0.5, 1.5], "client": client, "cells": cells,
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        console.print(_table(cells))
        console.print(f"load average at the end: {measured_on['load_average']}; wrote {out}", highlight=False)
        if any(c["errors"] or c["lost"] or c["doubled"] or c["double_served"] for c in cells):
            console.print("some configuration had errors, lost or doubled labels, or a record served twice", style="red")
            raise typer.Exit(1)


def _table(cells: list[dict[str, Any]]) -> Table:
    table = Table(title="annotation server under load (latencies in ms; ratio: p95 against sqlite/1/50)")
    for name in ("store", "proc", "annot.", "req/s", "next p50/p95/p99", "submit p50/p95/p99", "ratio next/submit p95",
                 "CPU ms/req", "load", "errors", "lost", "served twice"):
        table.add_column(name, justify="right")
    for c in cells:
        n, s, r = c["next_ms"], c["submit_ms"], c.get("ratio") or {}
        table.add_row(
            c["store"], str(c["workers"]), str(c["annotators"]), f"{c['requests_per_s']:.0f}",
            f"{n['p50']:.1f} / {n['p95']:.1f} / {n['p99']:.1f}", f"{s['p50']:.1f} / {s['p95']:.1f} / {s['p99']:.1f}",
            f"{r.get('next_p95')} / {r.get('submit_p95')}", f"{c['serving_cpu_ms_per_request']:.2f}", f"{c['load_average'][0]:.1f}",
            str(c["errors"]), str(c["lost"]), str(c["double_served"]),
        )
    return table

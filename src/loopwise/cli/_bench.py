"""`loopwise bench`: benchmark commands (quality here; speed lives beside it on the same app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from loopwise.cli._common import console, err_console, user_errors

bench_app = typer.Typer(help="Benchmarks on real data: quality against random and the peer libraries.", no_args_is_help=True)

DEFAULT_CONFIG = Path("benchmarks/quality.toml")


@bench_app.command("quality")
def quality_cmd(
    dataset: Annotated[list[str] | None, typer.Option("--dataset", help="Dataset name or dataset folder; repeat. Default: the config's list.")] = None,
    strategy: Annotated[list[str] | None, typer.Option("--strategy", help="loopwise strategy or peer (modal:margin, small_text:kcenter, skactiveml:qbc); repeat.")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML plan (datasets, strategies, protocol, per-dataset budgets, caps). Default: benchmarks/quality.toml if present.")] = None,
    seeds: Annotated[int | None, typer.Option(help="Seeds per cell (0..N-1); default from the config, else 10.", min=1)] = None,
    pool_size: Annotated[int | None, typer.Option(help="Subsample every pool to this many records (stratified, split seed).", min=1)] = None,
    max_test: Annotated[int | None, typer.Option(help="Cap every test set at this many records.", min=1)] = None,
    initial: Annotated[int | None, typer.Option(help="Size of the shared loop-0 sample.", min=1)] = None,
    batch: Annotated[int | None, typer.Option(help="Records bought per loop.", min=1)] = None,
    budget: Annotated[int | None, typer.Option(help="Labels per run, loop 0 included (overrides per-dataset budgets).", min=1)] = None,
    init: Annotated[str | None, typer.Option(help="Loop-0 sample shared by every strategy of a seed: random (default), diverse, typiclust, probcover.")] = None,
    results: Annotated[Path, typer.Option(help="Results folder: one JSON per dataset; finished cells are never run again.")] = Path("benchmarks/results"),
    out: Annotated[Path, typer.Option(help="Folder for the figures and quality_summary.json.")] = Path("docs/benchmarks"),
    doc: Annotated[Path | None, typer.Option(help="Markdown file whose generated-tables markers get the tables (else OUT/quality_tables.md).")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes.", min=1)] = 2,
    report_only: Annotated[bool, typer.Option("--report-only", help="Only summarise what the results folder holds.")] = False,
    rerun: Annotated[list[str] | None, typer.Option("--rerun", help="Drop this strategy's stored cells and run them again (its code changed); repeat.")] = None,
) -> None:
    """Run (or resume) the quality benchmark, then write statistics, figures and tables."""
    from loopwise.bench import load_plan, report_quality, run_quality

    with user_errors():
        if config is None and DEFAULT_CONFIG.is_file():
            config = DEFAULT_CONFIG
        overrides = {"pool_size": pool_size, "max_test": max_test, "initial": initial, "batch": batch, "budget": budget, "init": init}
        if doc is not None:
            _check_doc(doc)  # before any cell runs: a bad --doc would otherwise fail after hours of work
        plan = load_plan(config, datasets=dataset, strategies=strategy, seeds=seeds, overrides=overrides)
        if rerun:
            _forget(plan, results, rerun)
        if not report_only:
            _run(plan, results, jobs)
        names = [p.dataset for p in plan.protocols]
        summary = report_quality(results, out, doc=doc, caps=plan.caps, datasets=names)
        _print_headline(summary)
        console.print(f"figures and quality_summary.json in [bold]{out}[/]" + (f"; tables in [bold]{doc}[/]" if doc else ""))


def _check_doc(doc: Path) -> None:
    """Refuse a ``--doc`` that is missing, unreadable or has no generated-tables markers, naming the file."""
    from loopwise.bench._report import BEGIN, END
    from loopwise.errors import ConfigError

    try:
        text = doc.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"--doc {doc}: no such file (give an existing Markdown file, or leave --doc out)") from None
    except IsADirectoryError:
        raise ConfigError(f"--doc {doc} is a folder; give a Markdown file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--doc {doc}: cannot read it as UTF-8 text: {exc}") from None
    if BEGIN not in text or END not in text:
        raise ConfigError(f"--doc {doc} has no generated-tables markers; add the lines {BEGIN} and {END} where the tables go")


def _forget(plan, results: Path, strategies: list[str]) -> None:  # noqa: ANN001 - QualityPlan, imported lazily
    from loopwise.bench import ResultStore
    from loopwise.errors import ConfigError

    unplanned = sorted(set(strategies) - set(plan.strategies))
    if unplanned:
        raise ConfigError(f"--rerun {', '.join(unplanned)}: not in this run's strategies ({', '.join(plan.strategies)})")
    store = ResultStore(results)
    dropped = sum(store.forget(protocol, strategies) for protocol in plan.protocols)
    console.print(f"dropped {dropped} stored cells of {', '.join(strategies)} in {results}; they run again")


def _run(plan, results: Path, jobs: int) -> None:  # noqa: ANN001 - QualityPlan, imported lazily
    from loopwise.bench import run_quality

    progress = Progress(
        TextColumn("[bold]quality[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("cells", total=None, last="")

        def on_start(n_todo: int, n_done: int) -> None:
            progress.update(task, total=n_todo)
            if n_done:
                console.print(f"{n_done} cells already finished in {results}; running the other {n_todo}")

        def on_cell(event) -> None:  # noqa: ANN001 - CellEvent
            c = event.cell
            state = f"AULC {event.result['aulc']:.3f}" if event.result else "[red]failed[/]"
            progress.update(task, advance=1, last=f"{c.dataset} {c.strategy} seed {c.seed}: {state}")

        outcome = run_quality(plan, results, n_jobs=jobs, on_start=on_start, on_cell=on_cell)
    if outcome.failed:
        err_console.print(f"[bold red]{len(outcome.failed)} cells failed[/] (see {results}/failures.log); they run again next time:")
        for cell, error in outcome.failed[:10]:
            err_console.print(f"  {cell.dataset} {cell.strategy} seed {cell.seed}: {error.strip().splitlines()[-1]}")


def _print_headline(summary: dict) -> None:
    from rich.table import Table

    table = Table(title="margin vs random (AULC, accuracy points)")
    for column in ("dataset", "random", "margin", "Δ", "p", "best"):
        table.add_column(column, justify="left" if column in ("dataset", "best") else "right")
    for ds in summary["datasets"]:
        st = ds["strategies"]
        rnd, mar = st.get("random"), st.get("margin")
        vs = (mar or {}).get("vs_random") or {}
        best = min(st, key=lambda s: st[s].get("rank", 1e9))
        table.add_row(
            ds["dataset"],
            f"{100 * rnd['aulc_mean']:.1f}" if rnd else "-",
            f"{100 * mar['aulc_mean']:.1f}" if mar else "-",
            f"{100 * vs['mean']:+.1f}" if vs.get("mean") is not None else "-",
            f"{vs['p_wilcoxon']:.3f}" if vs.get("p_wilcoxon") is not None else "-",
            best,
        )
    console.print(table)


# `loopwise bench speed` lives in its own module; registered here so both commands share `bench`.
from loopwise.cli._bench_speed import speed_cmd  # noqa: E402

bench_app.command("speed")(speed_cmd)
from loopwise.cli._bench_server import server_cmd  # noqa: E402

bench_app.command("server")(server_cmd)

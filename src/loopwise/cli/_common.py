"""Shared pieces of the command line: the store option, user-error handling, progress bars."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from loopwise.errors import ConfigError, LoopwiseError

if TYPE_CHECKING:  # the store (SQLAlchemy) loads only in the commands that open one
    from loopwise.storage import Store

console = Console()
err_console = Console(stderr=True)

DEFAULT_DB = "sqlite:///loopwise.db"
DB_HELP = "SQLAlchemy URL of the store (default: $LOOPWISE_DB or sqlite:///loopwise.db)."


DEFAULT_ARTIFACTS = "loopwise-artifacts"
ARTIFACTS_HELP = (
    "Folder for the store's arrays and models (default: $LOOPWISE_ARTIFACTS; else, for a SQLite file, "
    "<db stem>.artifacts beside it, and for any other database ./loopwise-artifacts in the working directory)."
)
ArtifactsOption = Annotated[str | None, typer.Option("--artifacts", help=ARTIFACTS_HELP)]


def resolve_db(db: str | None) -> str:
    return db or os.environ.get("LOOPWISE_DB") or DEFAULT_DB


def resolve_artifacts(db_url: str, artifacts: str | None) -> str | None:
    """The artifact folder for ``db_url``: the option, $LOOPWISE_ARTIFACTS, or the documented default.

    ``None`` leaves a SQLite file's default (``<db stem>.artifacts`` beside it) to the store; any
    other database, which has no file to sit beside, gets ``./loopwise-artifacts``.
    """
    chosen = artifacts or os.environ.get("LOOPWISE_ARTIFACTS") or None
    if chosen is not None:
        return chosen
    from loopwise.storage._db import is_sqlite_file, parse_url

    return None if is_sqlite_file(parse_url(db_url)) else str(Path(DEFAULT_ARTIFACTS).resolve())


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a LoopwiseError as one line on stderr and exit 2, with no traceback."""
    try:
        yield
    except LoopwiseError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


@contextmanager
def open_store(db: str | None, artifacts: str | None = None) -> Iterator[Store]:
    from loopwise.storage import Store

    url = resolve_db(db)
    store = Store.open(url, artifacts_dir=resolve_artifacts(url, artifacts))
    try:
        yield store
    finally:
        store.close()


def make_progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("labels  acc {task.fields[accuracy]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def initializer_spec(init: str, init_ids: str | None, initial: int) -> str | dict[str, Any]:
    """The loop-0 initialiser ``simulate`` stores, from ``--init`` and ``--init-ids``; bad combinations are named."""
    from loopwise.loop import initializer_kinds  # the strategies that declare loop-0 use, read when simulate runs

    kinds = initializer_kinds()
    if init not in kinds:
        raise ConfigError(f"--init must be one of {', '.join(kinds)}; got {init!r}")
    if init != "ids":
        if init_ids is not None:
            raise ConfigError(f"--init-ids is only used with --init ids; got --init {init}")
        return init
    if init_ids is None:
        raise ConfigError("--init ids needs the record ids: --init-ids ID,ID,... or --init-ids @FILE (one id per line)")
    if init_ids.startswith("@"):
        path = Path(init_ids[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"--init-ids {init_ids}: no such file {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--init-ids {init_ids}: cannot read {path}: {exc}") from None
        ids = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        ids = [part.strip() for part in init_ids.split(",") if part.strip()]
    if not ids:
        raise ConfigError(f"--init-ids {init_ids!r} holds no record ids")
    if len(ids) != initial:
        raise ConfigError(f"--init-ids gives {len(ids)} record ids but --initial is {initial}; give as many ids as --initial")
    return {"kind": "GivenIds", "record_ids": ids}


def print_runs_table(rows: list[dict[str, Any]]) -> None:
    """The runs as a table in which no cell is wrapped or cut, however narrow the terminal.

    Ids are copied from here into ``resume``, ``report`` and ``runs show``; a
    terminal narrower than the table wraps its lines, but never shortens an id.
    """
    cells = [
        [
            r["id"], r["project"], r["name"], r["status"], str(r["loops"]), str(r["labels"]),
            "-" if r["score"] is None else f"{r['metric']} {r['score']:.3f}", r["created"],
        ]
        for r in rows
    ]
    # The last loop's headline figure of each run's task (accuracy, micro_f1, neg_rmse, entity_f1), named in its cell.
    headers = ("run", "project", "name", "status", "loops", "labels", "last score", "created")
    print_uncut_table(headers, cells, right=("loops", "labels", "last score"))


def print_uncut_table(headers: Sequence[str], cells: list[list[str]], *, right: Sequence[str] = (), title: str | None = None) -> None:
    """A table whose cells are never wrapped or cut (ids, times), however narrow the terminal."""
    from rich.table import Table

    table = Table(title=title)
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(headers)]
    for header, width in zip(headers, widths):
        table.add_column(header, no_wrap=True, min_width=width, justify="right" if header in right else "left")
    for c in cells:
        table.add_row(*c)
    needed = sum(widths) + 3 * len(widths) + 1  # each column's padding and rule, and the closing rule
    # Console.print caps width at the terminal's; a console of the table's own width does not.
    wide = console if console.width >= needed else Console(width=needed, highlight=False)
    wide.print(table, crop=False)

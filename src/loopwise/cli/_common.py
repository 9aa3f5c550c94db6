"""Shared pieces of the command line: the store option, user-error handling, progress bars."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from loopwise.errors import LoopwiseError
from loopwise.storage import Store

console = Console()
err_console = Console(stderr=True)

DEFAULT_DB = "sqlite:///loopwise.db"
DB_HELP = "SQLAlchemy URL of the store (default: $LOOPWISE_DB or sqlite:///loopwise.db)."


def resolve_db(db: str | None) -> str:
    return db or os.environ.get("LOOPWISE_DB") or DEFAULT_DB


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
    store = Store.open(resolve_db(db), artifacts_dir=artifacts)
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

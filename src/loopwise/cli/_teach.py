"""`loopwise teach FILE`: label your own records in the terminal, one at a time, with the model's suggestion; `loopwise export`."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.panel import Panel
from rich.text import Text

from loopwise.cli._common import DB_HELP, ArtifactsOption, console, err_console, open_store, resolve_db, user_errors
from loopwise.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from loopwise.server._teach import TeachSession
    from loopwise.storage._annotation_store import QueueRecord

HELP = (
    "keys: 1-9 then letters label by class position; Enter accepts the suggestion; "
    "s skips; u undoes the last action (label or skip); ? shows this help; q or Ctrl-C stops (every label is already stored)"
)
EXPORT_FORMATS = ("csv", "jsonl", "labelstudio", "argilla")


@contextmanager
def _keys() -> Iterator[None]:
    """Single keys without Enter when stdin is a terminal (cbreak: Ctrl-C still interrupts)."""
    if not sys.stdin.isatty():
        yield
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _read_key() -> str:
    """One key; Enter is '\\n'; the end of input stops like q."""
    data = os.read(sys.stdin.fileno(), 1) if sys.stdin.isatty() else sys.stdin.read(1).encode()
    if not data:
        return "q"
    key = data.decode(errors="replace")
    return "\n" if key == "\r" else key


def _show(session: TeachSession, record: QueueRecord, keys: dict[str, str], text_field: str) -> str | None:
    """Draw the record, its suggestion and the class keys; return the suggested class, if any."""
    payload = record.payload or {}
    body = str(payload.get(text_field, "")) if session.project.task == "text" else "\n".join(
        f"{k}: {v}" for k, v in payload.items()
    )
    suggestion = session.suggestion(record)
    done, pool = session.n_labelled(), session.n_pool()
    console.print(Panel(Text(body), title=f"record {record.external_id}", subtitle=f"{done}/{pool} labelled"))
    if suggestion is None:
        console.print("suggestion: none yet (the model trains after the first batch)", highlight=False)
    else:
        others = ", ".join(f"{name} {p:.2f}" for name, p in suggestion.top[1:])
        console.print(
            f"suggestion: [bold green]{suggestion.label}[/] ({suggestion.probability:.2f})"
            + (f"; then {others}" if others else "") + "  [dim]Enter accepts[/]",
            highlight=False,
        )
    line = Text()
    for key, name in keys.items():
        style = "bold reverse green" if suggestion is not None and name == suggestion.label else "bold"
        line.append(f"[{key}] ", style="dim").append(name, style=style).append("  ")
    line.append("[s]kip [u]ndo [?] help [q]uit", style="dim")
    console.print(line)
    return None if suggestion is None else suggestion.label


def _loop(session: TeachSession, text_field: str) -> str:
    """Serve records until the queue is empty or the user stops; return why it ended."""
    from loopwise.server._teach import class_keys
    from loopwise.storage import ConflictError

    keys = class_keys(session.project.label_names)
    record = session.next_record()
    while record is not None:
        suggested = _show(session, record, keys, text_field)
        while True:
            key = _read_key()
            if key in keys or (key == "\n" and suggested is not None):
                value = keys.get(key) or suggested
                assert value is not None
                session.label(record, value)
                console.print(f"labelled {record.external_id}: {value}", highlight=False)
                if session.last_error is not None:
                    err_console.print(f"retrain failed (labels are stored; the order is the last good one): {session.last_error}", highlight=False)
                break
            if key == "s":
                session.skip(record)
                console.print(f"skipped {record.external_id}", highlight=False)
                break
            if key == "u":
                try:
                    kind, record = session.undo()
                except ConflictError as exc:
                    console.print(str(exc), highlight=False)
                    continue
                console.print(f"undone ({kind}): {record.external_id} is back", highlight=False)
                suggested = _show(session, record, keys, text_field)
                continue
            if key == "q":
                return "stopped"
            if key == "?":
                console.print(HELP, highlight=False)
            elif key == "\n":
                console.print("no suggestion yet: press a class key", highlight=False)
        record = session.next_record()
    return "nothing left to label"


def teach_cmd(
    data: Annotated[Path, typer.Argument(help="Your CSV or JSONL file of records to label.")],
    labels: Annotated[str, typer.Option("--labels", help="The classes, comma-separated (keys follow this order): pos,neg.")],
    text_column: Annotated[str | None, typer.Option("--text-column", help="The free-text column (a text project); without it, every column is a feature.")] = None,
    id_column: Annotated[str | None, typer.Option("--id-column", help="Record-id column (default: id if present, else the row number).")] = None,
    label_column: Annotated[str, typer.Option("--label-column", help="A column of labels the file already has; they must be among --labels and count as labelled.")] = "label",
    project: Annotated[str | None, typer.Option("--project", help="Project name in the store (default: teach:<file stem>).")] = None,
    strategy: Annotated[str, typer.Option("--strategy", help="Querying strategy that orders the records (auto, margin, entropy, random, ...).")] = "auto",
    learner: Annotated[str, typer.Option("--learner", help="Learner retrained every batch (logreg: TF-IDF for text).")] = "logreg",
    batch: Annotated[int, typer.Option("--batch", help="Retrain and re-rank after this many labels.", min=1)] = 5,
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    artifacts: ArtifactsOption = None,
) -> None:
    """Label DATA in the terminal, one record at a time, with the model's suggestion; run it again to continue."""
    from loopwise.server._teach import TeachSession, parse_labels, read_teach_file

    with user_errors():
        source = read_teach_file(
            data, labels=parse_labels(labels), text_column=text_column, id_column=id_column, label_column=label_column
        )
        with open_store(db, artifacts) as store:
            session = TeachSession.open(
                store, source, project_name=project, strategy=strategy, learner=learner, batch=batch
            )
            console.print(f"project [bold]{session.project.name}[/] in {resolve_db(db)}; {HELP}", highlight=False)
            if sys.stdin.isatty():
                # Ctrl-C is how a terminal session stops; a shell that started us with SIGINT ignored
                # (`nohup ... &`) would otherwise leave the key dead.
                signal.signal(signal.SIGINT, signal.default_int_handler)
            try:
                with _keys():
                    why = _loop(session, text_column or "text")
            except KeyboardInterrupt:
                why = "interrupted"
            console.print(
                f"{why}: {session.n_labelled()} of {session.n_pool()} records labelled, all stored; "
                f"run the same command to continue, `loopwise export --project {session.project.name}` to write them",
                highlight=False,
            )


def export_cmd(
    project: Annotated[str, typer.Option("--project", help="Project name (teach:<file stem> for `loopwise teach`).")],
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(EXPORT_FORMATS)}.")] = "csv",
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    artifacts: ArtifactsOption = None,
) -> None:
    """Write a labelling project's records and labels in force (as the server's export does)."""
    from loopwise.server._export_formats import export_file
    from loopwise.storage import AnnotationRepository

    with user_errors():
        if fmt not in EXPORT_FORMATS:
            raise ConfigError(f"--format must be one of {', '.join(EXPORT_FORMATS)}; got {fmt!r}")
        with open_store(db, artifacts) as store:
            repo = AnnotationRepository(store)
            found = next((p for p in repo.list_projects() if p.name == project), None)
            if found is None:
                known = ", ".join(p.name for p in repo.list_projects()) or "none"
                raise NotFoundError(f"no labelling project called {project!r} (projects: {known})")
            labels = repo.current_labels(found.id)
            records = {r.record_id: r for r in repo.snapshot(found.id)}
            users = {user.name: user.id for user in repo.list_users()}
            _, _, chunks = export_file(fmt, found, labels, records, users, "")
            with out.open("w", encoding="utf-8", newline="") as handle:
                handle.writelines(chunks)
        console.print(f"{len(labels)} labels of {found.name} written to {out}", highlight=False)

"""`loopwise labels history RECORD_ID`: every label a record was given, who gave it, and what superseded it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from loopwise.cli._common import DB_HELP, open_store, print_uncut_table, user_errors
from loopwise.errors import NotFoundError

if TYPE_CHECKING:
    from loopwise.storage import Store

labels_app = typer.Typer(help="Inspect stored labels.", no_args_is_help=True)


def _project_id(store: Store, project: str) -> int:
    """A project id given as a number, or the id of the project of that name among the stored runs."""
    if project.isdigit():
        return int(project)
    ids = {run.project_name: run.project_id for run in store.list_runs()}
    if project not in ids:
        known = ", ".join(sorted(ids)) or "none"
        raise NotFoundError(f"no project called {project!r} with stored runs (projects: {known}); give its name or id")
    return ids[project]


@labels_app.command("history")
def history_cmd(
    record_id: Annotated[str, typer.Argument(help="The record's external id (the id column of the data).")],
    project: Annotated[str, typer.Option("--project", help="Project name or id.")],
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the history as JSON instead of a table.")] = False,
) -> None:
    """Every label of RECORD_ID, oldest first: value, source, annotator, run, time, and the label that superseded it."""
    with user_errors(), open_store(db) as store:
        labels = store.label_history(_project_id(store, project), record_id)
    superseded_by = {label.supersedes_id: label.id for label in labels if label.supersedes_id is not None}
    rows = [
        {
            "id": label.id,
            "value": label.value,
            "source": label.source,
            "annotator": label.annotator,
            "run_id": label.run_id,
            "created_at": label.created_at.isoformat(),
            "supersedes": label.supersedes_id,
            "superseded_by": superseded_by.get(label.id),
        }
        for label in labels
    ]
    if as_json:
        typer.echo(json.dumps({"record_id": record_id, "labels": rows}, indent=1))
        return
    headers = ("id", "value", "source", "annotator", "run_id", "created_at", "supersedes", "superseded_by")
    cells = [["-" if row[c] is None else str(row[c]) for c in headers] for row in rows]
    print_uncut_table(headers, cells, right=("id", "supersedes", "superseded_by"), title=f"labels of record {record_id!r}")

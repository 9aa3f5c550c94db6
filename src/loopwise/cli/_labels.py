"""`loopwise labels history RECORD_ID`: every label a record was given, who gave it, and what superseded it;
`loopwise labels convert`: entity labels between CoNLL, JSONL with offsets and Label Studio spans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from loopwise.cli._common import DB_HELP, console, open_store, print_uncut_table, user_errors
from loopwise.errors import ConfigError, DataError, NotFoundError

if TYPE_CHECKING:
    from loopwise.storage import Store

labels_app = typer.Typer(help="Inspect stored labels; convert entity-label files.", no_args_is_help=True)


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
            # An auto-label's (source auto): the loop index of the run's model that gave it, and its probability.
            "model_version": label.model_version,
            "confidence": label.confidence,
        }
        for label in labels
    ]
    if as_json:
        typer.echo(json.dumps({"record_id": record_id, "labels": rows}, indent=1))
        return
    headers = ("id", "value", "source", "annotator", "run_id", "created_at", "supersedes", "superseded_by", "model_version")
    cells = [["-" if row[c] is None else str(row[c]) for c in headers] for row in rows]
    print_uncut_table(headers, cells, right=("id", "supersedes", "superseded_by", "model_version"), title=f"labels of record {record_id!r}")


SPAN_FORMATS = ("conll", "jsonl", "label-studio")


@labels_app.command("convert")
def convert_cmd(
    source: Annotated[Path, typer.Argument(help="Entity labels to read.")],
    out: Annotated[Path, typer.Argument(help="File to write.")],
    from_format: Annotated[str, typer.Option("--from", help=f"Format of SOURCE: {', '.join(SPAN_FORMATS)}.")],
    to_format: Annotated[str, typer.Option("--to", help=f"Format of OUT: {', '.join(SPAN_FORMATS)}.")],
) -> None:
    """Convert entity labels between CoNLL (BIO), JSONL with character offsets and Label Studio span tasks; the tags stay the same."""
    from loopwise.server import _spans

    with user_errors():
        for option, value in (("--from", from_format), ("--to", to_format)):
            if value not in SPAN_FORMATS:
                raise ConfigError(f"{option} must be one of {', '.join(SPAN_FORMATS)}; got {value!r}")
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {source}: {exc}") from None
        if from_format == "conll":
            sentences = _spans.read_conll(text, str(source))
        elif from_format == "jsonl":
            rows = []
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise DataError(f"{source}, line {number}: not JSON ({exc.msg})") from None
            sentences = _spans.read_jsonl_spans(rows, str(source))
        else:
            try:
                tasks = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(f"{source}: not JSON ({exc.msg})") from None
            if not isinstance(tasks, list):
                raise DataError(f"{source}: a Label Studio export is a JSON list of tasks")
            sentences = _spans.read_label_studio_spans(tasks, str(source))
        if to_format == "conll":
            written = _spans.write_conll(sentences)
        elif to_format == "jsonl":
            written = _spans.dumps_jsonl(sentences)
        else:
            written = json.dumps([_spans.label_studio_task(s) for s in sentences], ensure_ascii=False, indent=1)
        out.write_text(written, encoding="utf-8")
    n_entities = sum(len(_spans.tags_to_spans(s)) for s in sentences)
    console.print(f"{len(sentences)} sentences, {n_entities} entities written to {out} ({to_format})", highlight=False)

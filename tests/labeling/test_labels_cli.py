"""`loopwise labels history`: every label of a record, with what superseded what, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from loopwise.cli.main import app
from loopwise.storage import LoopWrite, Store

runner = CliRunner(env={"COLUMNS": "200"})


def _store_with_a_relabel(db: str) -> None:
    store = Store.open(db)
    try:
        project = store.get_or_create_project("pets", "image", ["cat", "dog"])
        store.add_records(project.id, ["r1", "r2"])
        run_id = store.create_run(project.id, {"strategy": "margin", "seed": 0})
        store.record_loop(run_id, LoopWrite(loop_index=0, strategy="initial", selected_ids=["r1", "r2"], labels=["cat", "dog"], n_labelled=2))
        store.record_loop(run_id, LoopWrite(loop_index=1, strategy="margin", selected_ids=["r1"], labels=["dog"], n_labelled=2, label_source="human", annotator="reviewer"))
    finally:
        store.close()


def test_history_lists_every_label_and_what_superseded_it(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lw.db'}"
    _store_with_a_relabel(db)
    result = runner.invoke(app, ["labels", "history", "r1", "--project", "pets", "--db", db, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    labels = json.loads(result.output)["labels"]
    assert [(label["value"], label["source"]) for label in labels] == [("cat", "oracle"), ("dog", "human")]
    assert labels[0]["superseded_by"] == labels[1]["id"] and labels[1]["supersedes"] == labels[0]["id"]
    assert labels[1]["superseded_by"] is None
    table = runner.invoke(app, ["labels", "history", "r2", "--project", "pets", "--db", db], catch_exceptions=False)
    assert table.exit_code == 0 and "dog" in table.output and "oracle" in table.output


def test_unknown_record_or_project_is_one_clear_error(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lw.db'}"
    _store_with_a_relabel(db)
    missing = runner.invoke(app, ["labels", "history", "r9", "--project", "pets", "--db", db])
    assert missing.exit_code == 2 and "'r9'" in missing.output
    unknown = runner.invoke(app, ["labels", "history", "r1", "--project", "birds", "--db", db])
    assert unknown.exit_code == 2 and "'birds'" in unknown.output and "pets" in unknown.output


def test_history_in_a_narrow_terminal_cuts_no_cell(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'lw.db'}"
    _store_with_a_relabel(db)
    stored = json.loads(runner.invoke(app, ["labels", "history", "r1", "--project", "pets", "--db", db, "--json"]).output)
    narrow = CliRunner(env={"COLUMNS": "40"}).invoke(app, ["labels", "history", "r1", "--project", "pets", "--db", db], catch_exceptions=False)
    assert narrow.exit_code == 0, narrow.output
    # Run ids and times are copied from here: each must appear whole on one line, however narrow the terminal.
    for label in stored["labels"]:
        for value in (label["run_id"], label["created_at"], label["annotator"] or "-"):
            assert any(value in line for line in narrow.output.splitlines()), (value, narrow.output)

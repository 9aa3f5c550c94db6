"""`loopwise stream` end to end on a slice of elec2: stored runs, JSON figures, refusals, and resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.progress import Progress
from typer.testing import CliRunner

from loopwise.cli._stream import _drive, _fresh, _project
from loopwise.cli.main import app
from loopwise.storage import Store
from loopwise.stream._data import load_stream


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_stream_command_stores_chunks_and_writes_json(tmp_path: Path) -> None:
    db, out = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "s.json"
    result = invoke("stream", "--data", "elec2", "--limit", "2500", "--chunk", "500", "--budget", "0.1",
                    "--manager", "variable_uncertainty", "--seeds", "2", "--db", db, "--json", str(out))
    assert result.exit_code == 0, result.output
    runs = json.loads(out.read_text())["runs"]
    assert [r["seed"] for r in runs] == [0, 1]
    with Store.open(db) as store:
        loops = store.loops(runs[0]["run_id"])
        assert store.get_run(runs[0]["run_id"]).status == "finished"
    assert len(loops) == 5
    assert sum(len(loop.selected_ids) for loop in loops) == runs[0]["labels_spent"] == loops[-1].n_labelled
    assert [p["n_seen"] for p in runs[0]["over_time"]] == [500, 1000, 1500, 2000, 2500]
    assert 0.5 < runs[0]["final_accuracy"] <= 1.0


def test_bad_manager_exits_2_naming_it_and_stores_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    result = invoke("stream", "--data", "elec2", "--limit", "100", "--manager", "nope", "--db", db)
    assert result.exit_code == 2
    assert "unknown budget manager 'nope'" in result.output
    with Store.open(db) as store:
        assert store.list_runs() == []


@pytest.mark.parametrize("command", [["stream", "--resume"], ["resume"]])
def test_resume_after_a_kill_equals_an_uninterrupted_run(tmp_path: Path, command: list[str]) -> None:
    db, out = f"sqlite:///{tmp_path / 's.db'}", tmp_path / "s.json"
    args = ["--data", "elec2", "--limit", "3000", "--chunk", "500", "--manager", "split", "--db", db]
    assert invoke("stream", *args, "--json", str(out)).exit_code == 0
    whole = json.loads(out.read_text())["runs"][0]

    stream = load_stream("elec2", 3000)
    with Store.open(db) as store:
        config = dict(store.get_run(whole["run_id"]).config)
        run_id = store.create_run(_project(store, stream), config)
        _drive(store, run_id, stream, _fresh(config, 2), config, Progress(disable=True), max_chunks=2)
        assert store.get_run(run_id).status == "running"
    assert invoke(*command, run_id, "--db", db).exit_code == 0
    with Store.open(db) as store:
        assert [lp.metrics for lp in store.loops(run_id)] == [lp.metrics for lp in store.loops(whole["run_id"])]
        assert [lp.selected_ids for lp in store.loops(run_id)] == [lp.selected_ids for lp in store.loops(whole["run_id"])]
        assert store.get_run(run_id).status == "finished"


def test_help_lists_every_budget_manager() -> None:
    from loopwise.cli._stream import MANAGER_NAMES
    from loopwise.stream import MANAGERS

    assert MANAGER_NAMES == tuple(MANAGERS)

"""The command line end to end on real data: simulate, runs, report, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from loopwise.cli.main import app
from loopwise.storage import Store

runner = CliRunner(env={"COLUMNS": "200"})


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture()
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'lw.db'}"


def test_simulate_writes_runs_json_and_report(tmp_path: Path, db: str) -> None:
    out_json, out_html = tmp_path / "out.json", tmp_path / "out.html"
    result = _invoke(
        "simulate", "--data", "digits", "--strategy", "margin", "--strategy", "random", "--seeds", "2",
        "--initial", "10", "--batch", "10", "--budget", "50", "--db", db, "--json", str(out_json), "--report", str(out_html),
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(out_json.read_text())
    strategies = figures["summary"]["strategies"] if "summary" in figures else figures["strategies"]
    assert set(strategies) == {"margin", "random"}
    for stats in strategies.values():
        assert 0.3 < stats["aulc_mean"] <= 1.0
        assert stats["n_seeds"] == 2
    runs = figures["summary"]["runs"] if "summary" in figures else figures["runs"]
    assert len(runs) == 4
    assert [p["labels"] for p in runs[0]["curve"]] == [10, 20, 30, 40, 50]
    assert out_html.stat().st_size > 10_000
    listed = _invoke("runs", "list", "--db", db)
    assert listed.exit_code == 0 and "margin seed 1" in listed.output
    store = Store.open(db)
    run_id = store.list_runs()[0].id
    assert store.counts()["loops"] == 20
    store.close()
    shown = _invoke("runs", "show", run_id, "--db", db)
    assert shown.exit_code == 0 and "accuracy" in shown.output
    report = tmp_path / "again.html"
    assert _invoke("report", run_id, "--out", str(report), "--db", db).exit_code == 0
    assert report.exists()


def _counts(db: str) -> dict[str, int]:
    store = Store.open(db)
    try:
        return store.counts()
    finally:
        store.close()


@pytest.fixture()
def used_db(db: str) -> str:
    """A store that already holds one run, so 'unchanged' is checked against real content."""
    assert _invoke("simulate", "--data", "wine", "--strategy", "margin", "--seeds", "1", "--budget", "20", "--db", db).exit_code == 0
    return db


def _write_csv(tmp_path: Path, name: str, frame: pd.DataFrame) -> str:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def _table(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"id": [f"row{i}" for i in range(n)], "a": rng.normal(size=n), "b": rng.normal(size=n), "label": ["x", "y"] * (n // 2)}
    )


def _bad_inputs(tmp_path: Path) -> list[tuple[list[str], list[str]]]:
    nan = _table()
    nan.loc[7, "b"] = np.nan
    inf = _table()
    inf.loc[3, "a"] = np.inf
    dup = _table()
    dup.loc[5, "id"] = "row2"
    single = _table()
    single["label"] = "x"
    good = _write_csv(tmp_path, "good.csv", _table())
    return [
        (["--data", str(tmp_path / "nope.csv")], ["nope.csv"]),
        (["--data", good, "--label-column", "klass"], ["klass", "good.csv", "label"]),
        (["--data", _write_csv(tmp_path, "single.csv", single)], ["single", "x", "single.csv"]),
        (["--data", _write_csv(tmp_path, "nan.csv", nan)], ["nan.csv", "b", "row7"]),
        (["--data", _write_csv(tmp_path, "inf.csv", inf)], ["inf.csv", "a", "row3"]),
        (["--data", _write_csv(tmp_path, "dup.csv", dup)], ["dup.csv", "row2"]),
        (["--data", "digits", "--budget", "100000"], ["budget", "100000", "pool"]),
        (["--data", "digits", "--strategy", "clairvoyant"], ["clairvoyant", "margin", "entropy", "random"]),
    ]


def test_bad_input_gets_one_clear_message_and_leaves_the_store_unchanged(tmp_path: Path, used_db: str) -> None:
    before = _counts(used_db)
    for args, must_mention in _bad_inputs(tmp_path):
        extra = [] if "--budget" in args else ["--budget", "30"]
        result = _invoke("simulate", *args, "--seeds", "1", *extra, "--db", used_db)
        message = result.output
        assert result.exit_code == 2, (args, message)
        assert "Traceback" not in message, message
        assert "error:" in message
        for word in must_mention:
            assert word in message, (args, word, message)
        assert _counts(used_db) == before, args


def test_unknown_run_id_is_a_clear_error(db: str) -> None:
    result = _invoke("runs", "show", "deadbeef0000", "--db", db)
    assert result.exit_code == 2 and "deadbeef0000" in result.output and "Traceback" not in result.output
    result = _invoke("resume", "deadbeef0000", "--db", db)
    assert result.exit_code == 2 and "deadbeef0000" in result.output

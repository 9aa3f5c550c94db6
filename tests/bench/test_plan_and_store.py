"""The quality plan (TOML, overrides, caps) and the results folder (resume, merge, protocol guard), on a folder dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopwise.bench import Protocol, ResultStore, load_plan, pending, report_quality, run_quality
from loopwise.errors import ConfigError


@pytest.fixture()
def folder(tmp_path: Path, digits_split) -> Path:
    """A dataset folder in the shared layout (data.csv.gz + meta.json) that no code knows by name."""
    X_train, X_test, y_train, y_test = digits_split
    X = np.vstack([X_train, X_test])[:400, :16]
    y = np.concatenate([y_train, y_test])[:400] % 3
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame.insert(0, "id", [f"r{i}" for i in range(len(y))])
    frame["label"] = [f"c{v}" for v in y]
    root = tmp_path / "toy_rows"
    root.mkdir()
    frame.to_csv(root / "data.csv.gz", index=False)
    meta = {
        "name": "toy_rows", "task": "tabular", "label_names": ["c0", "c1", "c2"],
        "features": [{"name": f"f{i}", "type": "numeric"} for i in range(X.shape[1])],
    }  # fmt: skip
    (root / "meta.json").write_text(json.dumps(meta))
    return root


def _plan(tmp_path: Path, source: Path, strategies: list[str], seeds: int = 2, **protocol: int):
    config = tmp_path / "plan.toml"
    config.write_text(
        "[protocol]\npool_size = 200\nmax_test = 100\ninitial = 6\nbatch = 6\nbudget = 24\n"
        f'[dataset.toy_rows]\nbudget = {protocol.get("budget", 18)}\n'
        '[caps."entropy"]\ndatasets = ["toy_rows"]\nreason = "test"\n'
    )
    return load_plan(config, datasets=[str(source)], strategies=strategies, seeds=seeds)


def test_plan_reads_defaults_overrides_and_caps(tmp_path: Path, folder: Path) -> None:
    plan = _plan(tmp_path, folder, ["random", "margin", "entropy"])
    [protocol] = plan.protocols
    assert protocol.dataset == "toy_rows" and protocol.budget == 18 and protocol.pool_size == 200
    assert {c.strategy for c in plan.cells()} == {"random", "margin"}  # entropy capped here
    assert [c.seed for c in plan.cells()] == [0, 0, 1, 1]  # seed by seed
    cli = load_plan(tmp_path / "plan.toml", datasets=[str(folder)], strategies=["random"], overrides={"budget": 12})
    assert cli.protocols[0].budget == 12


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[protocol]\nbudgets = 3\n", "unknown protocol keys"),
        ("[protocol]\nbudget = 5000\n", "larger than the pool"),
        ('strategies = ["nope"]\n', "unknown strategy 'nope'"),
        ('strategies = ["modal:nope"]\n', "unknown peer strategy"),
    ],
)
def test_plan_errors_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_plan(config, datasets=["digits"])


def test_any_folder_runs_resumes_and_refuses_another_protocol(tmp_path: Path, folder: Path) -> None:
    results = tmp_path / "results"
    plan = _plan(tmp_path, folder, ["random", "margin", "kcenter"])
    events = []
    outcome = run_quality(plan, results, n_jobs=1, on_cell=events.append)
    assert outcome.ran == 6 and not outcome.failed and len(events) == 6
    doc = json.loads((results / "toy_rows.json").read_text())
    assert [c["labels"] for c in doc["cells"]] == [[6, 12, 18]] * 6
    assert doc["data"]["n_pool"] == 200 and doc["data"]["n_test"] == 100

    # Nothing left to run; a new strategy runs alone.
    assert pending(plan, ResultStore(results)) == ([], 6)
    more = _plan(tmp_path, folder, ["random", "margin", "kcenter", "least_confidence"])
    assert run_quality(more, results, n_jobs=1).ran == 2

    # Loose cells of an interrupted run are read back (and merged) like merged ones.
    store = ResultStore(results)
    cell = dict(doc["cells"][0], strategy="ranked_batch", method="ranked_batch")
    store.write_cell(cell, plan.protocols[0], doc["data"])
    assert ("ranked_batch", 0) in store.finished(plan.protocols[0])
    assert any(c["strategy"] == "ranked_batch" for c in store.load()[0]["cells"])
    store.merge(plan.protocols[0], {})
    assert not (results / "cells").exists()

    summary = report_quality(results, tmp_path / "out", caps=plan.caps)
    assert summary["datasets"][0]["strategies"]["margin"]["n_seeds"] == 2
    assert (tmp_path / "out" / "quality_toy_rows.png").is_file()
    tables = (tmp_path / "out" / "quality_tables.md").read_text()
    assert "### toy_rows" in tables and "peer's implementation" not in tables  # no peer ran: no empty peer tables

    other = _plan(tmp_path, folder, ["random"], budget=12)
    with pytest.raises(ConfigError, match="another protocol"):
        run_quality(other, results, n_jobs=1)


def test_protocol_id_changes_with_the_protocol() -> None:
    assert Protocol("x").protocol_id == Protocol("x").protocol_id
    assert Protocol("x").protocol_id != Protocol("x", budget=100).protocol_id
    assert Protocol("some/where/folder").dataset == "folder" and Protocol("rows.csv.gz").dataset == "rows"


def test_a_cold_start_init_is_shared_by_every_strategy_and_keeps_random_protocol_ids(tmp_path: Path, folder: Path) -> None:
    from loopwise.bench._protocol import prepare

    plain = Protocol(str(folder), pool_size=200, max_test=100, initial=6, batch=6, budget=18)
    assert "init" not in plain.describe()  # results written before `init` existed keep their protocol id
    typical = Protocol(str(folder), pool_size=200, max_test=100, initial=6, batch=6, budget=18, init="typiclust")
    assert typical.describe()["init"] == "typiclust" and typical.protocol_id != plain.protocol_id
    with pytest.raises(ConfigError, match="unknown init 'kmeans'.*typiclust"):
        Protocol(str(folder), init="kmeans")

    data = prepare(typical)
    first = data.initial_positions(0)
    assert len(set(first.tolist())) == 6
    assert np.array_equal(first, data.initial_positions(0))  # every strategy of seed 0 starts here
    assert not np.array_equal(first, prepare(plain).initial_positions(0))

    plan = load_plan(None, datasets=[str(folder)], strategies=["random", "margin"], seeds=1,
                     overrides={"pool_size": 200, "max_test": 100, "initial": 6, "batch": 6, "budget": 12, "init": "probcover"})
    run_quality(plan, tmp_path / "results", n_jobs=1)
    [doc] = ResultStore(tmp_path / "results").load()
    assert doc["protocol"]["init"] == "probcover"
    assert len({tuple(c["initial_ids"]) for c in doc["cells"]}) == 1


def test_rerun_drops_one_strategys_cells_and_runs_them_again(tmp_path: Path, folder: Path) -> None:
    from typer.testing import CliRunner

    from loopwise.cli.main import app

    (tmp_path / "none.toml").write_text("")
    results = tmp_path / "results"
    base = ["bench", "quality", "--config", str(tmp_path / "none.toml"), "--dataset", str(folder),
            "--strategy", "random", "--strategy", "margin", "--seeds", "2", "--pool-size", "200", "--max-test", "100",
            "--initial", "6", "--batch", "6", "--budget", "18", "--results", str(results), "--out", str(tmp_path / "out"), "-j", "1"]
    assert CliRunner().invoke(app, base).exit_code == 0
    before = {(c["strategy"], c["seed"]): c for c in json.loads((results / "toy_rows.json").read_text())["cells"]}
    # Tamper with the stored margin cells: a rerun must replace them, and leave random's alone.
    store = ResultStore(results)
    doc = json.loads((results / "toy_rows.json").read_text())
    for cell in doc["cells"]:
        cell["aulc"] = -1.0
    store._write_merged("toy_rows", doc)

    result = CliRunner().invoke(app, [*base, "--rerun", "margin"])
    assert result.exit_code == 0, result.output
    assert "dropped 2 stored cells of margin" in result.output
    after = {(c["strategy"], c["seed"]): c for c in json.loads((results / "toy_rows.json").read_text())["cells"]}
    assert set(after) == set(before)
    assert all(after[("margin", s)]["aulc"] == before[("margin", s)]["aulc"] for s in (0, 1))  # ran again, same seeds
    assert all(after[("random", s)]["aulc"] == -1.0 for s in (0, 1))  # kept as stored

    refused = CliRunner().invoke(app, [*base, "--rerun", "entropy"])
    assert refused.exit_code == 2 and "not in this run's strategies" in refused.output

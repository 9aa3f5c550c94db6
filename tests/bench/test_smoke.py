"""Smoke run of `loopwise bench quality` on real data: 2 datasets, 2 seeds, a tiny budget, one peer of each library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loopwise.cli.main import app
from loopwise.data import shared_dataset_names, shared_datasets_root

pytest.importorskip("modAL")
pytest.importorskip("small_text")
pytest.importorskip("skactiveml")

runner = CliRunner(env={"COLUMNS": "200"})
DATASETS = ("trec", "letter")  # sparse text and dense tabular, with more classes than the initial sample covers
STRATEGIES = ("random", "margin", "qbc", "modal:margin", "small_text:margin", "skactiveml:qbc")

needs_shared = pytest.mark.skipif(
    not set(DATASETS) <= set(shared_dataset_names(shared_datasets_root())), reason="shared datasets not available"
)


def _quality(tmp_path: Path, *extra: str) -> str:
    args = ["bench", "quality", "--config", str(tmp_path / "none.toml")]
    for name in DATASETS:
        args += ["--dataset", name]
    for name in STRATEGIES:
        args += ["--strategy", name]
    args += [
        "--seeds", "2", "--pool-size", "150", "--max-test", "150", "--initial", "10", "--batch", "10", "--budget", "30",
        "--results", str(tmp_path / "results"), "--out", str(tmp_path / "out"), *extra,
    ]  # fmt: skip
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
@needs_shared
def test_smoke_run_resume_and_report(tmp_path: Path) -> None:
    (tmp_path / "none.toml").write_text("")  # no repository config: the command line is the whole plan
    _quality(tmp_path, "--jobs", "2")
    results = tmp_path / "results"
    assert sorted(p.name for p in results.glob("*.json")) == ["letter.json", "trec.json"]
    assert not (results / "cells").exists()  # every cell merged into its dataset file
    for name in DATASETS:
        doc = json.loads((results / f"{name}.json").read_text())
        assert doc["protocol"]["budget"] == 30 and doc["data"]["n_pool"] == 150
        cells = doc["cells"]
        assert {(c["strategy"], c["seed"]) for c in cells} == {(s, k) for s in STRATEGIES for k in (0, 1)}
        for cell in cells:
            assert cell["labels"] == [10, 20, 30]
            assert 0.0 < cell["aulc"] <= 1.0
        for seed in (0, 1):
            # The same loop-0 records for every strategy and library.
            assert len({tuple(c["initial_ids"]) for c in cells if c["seed"] == seed}) == 1
        if name == "letter":
            # Identical inputs: with no tied scores (dense features), margin sampling picks the same
            # records in the same order in loopwise, modAL and small-text.
            digests = {c["selection_digest"] for c in cells if c["seed"] == 0 and c["method"] == "margin"}
            assert len(digests) == 1
    out = tmp_path / "out"
    assert {"quality_trec.png", "quality_letter.png", "quality_summary.png", "quality_summary.json", "quality_tables.md"} <= {
        p.name for p in out.iterdir()
    }
    summary = json.loads((out / "quality_summary.json").read_text())
    assert {d["dataset"] for d in summary["datasets"]} == set(DATASETS)
    assert summary["overall"]["margin"]["n_datasets"] == 2

    # A second run finds every cell finished and runs none.
    before = (results / "trec.json").read_text()
    output = _quality(tmp_path, "--jobs", "1")
    assert "24 cells already finished" in output
    assert (results / "trec.json").read_text() == before

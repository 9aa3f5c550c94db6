"""The JSON report: strict JSON, the summary plus every loop, and readable back into runs."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from loopwise.errors import DataError
from loopwise.reports import RunResult, load_json_report, write_json_report

BuildRun = Callable[..., RunResult]  # the conftest builder, handed over by the build_run fixture


def test_json_report_round_trips(results: list[RunResult], tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    write_json_report(results, path)
    with path.open(encoding="utf-8") as f:
        data = json.load(f)
    assert data["format"] == "loopwise.report/1"
    assert data["dataset"] == results[0].dataset
    assert set(data["strategies"]) == {"random", "margin"}
    assert data["strategies"]["margin"]["saving_vs_random_95"] == pytest.approx(0.5)
    assert len(data["runs"]) == len(data["results"]) == len(results)
    # Every loop's figures are there, down to the confusion matrices and timings.
    assert data["results"][0]["loops"][3]["confusion_matrix"] == results[0].loops[3].confusion_matrix
    assert data["results"][0]["loops"][3]["timings"] == results[0].loops[3].timings
    assert load_json_report(path) == results


def test_json_report_writes_nan_as_null_and_reads_it_back_as_nan(build_run: BuildRun, tmp_path: Path) -> None:
    run = build_run("a", "random", 0, [10, 20], [0.5, 0.9])
    run.loops[0].log_loss = math.inf
    run.loops[1].macro_f1 = math.nan
    path = tmp_path / "nan.json"
    write_json_report([run], path)
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    back = load_json_report(path)[0]
    assert math.isnan(back.loops[1].macro_f1) and back.loops[0].log_loss is None


def test_load_json_report_refuses_other_files(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(DataError, match="format"):
        load_json_report(path)

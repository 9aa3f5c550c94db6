"""The HTML report: written, self-contained, escaped, with one confusion matrix per loop."""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from loopwise.errors import DataError
from loopwise.reports import RunResult, write_html_report

BuildRun = Callable[..., RunResult]  # the conftest builder, handed over by the build_run fixture


def _embedded_json(page: str) -> Any:
    block = re.search(r'<script type="application/json" id="cm-data">(.*?)</script>', page, re.S)
    assert block is not None
    return json.loads(block.group(1))


def test_html_report_is_self_contained(report_page: str) -> None:
    assert report_page.startswith("<!doctype html>")
    # Nothing fetched: every src is a data: URI, every href an in-page anchor.
    for attribute, value in re.findall(r'\b(src|href)\s*=\s*["\']([^"\']*)', report_page):
        assert value.startswith("data:image/png;base64,") if attribute == "src" else value.startswith("#")
    assert "http://" not in report_page and "https://" not in report_page
    assert "<link" not in report_page and "@import" not in report_page
    assert len(re.findall(r'<img class="fig"', report_page)) == 4


def test_html_report_escapes_every_name(report_page: str, results: list[RunResult]) -> None:
    assert "<title>Pets &amp; &lt;friends&gt;</title>" in report_page
    assert html.escape(results[0].dataset) in report_page and results[0].dataset not in report_page
    for name in results[0].label_names:
        assert html.escape(name) in report_page
    assert "<b>cat</b>" not in report_page
    # The only </script> tags are the two that close our own blocks.
    assert report_page.count("</script>") == 2


def test_html_report_embeds_one_confusion_matrix_per_loop(report_page: str, results: list[RunResult]) -> None:
    data = _embedded_json(report_page)
    assert data["label_names"] == results[0].label_names
    assert [run["run_id"] for run in data["runs"]] == [r.run_id for r in results]
    matrices = [loop["cm"] for run in data["runs"] for loop in run["loops"]]
    assert len(matrices) == sum(len(r.loops) for r in results)
    assert matrices[-1] == results[-1].loops[-1].confusion_matrix
    # The run selector has one option per run; the slider spans the first run's loops.
    assert report_page.count("<option ") == len(results)
    assert f'max="{len(results[0].loops) - 1}"' in report_page


def test_html_report_handles_one_run_and_nan_metrics(build_run: BuildRun, tmp_path: Path) -> None:
    run = build_run("solo", "random", 0, [10], [0.5], full_pool_accuracy=None)
    run.loops[0].log_loss = None
    run.loops[0].macro_f1 = math.nan
    path = tmp_path / "solo.html"
    write_html_report([run], path)
    data = _embedded_json(path.read_text(encoding="utf-8"))
    assert data["runs"][0]["loops"][0]["macro_f1"] is None


def test_html_report_handles_seeds_on_different_label_grids(build_run: BuildRun, tmp_path: Path) -> None:
    # An adaptive schedule or an early stop leaves seeds on different grids: no crash, no extrapolation.
    runs = [
        build_run("a-0", "random", 0, [10, 20, 40, 80], [0.3, 0.5, 0.7, 0.8]),
        build_run("a-1", "random", 1, [15, 30, 60], [0.35, 0.55, 0.75]),
        build_run("a-2", "random", 2, [10, 25, 50, 100, 200], [0.3, 0.5, 0.7, 0.8, 0.85]),
    ]
    path = tmp_path / "grids.html"
    write_html_report(runs, path)
    data = _embedded_json(path.read_text(encoding="utf-8"))
    assert [len(run["loops"]) for run in data["runs"]] == [4, 3, 5]


def test_html_report_refuses_bad_results(results: list[RunResult], tmp_path: Path) -> None:
    results[1].dataset = "another"
    with pytest.raises(DataError, match="one dataset"):
        write_html_report(results, tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_a_15_run_30_loop_26_class_report_stays_small(build_run: BuildRun, tmp_path: Path) -> None:
    names = [f"class {chr(65 + k)}" for k in range(26)]
    n = np.linspace(20, 600, 30).astype(int)
    runs = []
    for s, strategy in enumerate(["random", "margin", "entropy", "least_confidence", "density"]):
        for seed in range(3):
            acc = 0.85 * (1 - np.exp(-n / (120 - 15 * s))) + np.random.default_rng(seed).normal(0, 0.01, n.size)
            runs.append(build_run(f"{strategy}-{seed}", strategy, seed, n, np.clip(acc, 0, 1), 0.86, names, "letters"))
    path = tmp_path / "big.html"
    write_html_report(runs, path)
    assert path.stat().st_size < 3_000_000

"""`loopwise bench speed` end to end on a tiny grid: forked configurations, skips, ratios, the Markdown table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from loopwise.bench import speed
from loopwise.bench.speed import SpeedCase, SpeedResult, _skip_reason, plan


def test_plan_orders_configurations_easiest_first_and_pairs_peers() -> None:
    cases = plan(sizes=[1000, 500], dims=[16, 8], batches=[10], methods=["margin", "kcenter", "random"])
    assert [c.n for c in cases] == sorted(c.n for c in cases)
    names = {c.name for c in cases}
    assert {"loopwise:margin", "modal:margin", "small_text:margin", "skactiveml:margin", "skactiveml:kcenter", "loopwise:random"} <= names
    assert "modal:kcenter" not in names and "modal:random" not in names


def _result(case: SpeedCase, status: str = "ok", best: float | None = 1.0) -> SpeedResult:
    return SpeedResult(case.library, case.method, case.n, case.d, case.batch, status, best_s=best)


def test_failures_skip_harder_configurations_and_peers_are_projected() -> None:
    small = SpeedCase("skactiveml", "kcenter", 10_000, 64, 100)
    bigger = SpeedCase("skactiveml", "kcenter", 100_000, 64, 100)
    wider = SpeedCase("skactiveml", "kcenter", 10_000, 384, 100)
    assert "timeout at n=10,000" in (_skip_reason(wider, [_result(small, "timeout", None)], 120) or "")
    assert _skip_reason(SpeedCase("skactiveml", "kcenter", 10_000, 32, 100), [_result(small, "timeout", None)], 120) is None
    assert "projected over the cap" in (_skip_reason(bigger, [_result(small, best=20.0)], 120) or "")
    assert _skip_reason(bigger, [_result(small, best=5.0)], 120) is None
    # loopwise's batch-aware methods subsample: never projected, always measured
    lw = SpeedCase("loopwise", "typiclust", 100_000, 64, 100)
    assert _skip_reason(lw, [_result(SpeedCase("loopwise", "typiclust", 10_000, 64, 100), best=50.0)], 120) is None


def test_a_tiny_grid_runs_each_configuration_in_its_own_process(tmp_path: Path) -> None:
    pytest.importorskip("modAL")
    pytest.importorskip("skactiveml")
    cases = plan(sizes=[2500], dims=[8], batches=[20], methods=["least_confidence", "kcenter"], libraries=["loopwise", "modal", "skactiveml"])
    results, env = speed.run_speed(cases, tmp_path / "cache", cap_s=60, mem_cap_gib=4)
    by_name = {f"{r.library}:{r.method}": r for r in results}
    assert by_name["loopwise:least_confidence"].status == "ok"
    assert by_name["loopwise:kcenter"].status == "ok"
    assert by_name["modal:least_confidence"].status == "ok"
    assert by_name["skactiveml:kcenter"].status in ("ok", "timeout")
    for r in results:
        if r.status == "ok":
            assert r.best_s is not None and r.best_s > 0 and r.repeats >= 1 and r.peak_extra_mib is not None
    rows = speed.ratio_rows(results)
    lc = next(row for row in rows if row["method"] == "least_confidence")
    assert lc["peers"]["modal"][1] is not None and lc["peers"]["modal"][1] > 0
    text = speed.render_markdown(results, env, "loopwise bench speed --size 2500")
    assert "`loopwise bench speed --size 2500`" in text and "| least_confidence | 2,500 | 8 | 20 |" in text
    assert "Raw figures: `benchmarks/results/speed_grid.json`" in text
    assert "Raw figures: `elsewhere.json`" in speed.render_markdown(results, env, "x", raw="elsewhere.json")


def test_a_configuration_over_its_cap_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time as _time

    folder = speed.prepare_data(tmp_path, 1500, 4)
    data = speed.load_data(folder)
    monkeypatch.setattr(speed, "build_call", lambda case, data, seed=0: (lambda: _time.sleep(30)))
    result = speed.run_case(SpeedCase("loopwise", "margin", 1500, 4, 5), data, cap_s=2, mem_cap_gib=0)
    assert result.status == "timeout" and result.wall_s == 2


def test_cli_writes_results_and_the_doc_section(tmp_path: Path) -> None:
    pytest.importorskip("modAL")
    from loopwise.cli.main import app
    from loopwise.cli._bench_speed import BEGIN, END

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# B\n\n## Speed\n\n{BEGIN}\n{END}\n\n## After\nkept\n")
    out = tmp_path / "speed.json"
    args = ["bench", "speed", "--size", "2000", "--dim", "8", "--batch", "10", "--strategy", "margin", "--library", "loopwise", "--library", "modal"]
    args += ["--cap", "60", "--cache", str(tmp_path / "cache"), "--out", str(out), "--doc", str(doc)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    assert {r["library"] for r in payload["results"]} == {"loopwise", "modal"}
    text = doc.read_text()
    assert "| margin | 2,000 | 8 | 10 |" in text and text.endswith("## After\nkept\n")
    again = CliRunner().invoke(app, ["bench", "speed", "--report-only", "--out", str(out)])
    assert again.exit_code == 0, again.output


def test_auto_gets_a_history_of_ten_loops_and_is_timed_against_margin(tmp_path: Path) -> None:
    from loopwise.bench._speed_history import HISTORY_LOOPS, speed_history
    from loopwise.strategies._auto import KNOWN_ARMS

    data = speed.load_data(speed.prepare_data(tmp_path, 3000, 8))
    history = speed_history(data.X, data.model, data.y_labelled)
    assert len(history) == HISTORY_LOOPS == history.metadata.n_updates == 10
    bought = np.concatenate([loop.positions for loop in history.labels_by_loop])
    assert np.array_equal(np.sort(bought), data.labelled_positions)  # the labelled rows, none of the candidates
    assert np.allclose(history.proba_at(9), data.model.predict_proba(data.X), atol=1e-4)  # the last loop is the model's own

    cases = plan(sizes=[3000], dims=[8], batches=[20], methods=["auto", "margin"], libraries=["loopwise"])
    results, env = speed.run_speed(cases, tmp_path, cap_s=60, mem_cap_gib=4)
    auto = next(r for r in results if r.method == "auto")
    assert auto.status == "ok", auto.detail
    assert auto.extra["arm"] in KNOWN_ARMS
    (row,) = speed.baseline_rows(results)
    assert row[0] == "auto vs margin, 20 from 3,000 x 8" and row[1] == auto.extra["arm"] and float(row[4]) > 0
    assert "| auto vs margin, 20 from 3,000 x 8 |" in speed.render_markdown(results, env, "x")


def test_the_auto_floor_is_two_seconds_and_500_mib_at_a_million_rows() -> None:
    case = SpeedCase("loopwise", "auto", 1_000_000, 64, 100)
    fast = SpeedResult(*case.key(), "ok", best_s=1.5, peak_extra_mib=120.0)
    heavy = SpeedResult(*case.key(), "ok", best_s=1.5, peak_extra_mib=600.0)
    slow = SpeedResult(*case.key(), "ok", best_s=2.5, peak_extra_mib=120.0)
    verdicts = [speed.floor_rows([r])[0] for r in (fast, heavy, slow)]
    assert [v[3] for v in verdicts] == ["met", "missed", "missed"]
    assert verdicts[0][1] == "<= 2 s, <= 500 MiB"

"""The cost ledger and break-even over recorded runs: totals, per-step CPU, prices, and the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loopwise.reports import RunResult, break_even, break_even_sentence, cost_to_reach, ledger, ledger_totals, write_json_report
from tests.reports.conftest import N_LABELLED, build_results


def _priced(results: list[RunResult], rate: float = 3600.0) -> list[RunResult]:
    """The conftest runs with CPU seconds per step (train 2 s, infer and select 1 s each) and a compute rate."""
    for run in results:
        run.compute_rate = rate
        run.full_label_cost = 500.0
        for point in run.loops:
            point.timings.update({"train_cpu": 2.0, "infer_cpu": 1.0, "select_cpu": 1.0, "evaluate_cpu": 99.0})
    return results


def test_ledger_running_totals_price_cpu_per_hour_and_leave_out_evaluate() -> None:
    run = _priced(build_results())[0]  # random seed 0: labels 10, 20, 40, 80, 160 at 1 a label
    rows = ledger(run)
    assert [r["labels"] for r in rows] == [10, 10, 20, 40, 80]
    assert [r["total_label_cost"] for r in rows] == [10.0, 20.0, 40.0, 80.0, 160.0]
    # 4 CPU seconds a loop (evaluate's 99 is the simulation's bookkeeping, not a cost of AL) at 1 a CPU second.
    assert [r["total_cpu_seconds"] for r in rows] == [4.0, 8.0, 12.0, 16.0, 20.0]
    assert [r["total_compute_cost"] for r in rows] == pytest.approx([4.0, 8.0, 12.0, 16.0, 20.0])
    assert rows[-1]["total_cost"] == pytest.approx(180.0)
    assert all(r["gpu_seconds"] is None for r in rows)
    totals = ledger_totals(run)
    assert totals["cpu_seconds_by_step"] == {"train": 10.0, "infer": 5.0, "select": 5.0}
    assert (totals["labels"], totals["label_cost"], totals["total_cost"]) == (160, 160.0, pytest.approx(180.0))


def test_gpu_seconds_are_summed_only_where_recorded() -> None:
    run = _priced(build_results())[0]
    run.loops[2].timings["train_gpu"] = 0.75
    assert [r["gpu_seconds"] for r in ledger(run)] == [None, None, 0.75, None, None]
    assert ledger_totals(run)["gpu_seconds"] == 0.75


def test_break_even_against_random_and_full_labelling() -> None:
    results = _priced(build_results())
    # Targets 95% of 0.9 = 0.855: margin seeds reach it at 40, 80, 40 labels (loops 2, 3, 2: 12, 16, 12 CPU s);
    # random at 80, 160, 80.
    assert cost_to_reach(results[3]) == {"labels": 40.0, "label_cost": 40.0, "compute_cost": 12.0, "cpu_seconds": 12.0}
    table = break_even(results)
    margin, random = table["margin"], table["random"]
    assert (margin["reached"], margin["labels"], margin["label_cost"]) == (3, pytest.approx(160 / 3), pytest.approx(160 / 3))
    assert random["label_cost"] == pytest.approx(320 / 3)
    assert margin["random_label_cost"] == random["label_cost"]
    text = break_even_sentence("margin", margin)
    assert text == (
        "margin: to reach 95% of full-pool accuracy this run spent 53.33 on labels and 13.33 on compute "
        "(3 of 3 seeds reached it); random needed 106.67 on labels; labelling everything would cost 500.00."
    )


def test_a_strategy_that_never_reaches_the_target_says_so() -> None:
    results = _priced(build_results())
    for run in results:
        run.full_pool_accuracy = 1.0  # 95% is 0.95: no curve gets there
    text = break_even_sentence("margin", break_even(results)["margin"])
    assert text.startswith("margin: no run reached 95% of full-pool accuracy; random never reached it")


def test_json_report_carries_the_ledger(tmp_path: Path) -> None:
    results = _priced(build_results(), rate=36.0)
    path = tmp_path / "r.json"
    write_json_report(results, path)
    data = json.loads(path.read_text())
    run = data["costs"]["runs"]["margin-0"]
    assert run["cpu_seconds"] == 20.0 and run["compute_cost"] == pytest.approx(0.2)
    assert [row["total_labels"] for row in run["loops"]] == N_LABELLED
    assert data["costs"]["break_even_95"]["random"]["reached"] == 3

"""The per-strategy and per-run summary, checked against numpy on hand-made curves."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
import pytest
from rich.console import Console
from rich.table import Table

from loopwise.errors import DataError
from loopwise.reports import RunResult, render_table, summarise

BuildRun = Callable[..., RunResult]  # the conftest builder, handed over by the build_run fixture


def _accuracy(run: RunResult) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([p.n_labelled for p in run.loops], float), np.array([p.accuracy for p in run.loops]))


def test_strategy_means_and_stds_match_numpy(results: list[RunResult]) -> None:
    summary = summarise(results)
    assert summary["dataset"] == results[0].dataset
    assert list(summary["strategies"]) == ["random", "margin"]  # order of first appearance
    for name, stats in summary["strategies"].items():
        runs = [r for r in results if r.strategy == name]
        by_hand = [np.trapezoid(y, x) / (x[-1] - x[0]) for x, y in map(_accuracy, runs)]
        finals = [r.loops[-1].accuracy for r in runs]
        assert stats["n_seeds"] == 3 and stats["seeds"] == [0, 1, 2]
        assert stats["aulc_mean"] == pytest.approx(np.mean(by_hand))
        assert stats["aulc_std"] == pytest.approx(np.std(by_hand, ddof=1))
        assert stats["final_accuracy_mean"] == pytest.approx(np.mean(finals))
        assert stats["final_accuracy_std"] == pytest.approx(np.std(finals, ddof=1))


def test_labels_to_targets_and_saving_vs_random(results: list[RunResult]) -> None:
    # Full-pool accuracy 0.9: the targets are 0.855 and 0.891 (curves in conftest.CURVES).
    s = summarise(results)["strategies"]
    rnd, margin = s["random"], s["margin"]
    assert (rnd["labels_to_95_mean"], rnd["reached_95"]) == (pytest.approx((80 + 160 + 80) / 3), 3)
    assert (margin["labels_to_95_mean"], margin["reached_95"]) == (pytest.approx((40 + 80 + 40) / 3), 3)
    # Margin needs half the labels random needs: a positive saving.
    assert margin["saving_vs_random_95"] == pytest.approx(0.5)
    assert rnd["saving_vs_random_95"] == pytest.approx(0.0)
    # Random seed 1 never reaches 99%: the mean covers the two that did, and no saving is claimed.
    assert (rnd["labels_to_99_mean"], rnd["reached_99"]) == (pytest.approx(160), 2)
    assert (margin["labels_to_99_mean"], margin["reached_99"]) == (pytest.approx((160 + 160 + 80) / 3), 3)
    assert margin["saving_vs_random_99"] is None


def test_a_strategy_slower_than_random_has_a_negative_saving(build_run: BuildRun) -> None:
    n = [10, 20, 40]
    runs = [build_run("r", "random", 0, n, [0.5, 0.86, 0.9]), build_run("s", "slow", 0, n, [0.5, 0.6, 0.86])]
    assert summarise(runs)["strategies"]["slow"]["saving_vs_random_95"] == pytest.approx(1 - 40 / 20)


def test_no_saving_without_random(results: list[RunResult]) -> None:
    stats = summarise([r for r in results if r.strategy == "margin"])["strategies"]["margin"]
    assert stats["saving_vs_random_95"] is None and stats["saving_vs_random_99"] is None


def test_unknown_full_pool_accuracy_gives_no_targets(build_run: BuildRun) -> None:
    run = build_run("a", "random", 0, [10, 20], [0.5, 0.9], full_pool_accuracy=None)
    summary = summarise([run])
    assert summary["runs"][0]["labels_to_95"] is None
    stats = summary["strategies"]["random"]
    assert stats["reached_95"] == 0 and stats["labels_to_95_mean"] is None
    assert stats["aulc_std"] is None  # one seed: no spread to speak of


def test_per_run_entries(results: list[RunResult]) -> None:
    runs = summarise(results)["runs"]
    assert [r["run_id"] for r in runs] == [r.run_id for r in results]
    first = runs[0]
    assert set(first) == {
        "run_id", "strategy", "seed", "aulc", "final_accuracy", "labels_to_95", "labels_to_99",
        "full_pool_accuracy", "curve",
    }
    assert (first["labels_to_95"], first["labels_to_99"], first["final_accuracy"]) == (80, 160, 0.895)
    assert first["curve"][2] == {
        "labels": 40, "accuracy": 0.70, "macro_f1": pytest.approx(results[0].loops[2].macro_f1)
    }


def test_summary_is_strict_json_even_with_nan_metrics(build_run: BuildRun) -> None:
    run = build_run("a", "random", 0, [10, 20], [0.5, 0.9])
    run.loops[1].accuracy = math.nan
    summary = summarise([run])
    assert summary["runs"][0]["final_accuracy"] is None
    json.dumps(summary, allow_nan=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rs: rs.clear(), "empty"),
        (lambda rs: setattr(rs[1], "dataset", "other"), "one dataset"),
        (lambda rs: setattr(rs[1], "run_id", rs[0].run_id), "more than once"),
        (lambda rs: setattr(rs[1], "label_names", ["a", "b", "c", "d"]), "share a label set"),
        (lambda rs: rs[2].loops.clear(), "no loops"),
        (lambda rs: rs[2].loops[1].confusion_matrix.pop(), "confusion_matrix must be 4 x 4"),
        (lambda rs: rs[2].loops[1].per_class_f1.pop(), "per_class_f1 has 3 values"),
        (lambda rs: rs[2].loops.reverse(), "previous loop"),
    ],
)
def test_summarise_refuses_results_it_cannot_compare(  # type: ignore[no-untyped-def]
    results: list[RunResult], change, message: str
) -> None:
    change(results)
    with pytest.raises(DataError, match=message):
        summarise(results)


def test_render_table_has_a_row_per_strategy_and_prints_names_literally(results: list[RunResult]) -> None:
    for r in results:
        if r.strategy == "margin":
            r.strategy = "[bold]margin"  # rich markup in a name must show, not style
    table = render_table(summarise(results))
    assert isinstance(table, Table) and table.row_count == 2
    console = Console(record=True, width=220)
    console.print(table)
    text = console.export_text()
    assert "[bold]margin" in text
    assert "+50%" in text  # margin's saving vs random at 95%
    assert "160 (2/3)" in text  # random's 99% target, reached by two seeds of three

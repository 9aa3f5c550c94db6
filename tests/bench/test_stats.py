"""Statistics of the quality benchmark: confidence intervals, paired Wilcoxon tests, win rates, ranks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from loopwise.bench import paired, summarise_dataset, summarise_quality
from loopwise.bench._stats import mean_ci


def test_mean_ci_is_the_student_t_interval() -> None:
    values = np.array([0.60, 0.62, 0.61, 0.65, 0.58])
    mean, half = mean_ci(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    assert mean == pytest.approx(values.mean())
    assert half == pytest.approx((high - low) / 2)
    assert mean_ci(np.array([0.5]))[1] is None


def test_paired_difference_wilcoxon_and_win_rate() -> None:
    a = {s: 0.70 + 0.01 * s for s in range(10)}
    b = {s: 0.68 + 0.01 * s + (0.005 if s % 3 == 0 else 0.0) for s in range(10)}
    out = paired(a, b)
    diff = np.array([a[s] - b[s] for s in range(10)])
    assert out["mean"] == pytest.approx(diff.mean(), abs=1e-5)
    assert out["p_wilcoxon"] == pytest.approx(stats.wilcoxon(diff).pvalue, abs=1e-5)
    assert out["win_rate"] == 1.0 and out["n"] == 10


def test_paired_only_over_shared_seeds_ties_count_half_and_identical_runs_give_p_one() -> None:
    out = paired({0: 0.5, 1: 0.6, 2: 0.7}, {1: 0.6, 2: 0.6, 3: 0.1})
    assert out["n"] == 2 and out["win_rate"] == 0.75
    same = paired({0: 0.5, 1: 0.6}, {0: 0.5, 1: 0.6})
    assert same["p_wilcoxon"] == 1.0 and same["mean"] == 0.0
    assert paired({0: 0.5}, {1: 0.5}) is None


def _cell(strategy: str, library: str, method: str, seed: int, accuracy: list[float]) -> dict:
    from loopwise.reports import aulc

    labels = [10, 20, 30, 40][: len(accuracy)]
    return {
        "strategy": strategy, "library": library, "method": method, "seed": seed, "labels": labels,
        "accuracy": accuracy, "aulc": aulc(labels, accuracy), "select_seconds": 0.1,
    }  # fmt: skip


def _doc(name: str, shift: float) -> dict:
    cells = []
    for seed in range(8):
        base = [0.5, 0.6, 0.7, 0.8]
        cells.append(_cell("random", "loopwise", "random", seed, base))
        cells.append(_cell("margin", "loopwise", "margin", seed, [v + shift + 0.001 * seed for v in base]))
        cells.append(_cell("modal:margin", "modAL", "margin", seed, [v + shift / 2 for v in base]))
    return {"dataset": name, "protocol": {"initial": 10, "batch": 10, "budget": 40}, "data": {"full_pool_accuracy": 0.84}, "cells": cells}


def test_dataset_summary_labels_to_target_and_peer_comparison() -> None:
    ds = summarise_dataset(_doc("toy", 0.1))
    margin, rnd = ds["strategies"]["margin"], ds["strategies"]["random"]
    assert margin["vs_random"]["mean"] > 0 and margin["vs_random"]["win_rate"] == 1.0
    assert rnd["vs_random"] is None
    # 95% of 0.84 is 0.798: random reaches it at 40 labels, margin (+0.1) at 30.
    assert rnd["labels_to_95"] == 40 and margin["labels_to_95"] == 30
    assert rnd["labels_to_99"] is None and rnd["reached_99"] == 0
    assert (margin["rank"], ds["strategies"]["modal:margin"]["rank"], rnd["rank"]) == (1.0, 2.0, 3.0)
    [row] = ds["loopwise_vs_peers"]
    assert row["method"] == "margin" and row["peer"] == "modal:margin" and row["mean"] == pytest.approx(0.05 + 0.0035, abs=1e-4)


def test_mean_rank_and_gain_across_datasets() -> None:
    summary = summarise_quality([_doc("a", 0.04), _doc("b", -0.04)])
    overall = summary["overall"]
    assert overall["margin"]["mean_rank"] == 2.0 and overall["margin"]["n_datasets"] == 2
    assert overall["margin"]["datasets_better_than_random"] == 1
    assert overall["margin"]["datasets_worse_than_random"] == 1


def _doc_full(name: str, full: float, shift: float) -> dict:
    doc = _doc(name, shift)
    return {**doc, "data": {"full_pool_accuracy": full}}


def test_labels_to_99_ratio_is_the_median_over_datasets_both_reach() -> None:
    # Seed-mean margin is random + shift + 0.0035. full 0.70: 99% is 0.693, random reaches it at 30,
    # margin at 20 (2/3); full 0.80 (0.792): random at 40, margin at 30 (0.75), with shift 0.2 at 20 (0.5);
    # full 0.85 (0.8415): random never, so the dataset is left out.
    docs = [_doc_full("a", 0.70, 0.1), _doc_full("b", 0.80, 0.1), _doc_full("c", 0.85, 0.1), _doc_full("d", 0.80, 0.2)]
    summary = summarise_quality(docs)
    a = summary["datasets"][0]["strategies"]
    assert a["random"]["labels_to_99_mean_curve"] == 30 and a["margin"]["labels_to_99_mean_curve"] == 20
    assert summary["datasets"][2]["strategies"]["random"]["labels_to_99_mean_curve"] is None
    margin = summary["overall"]["margin"]
    assert margin["labels_to_99_vs_random_n"] == 3
    assert margin["labels_to_99_vs_random_median"] == pytest.approx(2 / 3, abs=1e-3)  # median of 2/3, 0.75, 0.5
    assert summary["overall"]["random"]["labels_to_99_vs_random_median"] == 1.0

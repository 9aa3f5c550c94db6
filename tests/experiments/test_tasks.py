"""Runs of each task end to end: refused at configuration time when a part cannot serve the task, else stored,
resumed and reported with the task's metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from loopwise.errors import ConfigError
from loopwise.experiments import load_results, resume_run, simulate
from loopwise.experiments._config import DataSpec
from loopwise.loop import FixedSchedule
from loopwise.reports import render_html, summarise
from loopwise.storage import Store

WORDS = ["alpha", "beta", "gamma", "delta"]


@pytest.fixture()
def regression_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(160, 3))
    y = 3.0 * X[:, 0] - 2.0 * X[:, 1] + rng.normal(scale=0.1, size=160)
    rows = ["id,a,b,c,target", *(f"h{i},{x[0]:.4f},{x[1]:.4f},{x[2]:.4f},{t:.4f}" for i, (x, t) in enumerate(zip(X, y)))]
    path = tmp_path / "houses.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def multilabel_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    rows = ["id,text,labels"]
    for i in range(160):
        has = rng.random(len(WORDS)) < 0.35
        words = [w for w, h in zip(WORDS, has) if h] + ["filler", "words", f"n{i % 7}"]
        rows.append(f"d{i},{' '.join(words)},{'|'.join(w for w, h in zip(WORDS, has) if h)}")
    path = tmp_path / "docs.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def store(tmp_path: Path):
    s = Store.open(f"sqlite:///{tmp_path / 'tasks.db'}")
    yield s
    s.close()


def test_a_strategy_or_learner_that_cannot_serve_the_task_is_refused_before_anything_is_stored(
    store: Store, regression_csv: Path
) -> None:
    spec = DataSpec(str(regression_csv), task="regression")
    before = store.counts()
    with pytest.raises(ConfigError, match=r"strategy 'margin' serves classification, not regression; strategies for regression: .*random"):
        simulate(store, spec, ["margin"], 1, FixedSchedule(10, 10, 30))
    with pytest.raises(ConfigError, match=r"learner 'logreg' learns classification, not regression; learners for regression: bagging_trees"):
        simulate(store, spec, ["random"], 1, FixedSchedule(10, 10, 30), learner="logreg")
    assert store.counts() == before


def test_a_regression_run_stores_its_task_and_reports_rmse(store: Store, regression_csv: Path) -> None:
    spec = DataSpec(str(regression_csv), task="regression", test_size=0.25)
    (run_id,) = simulate(store, spec, ["random"], [0], FixedSchedule(10, 20, 50), learner="bagging_ridge")
    run = store.get_run(run_id)
    assert run.task == "regression" and run.config["task"] == "regression"
    loops = store.loops(run_id)
    assert set(loops[-1].metrics) == {"rmse", "neg_rmse", "mae", "r2", "mean_std"}
    # The signal is linear, so a ridge committee on 50 labels explains most of the variance.
    assert loops[-1].metrics["r2"] > 0.9 and loops[-1].metrics["rmse"] < loops[0].metrics["rmse"] * 1.5
    first_id = loops[0].selected_ids[0]
    (stored,) = store.label_history(run.project_id, first_id)
    assert float(stored.value) == float(np.loadtxt(regression_csv, delimiter=",", skiprows=1, usecols=4)[int(first_id[1:])])
    (result,) = load_results(store, [run_id])
    assert result.task == "regression" and result.loops[-1].accuracy == pytest.approx(-loops[-1].metrics["rmse"])
    # The strategies that read labelled targets (iGS) and a committee (EMCM) run in the same loop.
    for run in simulate(store, spec, ["igs", "emcm"], [0], FixedSchedule(10, 20, 50), learner="bagging_ridge"):
        assert store.get_run(run).status == "finished" and store.loops(run)[-1].metrics["r2"] > 0.9
    summary = summarise([result])
    assert summary["task"] == "regression" and summary["metrics"] == {"score": "neg_rmse", "second": "r2"}
    assert summary["runs"][0]["labels_to_95"] is None  # no share of a negative score is a target
    page = render_html([result])
    assert "final -RMSE" in page and "task <b>regression</b>" in page


def test_a_multilabel_run_resumes_to_the_uninterrupted_result(store: Store, multilabel_csv: Path) -> None:
    spec = DataSpec(str(multilabel_csv), task="multilabel", text_column="text")
    schedule = FixedSchedule(20, 20, 80)
    (whole,) = simulate(store, spec, ["random"], [3], schedule)
    assert store.get_run(whole).task == "multilabel" and store.get_run(whole).config["learner"] == "tfidf_ovr_logreg"
    metrics = store.loops(whole)[-1].metrics
    assert {"micro_f1", "macro_f1", "subset_accuracy", "hamming_loss"} <= set(metrics)
    assert len(metrics["per_label_f1"]) == len(WORDS) and metrics["micro_f1"] > 0.5  # each label is one word

    for run in simulate(store, spec, ["cvirs", "mmc", "ml_min_margin"], [0], FixedSchedule(20, 20, 60)):
        assert store.get_run(run).status == "finished" and store.get_run(run).n_loops == 3

    # The same run cut after two loops (its third loop's write fails), then resumed.
    class Boom(Exception):
        pass

    calls = {"n": 0}

    def stop_after_two(_progress: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Boom

    with pytest.raises(Boom):
        simulate(store, spec, ["random"], [3], schedule, on_loop=stop_after_two)
    cut = store.list_runs()[-1].id
    assert store.get_run(cut).n_loops == 2
    resume_run(store, cut)
    assert [l.selected_ids for l in store.loops(cut)] == [l.selected_ids for l in store.loops(whole)]
    assert [l.metrics["micro_f1"] for l in store.loops(cut)] == [l.metrics["micro_f1"] for l in store.loops(whole)]
    (result,) = load_results(store, [cut])
    assert result.task == "multilabel" and len(result.loops[-1].per_class_f1) == len(WORDS)


def test_runs_list_names_each_runs_headline_metric_instead_of_calling_it_accuracy(
    store: Store, regression_csv: Path, tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    from loopwise.cli.main import app

    (run_id,) = simulate(store, DataSpec(str(regression_csv), task="regression"), ["random"], [0], FixedSchedule(10, 20, 30),
                         learner="bagging_ridge")
    last = store.loops(run_id)[-1].metrics["neg_rmse"]
    db = f"sqlite:///{tmp_path / 'tasks.db'}"
    listed = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["runs", "list", "--json", "--db", db], catch_exceptions=False)
    [row] = json.loads(listed.output)
    assert (row["task"], row["metric"], row["score"], row["accuracy"]) == ("regression", "neg_rmse", pytest.approx(last), None)
    table = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["runs", "list", "--db", db], catch_exceptions=False).output
    assert f"neg_rmse {last:.3f}" in table and "accuracy" not in table

"""The server drives the engine's Loop: people's labels replay a simulated run, and its run reads like any other."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from loopwise.cli.main import app
from loopwise.data import split_pool_test
from loopwise.experiments import PreparedData, prepare_data, simulate
from loopwise.experiments._config import DataSpec
from loopwise.loop import FixedSchedule
from loopwise.server._driver import forget_loops
from loopwise.server._learning import LearningWorker
from loopwise.storage import AnnotationRepository, Store
from loopwise.storage._annotation_store import NewRecords

AG_NEWS = str(Path("/work/shared/datasets/ag_news"))
SPEC = DataSpec(source=AG_NEWS, max_pool=120, max_test=60)


def _server_project(
    repo: AnnotationRepository, data: PreparedData, learner: str, seed: int, batch: int, retrain: str = "scratch"
) -> Any:
    """An annotation project over the simulated run's pool (same order) and test split (gold labels)."""
    ds = data.dataset
    pool, test = split_pool_test(ds, test_size=SPEC.test_size, seed=SPEC.split_seed, max_pool=SPEC.max_pool, max_test=SPEC.max_test)
    assert ds.ids[pool].tolist() == data.pool_ids.tolist()
    texts = ds.frame[ds.text_columns[0]].astype(str).to_numpy()
    rows = np.concatenate([pool, test])
    records = NewRecords(
        external_ids=[str(i) for i in ds.ids[rows]],
        payloads=[{"text": str(t)} for t in texts[rows]],
        roles=["pool"] * len(pool) + ["test"] * len(test),
        gold=[None] * len(pool) + [data.label_names[int(y)] for y in ds.y[test]],
    )
    settings = {"learner": learner, "strategy": "margin", "seed": seed, "batch_size": batch, "retrain_mode": retrain}
    return repo.create_project("replay", "text", data.label_names, "", settings, 0.5, records=records)


@pytest.fixture
def url(tmp_path: Path) -> str:
    """The annotation server's store: a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'server.db'}"


@pytest.fixture
def repo(url: str) -> Iterator[AnnotationRepository]:
    """The annotation repository over ``url``, closed after the test."""
    repository = AnnotationRepository(Store.open(url))
    yield repository
    repository.store.close()


@pytest.fixture
def worker(repo: AnnotationRepository, tmp_path: Path) -> LearningWorker:
    """The server's learning worker, retraining in this process."""
    return LearningWorker(repo, tmp_path / "media", subprocess=False)


def _pool(repo: AnnotationRepository, project: Any) -> list[Any]:
    """The project's pool records (not its test split), in import order."""
    return [r for r in repo.snapshot(project.id) if r.role == "pool"]


def _truth(data: PreparedData) -> dict[str, str]:
    """The true class of each pool record, by external id."""
    return {str(rid): data.label_names[int(y)] for rid, y in zip(data.pool_ids, data.y_pool, strict=True)}


def _label_truly(repo: AnnotationRepository, project: Any, user: Any, data: PreparedData, records: list[Any]) -> None:
    """``user`` labels ``records`` with their true classes."""
    truth = _truth(data)
    for record in records:
        repo.submit_label(project, record.record_id, user, truth[record.external_id], 1)


def _runs_show(url: str, run_id: str) -> str:
    shown = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["runs", "show", run_id, "--db", url], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    return shown.output


@pytest.mark.parametrize(("learner", "retrain"), [("logreg", "scratch"), ("tfidf_svd", "scratch"), ("mlp", "warm_start")])
def test_server_loop_fed_a_simulated_runs_labels_selects_what_simulate_selected(
    tmp_path: Path, repo: AnnotationRepository, worker: LearningWorker, learner: str, retrain: str
) -> None:
    seed, batch = 3, 10
    with Store.open(f"sqlite:///{tmp_path / 'sim.db'}") as sim_store:
        data = prepare_data(SPEC, learner)
        [run_id] = simulate(sim_store, data, ["margin"], [seed], FixedSchedule(10, batch, 40), learner=learner, retrain=retrain)
        simulated = sim_store.loops(run_id)
        given = [[data.label_names[int(v)] for v in sim_store.load_arrays(lp.artifact_hash)["labels"]] for lp in simulated]
    assert len(simulated) == 4
    # The test split must be the simulated run's: same records, same gold labels.
    project = _server_project(repo, data, learner, seed, batch, retrain)
    user = repo.create_user("ann", "annotator")
    internal = {r.external_id: r.record_id for r in repo.snapshot(project.id)}
    for index, loop in enumerate(simulated):
        for external_id, value in zip(loop.selected_ids, given[index], strict=True):
            repo.submit_label(project, internal[external_id], user, value, 1)
        if index == 2:
            forget_loops()  # a restart: the next retrain restores the Loop from the store, as resume does
        result = worker.retrain(project.id)
        assert result is not None
        assert result.metrics["accuracy"] == pytest.approx(loop.metrics["accuracy"])
        if index + 1 < len(simulated):
            by_internal = {v: k for k, v in internal.items()}
            proposed = [by_internal[r] for r in result.ranking[:batch]]
            assert proposed == simulated[index + 1].selected_ids, f"loop {index + 1} differs"
    served = repo.store.loops(project.run_id)
    assert [lp.selected_ids for lp in served] == [lp.selected_ids for lp in simulated]
    assert [lp.label_cost for lp in served] == [0.5 * len(lp.selected_ids) for lp in simulated]
    scores = repo.store.load_arrays(served[1].artifact_hash)["scores"]
    assert len(scores) == batch and np.isfinite(scores).all()  # the strategy's score of each record it chose
    assert repo.store.load_model(project.run_id, 3) is not None


def test_a_server_run_shows_and_reports_like_a_simulated_one(
    tmp_path: Path, url: str, repo: AnnotationRepository, worker: LearningWorker
) -> None:
    data = prepare_data(SPEC, "logreg")
    project = _server_project(repo, data, "logreg", 0, 10)
    user = repo.create_user("ann", "annotator")
    pool = _pool(repo, project)
    for start in (0, 10):
        _label_truly(repo, project, user, data, pool[start : start + 10])
        assert worker.retrain(project.id) is not None
    shown = _runs_show(url, project.run_id)
    assert "initial:RandomInit" in shown and "margin" in shown and "ledger: 20 labels cost 10.00" in shown
    out = tmp_path / "report.json"
    reported = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["report", project.run_id, "--db", url, "--out", str(tmp_path / "r.html"), "--json", str(out)],
        catch_exceptions=False,
    )
    assert reported.exit_code == 0, reported.output
    report = json.loads(out.read_text())
    [run] = report["results"]
    assert run["run_id"] == project.run_id and [p["n_labelled"] for p in run["loops"]] == [10, 20]
    assert report["costs"]["runs"][project.run_id]["labels"] == 20


def test_runs_show_on_a_server_run_whose_labels_are_too_few_to_cross_validate(
    url: str, repo: AnnotationRepository, worker: LearningWorker
) -> None:
    records = NewRecords(external_ids=[f"r{i}" for i in range(12)], payloads=[{"text": f"word{i % 3} text {i}"} for i in range(12)])
    project = repo.create_project("few", "text", ["a", "b"], "", {"strategy": "margin"}, 2.0, records=records)
    user = repo.create_user("ann", "annotator")
    for record, value in zip(repo.snapshot(project.id)[:3], ["a", "b", "b"], strict=True):
        repo.submit_label(project, record.record_id, user, value, 1)
    result = worker.retrain(project.id)
    assert result is not None and result.metrics["note"] == "too few labels per class for cross-validation"
    row = next(line for line in _runs_show(url, project.run_id).splitlines() if "initial:RandomInit" in line)
    assert row.split("│")[3].strip() == "3" and row.split("│")[-2].strip() == "6"  # labels, and their cost


def test_a_warm_start_project_whose_learner_changes_starts_over_from_its_labels(
    repo: AnnotationRepository, worker: LearningWorker
) -> None:
    data = prepare_data(SPEC, "logreg")
    project = _server_project(repo, data, "logreg", 0, 10, retrain="warm_start")
    user = repo.create_user("ann", "annotator")
    pool = _pool(repo, project)
    for start, learner in ((0, "logreg"), (10, "logreg"), (20, "mlp")):
        if learner != project.settings["learner"]:
            project = repo.update_project(project.id, settings={**project.settings, "learner": learner})
            forget_loops()  # as after a restart: the Loop is rebuilt from the store, with no model to continue
        _label_truly(repo, project, user, data, pool[start : start + 10])
        result = worker.retrain(project.id)
        assert result is not None and not worker.errors, worker.errors
    loops = repo.store.loops(project.run_id)
    assert len(loops) == 3 and str(repo.store.load_arrays(loops[-1].artifact_hash)["learner"]) == "mlp"


@pytest.mark.parametrize("initializer", ["typiclust", "diverse"])
def test_a_cold_start_initializer_orders_the_queue_before_anyone_labels(
    repo: AnnotationRepository, worker: LearningWorker, initializer: str
) -> None:
    from loopwise.loop import loop_rng, parse_initializer

    data = prepare_data(SPEC, "logreg")
    project = _server_project(repo, data, "logreg", 0, 10)
    project = repo.update_project(project.id, settings={**project.settings, "initializer": initializer})
    result = worker.retrain(project.id)
    assert result is not None and result.write is None  # an order, not a loop: nobody has labelled yet
    assert repo.store.loops(project.run_id) == []
    # The loop-0 strategy's own picks over the pool's features (the data layer's, as simulate builds them).
    pool = _pool(repo, project)
    by_external = {r.external_id: r.record_id for r in pool}
    picked = parse_initializer(initializer).select(data.X_pool, data.pool_ids, 10, loop_rng(0, 0))
    expected = [by_external[str(data.pool_ids[p])] for p in picked]
    user = repo.create_user("ann", "annotator")
    served = []
    for _ in range(10):
        record = repo.lease_next(project.id, user.id, 1, 600)
        assert record is not None
        served.append(record.record_id)
        repo.submit_label(project, record.record_id, user, data.label_names[int(served.index(record.record_id)) % 2], 1)
    assert served == expected
    # Those labels are the run's loop 0, recorded as any other; the model's ranking takes over from there.
    loop0 = worker.retrain(project.id)
    assert loop0 is not None and loop0.write is not None and loop0.loop_index == 0
    internal_to_external = {r.record_id: r.external_id for r in pool}
    assert repo.store.loops(project.run_id)[0].selected_ids == [internal_to_external[r] for r in served]
    nxt = repo.lease_next(project.id, user.id, 1, 600)
    assert nxt is not None and nxt.record_id == loop0.ranking[0]


def test_a_label_that_changes_after_its_loop_trains_from_the_next_retrain_on(
    repo: AnnotationRepository, worker: LearningWorker
) -> None:
    from loopwise.server import _driver

    data = prepare_data(SPEC, "logreg")
    project = _server_project(repo, data, "logreg", 0, 10)
    ann, admin = repo.create_user("ann", "annotator"), repo.create_user("boss", "admin")
    pool = _pool(repo, project)
    _label_truly(repo, project, ann, data, pool[:10])
    assert worker.retrain(project.id) is not None
    first = pool[0]
    other = next(name for name in data.label_names if name != _truth(data)[first.external_id])
    repo.adjudicate(project.id, first.record_id, admin.id, admin.name, other)  # the admin decides otherwise
    _label_truly(repo, project, ann, data, pool[10:20])
    assert worker.retrain(project.id) is not None
    loop = _driver._held[(repo.store.url, project.id)].loop
    assert data.label_names[int(loop.pool.labels[0])] == other  # what the model trained on in loop 1
    assert loop.pool.n_labelled == 20 and loop.pool.labelled_at[0] == 0  # still labelled in loop 0, once


@pytest.mark.parametrize("retrain", ["scratch", "warm_start"])
def test_records_imported_after_a_retrain_train_with_the_next_one(
    repo: AnnotationRepository, worker: LearningWorker, retrain: str
) -> None:
    # TF-IDF is fitted on the project's records: new records with new words change the feature space,
    # so the last loop's model no longer fits it and must be refitted on the stored labels.
    texts = {"a": "apple banana cherry", "b": "engine piston gearbox"}
    records = NewRecords(external_ids=[f"r{i}" for i in range(24)], payloads=[{"text": f"{texts['ab'[i % 2]]} {i}"} for i in range(24)])
    project = repo.create_project("grows", "text", ["a", "b"], "", {"learner": "logreg", "retrain_mode": retrain, "batch_size": 4}, 1.0, records=records)
    user = repo.create_user("ann", "annotator")

    def label(n: int) -> None:
        open_ = [r for r in _pool(repo, project) if r.n_labels == 0][:n]
        for record in open_:
            repo.submit_label(project, record.record_id, user, "ab"[int(record.external_id[1:]) % 2], 1)
        assert worker.retrain(project.id) is not None and not worker.errors, worker.errors

    label(8)
    label(4)
    new_words = [f"durian elderberry fig {i}" if i % 2 == 0 else f"turbine crankshaft {i}" for i in range(24, 36)]
    repo.add_records(project.id, [f"r{i}" for i in range(24, 36)], [{"text": t} for t in new_words])
    label(4)
    loops = repo.store.loops(project.run_id)
    assert len(loops) == 3
    ranking = repo.store.load_arrays(loops[-1].artifact_hash)["ranking"]
    assert len(ranking) == 36 - 16  # every open record, the new ones included, is ranked by the refitted model


def test_a_loops_label_cost_is_the_annotators_measured_time_at_their_rate(
    url: str, repo: AnnotationRepository, worker: LearningWorker
) -> None:
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from loopwise.storage._annotation_models import AnnotationEventRow

    data = prepare_data(SPEC, "logreg")
    project = _server_project(repo, data, "logreg", 0, 10)
    project = repo.update_project(project.id, settings={**project.settings, "annotator_rate": 36.0})  # 0.01 a second
    user = repo.create_user("ann", "annotator")
    _label_truly(repo, project, user, data, _pool(repo, project)[:10])
    # The log's times as a clock would have written them: 4 s, 8 s, ... apart, and one break of 20 minutes.
    gaps = [None, 4, 8, 12, 16, 1200, 20, 24, 28, 32]
    t, start = [], datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)
    for gap in gaps:
        start += timedelta(seconds=gap or 0)
        t.append(start)
    with repo._engine.begin() as conn:
        ids = [row[0] for row in conn.execute(
            AnnotationEventRow.__table__.select().with_only_columns(AnnotationEventRow.id)
            .where(AnnotationEventRow.project_id == project.id).order_by(AnnotationEventRow.id)
        )]
        for event_id, when in zip(ids, t, strict=True):
            conn.execute(update(AnnotationEventRow).where(AnnotationEventRow.id == event_id).values(created_at=when))
    assert worker.retrain(project.id) is not None
    [loop] = repo.store.loops(project.run_id)
    measured = [4, 8, 12, 16, 20, 24, 28, 32]
    median = 18.0  # the first label and the one after the break take the annotator's median
    assert loop.timings["annotator_seconds"] == pytest.approx(sum(measured) + 2 * median)
    assert loop.timings["annotator_labels_imputed"] == 2
    assert loop.label_cost == pytest.approx((sum(measured) + 2 * median) * 0.01)
    assert "annotator time: 180.0 s measured" in _runs_show(url, project.run_id)

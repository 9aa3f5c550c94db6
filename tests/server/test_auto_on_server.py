"""``auto`` on the annotation server (issue 9): the default of new projects, labelled through the queue,
its random-control slice recorded as simulate records it, and its choices and verdict on the project's stats
and dashboard (in headless Chromium, on the same replayed run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from loopwise.experiments import PreparedData, prepare_data, simulate
from loopwise.loop import FixedSchedule
from loopwise.server._driver import forget_loops
from loopwise.server._learning import LearningWorker
from loopwise.storage import AnnotationRepository, Store
from loopwise.storage._annotation_store import NewRecords
from tests.server.conftest import Api, make_project, truth
from tests.server.live import ADMIN_PASSWORD, LiveServer
from tests.server.test_browser import _sign_in, browser  # noqa: F401  (pytest fixture)
from tests.server.test_learning_driver import SPEC

#: auto between margin and random only, with a large slice and a wide UCB bonus, so that its verdict comes
#: within six loops: on this ag_news pool (where margin loses to random) the active part is losing at loop 5.
LOSING = {"arms": ["margin", "random"], "slice_fraction": 0.3, "ucb": 2.0}
LOSING_SEED = 1
QUEUE_KEYS = ("n_slice_labelled", "n_past_proposal", "n_active_labelled")  # what the server adds to a loop's selection


@pytest.fixture(autouse=True)
def _no_held_loops() -> Iterator[None]:
    """Drop the Loops the driver holds after each test, so none outlives its store (others look them up by project id)."""
    yield
    forget_loops()


def _label_from_queue(api: Api, pid: int, n: int) -> list[dict[str, Any]]:
    """``api`` labels the next ``n`` records the queue serves, with their true class."""
    served = []
    for _ in range(n):
        record = api.post(f"/api/projects/{pid}/queue/next").json()["record"]
        assert api.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": truth(record)}).status_code == 201
        served.append(record)
    return served


def test_new_projects_default_to_auto_except_label_kinds_the_learner_does_not_retrain(admin: Api) -> None:
    body = {"task": "text", "label_names": ["pos", "neg"], "learner": "logreg"}
    made = admin.post("/api/projects", json={**body, "name": "single"})
    assert made.status_code == 201 and made.json()["settings"]["strategy"] == "auto"
    for kind in ("multi", "number", "spans"):
        other = admin.post("/api/projects", json={**body, "name": kind, "label_kind": kind})
        assert other.status_code == 201 and other.json()["settings"]["strategy"] == "margin", other.text
    # auto works on the records' features: a learner that reads raw texts gets margin, and auto named with it a 422.
    texts = admin.post("/api/projects", json={**body, "name": "texts", "learner": "tfidf_svd"})
    assert texts.status_code == 201 and texts.json()["settings"]["strategy"] == "margin"
    named = admin.post("/api/projects", json={**body, "name": "svd", "learner": "tfidf_svd", "strategy": "auto"})
    assert named.status_code == 422 and "reads raw texts" in named.text
    refused = admin.post("/api/projects", json={**body, "name": "tags", "label_kind": "multi", "strategy": "auto"})
    assert refused.status_code == 422 and "retrains single-class projects only" in refused.text
    tags = next(p for p in admin.get("/api/projects").json()["data"] if p["name"] == "multi")
    patched = admin.patch(f"/api/projects/{tags['id']}", json={"strategy": "auto"})
    assert patched.status_code == 422 and "label_kind is 'multi'" in patched.text
    # A warm start from weak labels cannot run auto (it needs the loops' history): margin by default, named a 422.
    weak = admin.post("/api/projects", json={**body, "name": "weak", "weak_start": True})
    assert weak.status_code == 201 and weak.json()["settings"]["strategy"] == "margin"
    weak = admin.post("/api/projects", json={**body, "name": "weak auto", "weak_start": True, "strategy": "auto"})
    assert weak.status_code == 422 and "weak_start" in weak.text and "history" in weak.text


def test_a_project_stored_without_a_strategy_keeps_margin(client: TestClient, admin: Api) -> None:
    repo = client.app.state.services.repo  # type: ignore[attr-defined]
    records = NewRecords(external_ids=[f"r{i}" for i in range(12)],
                         payloads=[{"text": f"{'great' if i % 2 else 'awful'} item {i}"} for i in range(12)])
    old = repo.create_project("old", "text", ["pos", "neg"], "", {"learner": "logreg", "batch_size": 4}, records=records)
    assert admin.get(f"/api/projects/{old.id}").json()["settings"]["strategy"] == "margin"
    _label_from_queue(admin, old.id, 4)
    worker = client.app.state.services.worker  # type: ignore[attr-defined]
    assert worker.wait_idle(60) and not worker.errors, worker.errors
    # The first retrain ranked the queue by margin, as before auto: what the stored settings meant then.
    chosen = admin.post(f"/api/projects/{old.id}/queue/next").json()["chosen"]
    assert chosen["strategy"] == "margin" and chosen["rank"] == 1


def test_auto_labelled_through_the_queue_shows_its_arm_slice_and_verdict(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=40, test_rows=10, batch_size=10, audit=False)["id"]
    assert admin.get(f"/api/projects/{pid}").json()["settings"]["strategy"] == "auto"
    worker = client.app.state.services.worker  # type: ignore[attr-defined]
    store = client.app.state.services.repo.store  # type: ignore[attr-defined]
    run_id = admin.get(f"/api/projects/{pid}").json()["run_id"]
    for n_loops in (1, 2, 3):
        served = _label_from_queue(admin, pid, 10)
        assert worker.wait_idle(60) and not worker.errors, worker.errors
        loops = store.loops(run_id)
        assert len(loops) == n_loops
        if n_loops > 1:
            # What the queue served is what the loop proposed, its random-control pick first, and is recorded so.
            proposed = store.load_arrays(loops[-2].artifact_hash)["ranking"][:10].tolist()
            assert [r["id"] for r in served] == proposed
    stats = admin.get(f"/api/projects/{pid}/stats").json()
    assert [loop["strategy"] for loop in stats["loops"]] == ["initial:RandomInit", "auto", "auto"]
    for loop in stats["loops"][1:]:
        sel = loop["selection"]
        assert sel["arm"] in ("typiclust", "covered_margin", "margin", "random") and sel["reason"]
        assert sel["n_slice"] == 1 and sel["n_slice_labelled"] == 1 and sel["n_past_proposal"] == 0
        assert sel["n_active_labelled"] == 9 and "active_losing" in sel and "past_arms" not in sel
    assert stats["active_losing"] == []  # no verdict yet: random has not been played
    page = admin.get(f"/projects/{pid}")
    assert page.status_code == 200 and 'id="active-losing" hidden' in page.text and "active vs random" in page.text


def _ag_news_project(repo: AnnotationRepository, data: PreparedData, settings: dict[str, Any]) -> Any:
    """An annotation project over the simulated run's pool (same order) and test split (gold labels)."""
    from loopwise.data import split_pool_test

    ds = data.dataset
    pool, test = split_pool_test(ds, test_size=SPEC.test_size, seed=SPEC.split_seed, max_pool=SPEC.max_pool, max_test=SPEC.max_test)
    texts = ds.frame[ds.text_columns[0]].astype(str).to_numpy()
    rows = np.concatenate([pool, test])
    records = NewRecords(
        external_ids=[str(i) for i in ds.ids[rows]], payloads=[{"text": str(t)} for t in texts[rows]],
        roles=["pool"] * len(pool) + ["test"] * len(test),
        gold=[None] * len(pool) + [data.label_names[int(y)] for y in ds.y[test]],
    )
    return repo.create_project("ag news", "text", data.label_names, "", settings, 1.0, records=records)


def replay_losing_auto_run(repo: AnnotationRepository, worker: LearningWorker, sim_url: str) -> tuple[Any, list[Any]]:
    """Simulate ``auto`` (:data:`LOSING`) on the ag_news pool, then feed its labels to a server project loop by loop,
    each later loop's labels given in reverse (people's order is not the proposal's); returns the project and simulated loops."""
    data = prepare_data(SPEC, "logreg")
    with Store.open(sim_url) as sim_store:
        [run_id] = simulate(sim_store, data, ["auto"], [LOSING_SEED], FixedSchedule(10, 10, 60), learner="logreg",
                            strategy_params={"auto": LOSING})
        simulated = sim_store.loops(run_id)
        given = [[data.label_names[int(v)] for v in sim_store.load_arrays(lp.artifact_hash)["labels"]] for lp in simulated]
    settings = {"learner": "logreg", "strategy": "auto", "strategy_params": LOSING, "seed": LOSING_SEED,
                "batch_size": 10, "audit": False}
    project = _ag_news_project(repo, data, settings)
    user = repo.create_user("ann", "annotator")
    internal = {r.external_id: r.record_id for r in repo.snapshot(project.id)}
    for index, loop in enumerate(simulated):
        labels = list(zip(loop.selected_ids, given[index], strict=True))
        for external_id, value in (labels if index == 0 else labels[::-1]):  # loop 0: no proposal, no slice
            repo.submit_label(project, internal[external_id], user, value, 1)
        if index == 3:
            forget_loops()  # a restart: the next retrain restores the Loop (and re-proposes) from the store
        assert worker.retrain(project.id) is not None and not worker.errors, worker.errors
    return project, simulated


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, list[Any]]:
    """The losing auto run replayed on a server store (a SQLite file, closed again): its folder, project and simulated loops."""
    workdir = tmp_path_factory.mktemp("auto-replay")
    repo = AnnotationRepository(Store.open(f"sqlite:///{workdir / 'ui.db'}"))
    try:
        worker = LearningWorker(repo, workdir / "media", subprocess=False)
        project, simulated = replay_losing_auto_run(repo, worker, f"sqlite:///{workdir / 'sim.db'}")
    finally:
        repo.store.close()
    return workdir, project, simulated


def test_the_server_records_auto_and_its_slice_as_simulate_does_whatever_order_people_label_in(
    replayed: tuple[Path, Any, list[Any]],
) -> None:
    workdir, project, simulated = replayed
    with Store.open(f"sqlite:///{workdir / 'ui.db'}") as store:
        served = store.loops(project.run_id)
    # Recorded slice first, as the proposal was, though each loop's labels came in reverse: auto reads its
    # slice back from there, so its rewards, arms and verdict are simulate's.
    assert [lp.selected_ids for lp in served] == [lp.selected_ids for lp in simulated]
    for mine, theirs in zip(served[1:], simulated[1:], strict=True):
        sel = dict(mine.metrics["selection"])
        assert {k: sel.pop(k) for k in QUEUE_KEYS} == {"n_slice_labelled": 3, "n_past_proposal": 0, "n_active_labelled": 7}
        assert sel == theirs.metrics["selection"]
        assert mine.metrics["accuracy"] == pytest.approx(theirs.metrics["accuracy"])
    assert served[-1].metrics["selection"]["active_losing"] is True  # from labels alone, on a pool margin loses on


@pytest.mark.slow
def test_the_dashboard_in_chromium_shows_autos_arms_and_warns_when_the_active_part_loses_to_random(
    browser: Any, replayed: tuple[Path, Any, list[Any]]  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    workdir, project, simulated = replayed
    losing = [lp.loop_index for lp in simulated if (lp.metrics.get("selection") or {}).get("active_losing") is True]
    assert losing and losing[-1] == 5
    # Started after the replay: its own worker finds no labels left to retrain on.
    with LiveServer(f"sqlite:///{workdir / 'ui.db'}", workdir) as live:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        page.goto(f"{live.url}/projects/{project.id}")
        warning = page.locator("#active-losing")
        expect(warning).to_be_visible(timeout=30_000)
        expect(warning).to_contain_text(f"loop{'s' if len(losing) > 1 else ''} {', '.join(map(str, losing))}")
        expect(warning).to_contain_text("It still is at loop 5: LOSING to random")
        last = page.locator("#loops tr[data-loop='5']")
        expect(last).to_have_class("losing")
        arm = simulated[5].metrics["selection"]["arm"]
        expect(last.locator("td.arm")).to_contain_text(f"{arm} (bandit: highest value")
        expect(last.locator("td.arm")).to_contain_text("slice 3/3 labelled")
        expect(last.locator("td.verdict")).to_contain_text("LOSING to random")
        expect(page.locator("#loops tr[data-loop='1'] td.verdict")).to_have_text("no verdict yet")
        assert errors == []
        page.close()

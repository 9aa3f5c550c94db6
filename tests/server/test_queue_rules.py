"""Queue rules through the app, on SQLite and PostgreSQL: who may flag, unflag, and a budget never overshot."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import Api, make_project, make_user, sign_in, truth


def _next(api: Api, project_id: int) -> dict[str, Any] | None:
    response = api.post(f"/api/projects/{project_id}/queue/next")
    assert response.status_code == 200, response.text
    return response.json()["record"]  # type: ignore[no-any-return]


def _label(api: Api, project_id: int, record: dict[str, Any]) -> Any:
    return api.post(f"/api/projects/{project_id}/records/{record['id']}/label", json={"value": truth(record)})


def _team(client: TestClient, admin: Api, project_id: int, *names: str) -> list[Api]:
    for name in names:
        user = make_user(admin, name)
        assert admin.post(f"/api/projects/{project_id}/members", json={"user_id": user["id"]}).status_code == 201
    return [sign_in(client, name, "password-123") for name in names]


def _states(client: TestClient, project_id: int) -> dict[int, str]:
    repo = client.app.state.services.repo  # type: ignore[attr-defined]
    return {r.record_id: r.state for r in repo.snapshot(project_id) if r.role == "pool"}


def test_an_annotator_flags_only_a_record_they_hold_or_labelled(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=6)["id"]
    ann, bob = _team(client, admin, pid, "ann", "bob")
    labelled = _next(ann, pid)
    assert labelled is not None and _label(ann, pid, labelled).status_code == 201
    held = _next(bob, pid)
    assert held is not None
    untouched = next(r for r in _states(client, pid) if r not in (labelled["id"], held["id"]))
    before = _states(client, pid)

    # Bob can pull neither Ann's labelled record nor one nobody holds out of training.
    for record_id in (labelled["id"], untouched):
        refused = bob.post(f"/api/projects/{pid}/records/{record_id}/flag", json={"reason": "other"})
        assert refused.status_code == 403, refused.text
        assert f"record {record_id} is neither" in refused.json()["detail"]
    assert _states(client, pid) == before

    assert ann.post(f"/api/projects/{pid}/records/{labelled['id']}/flag", json={"reason": "not_relevant"}).status_code == 200
    assert bob.post(f"/api/projects/{pid}/records/{held['id']}/flag", json={"reason": "corrupt"}).status_code == 200
    assert admin.post(f"/api/projects/{pid}/records/{untouched}/flag", json={"reason": "not_relevant"}).status_code == 200
    again = admin.post(f"/api/projects/{pid}/records/{untouched}/flag", json={"reason": "other"})
    assert again.status_code == 409 and "flagged already" in again.json()["detail"]
    states = _states(client, pid)
    assert [states[r] for r in (labelled["id"], held["id"], untouched)] == ["flagged"] * 3
    assert sum(state == "flagged" for state in states.values()) == 3


def test_an_admin_unflags_a_record_back_into_the_queue_and_training(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=4)["id"]
    (ann,) = _team(client, admin, pid, "ann")
    labelled = _next(ann, pid)
    assert labelled is not None and _label(ann, pid, labelled).status_code == 201
    fresh = _next(ann, pid)
    assert fresh is not None
    for record in (labelled, fresh):
        assert ann.post(f"/api/projects/{pid}/records/{record['id']}/flag", json={"reason": "corrupt"}).status_code == 200

    refused = ann.delete(f"/api/projects/{pid}/records/{fresh['id']}/flag")
    assert refused.status_code == 403 and _states(client, pid)[fresh["id"]] == "flagged"
    assert admin.delete(f"/api/projects/{pid}/records/{labelled['id']}/flag").status_code == 200
    assert admin.delete(f"/api/projects/{pid}/records/{fresh['id']}/flag").status_code == 200
    # Its one label (k = 1) makes the first done again; the other is open and served again.
    states = _states(client, pid)
    assert (states[labelled["id"]], states[fresh["id"]]) == ("done", "open")
    served = set()
    while (record := _next(ann, pid)) is not None:
        served.add(record["id"])
        assert _label(ann, pid, record).status_code == 201
    assert fresh["id"] in served and labelled["id"] not in served
    not_flagged = admin.delete(f"/api/projects/{pid}/records/{fresh['id']}/flag")
    assert not_flagged.status_code == 409 and "is not flagged" in not_flagged.json()["detail"]
    assert admin.delete(f"/api/projects/{pid}/records/999999/flag").status_code == 404
    # Training sees every record again: four labelled, none flagged.
    assert admin.get(f"/api/projects/{pid}/progress").json()["n_done"] == 4


def test_a_label_budget_is_never_overshot_counting_leases(client: TestClient, admin: Api) -> None:
    # The defect: LabelBudget 12 with batch 5 closed the queue after 16 labels (checked after a retrain).
    project = make_project(admin, rows=30, batch_size=5, retrain_every=5, stopping={"kind": "LabelBudget", "budget": 12})
    pid = project["id"]
    team = _team(client, admin, pid, "ann", "bob", "cat")
    n_labels = 0
    while n_labels < 11:
        for api in team:
            record = _next(api, pid)
            if record is not None and n_labels < 11:
                assert _label(api, pid, record).status_code == 201
                n_labels += 1
            elif record is not None:
                assert api.post(f"/api/projects/{pid}/records/{record['id']}/skip").status_code == 200
    ann, bob, cat = team
    # Eleven labelled and one held by Ann: the budget is spent for everyone else.
    held = _next(ann, pid)
    assert held is not None
    item = bob.post(f"/api/projects/{pid}/queue/next").json()
    assert item["record"] is None and "label budget of 12 records is spent" in item["reason"]
    # Nor can Bob label a record he was never served.
    stray = next(r for r, state in _states(client, pid).items() if state == "open" and r != held["id"])
    refused = bob.post(f"/api/projects/{pid}/records/{stray}/label", json={"value": "pos"})
    assert refused.status_code == 409 and "budget of 12 records is spent" in refused.json()["detail"]
    assert _label(ann, pid, held).status_code == 201
    for api in team:
        assert _next(api, pid) is None
    worker = client.app.state.services.worker  # type: ignore[attr-defined]
    assert worker.wait_idle(60) and not worker.errors
    assert admin.get(f"/api/projects/{pid}/progress").json()["n_labels"] == 12
    assert admin.get(f"/api/projects/{pid}").json()["status"] == "stopped"


@pytest.mark.parametrize("budget", [-1, 0])
def test_a_budget_under_one_is_refused_and_nothing_changes(client: TestClient, admin: Api, budget: int) -> None:
    body = {"name": "bad", "task": "text", "label_names": ["a", "b"], "stopping": {"kind": "LabelBudget", "budget": budget}}
    created = admin.post("/api/projects", json=body)
    assert created.status_code == 422 and f"got {budget}" in created.json()["detail"]
    assert admin.get("/api/projects").json()["count"] == 0
    pid = make_project(admin, rows=2)["id"]
    patched = admin.patch(f"/api/projects/{pid}", json={"stopping": {"kind": "LabelBudget", "budget": budget}})
    assert patched.status_code == 422
    assert [(i["loc"], "at least 1" in i["msg"]) for i in patched.json()["detail"]] == [(["body", "stopping"], True)]
    assert admin.get(f"/api/projects/{pid}").json()["settings"].get("stopping") is None


def test_plateau_waits_for_a_metric_instead_of_failing_the_worker(client: TestClient, admin: Api) -> None:
    # Two labels are too few to cross-validate: those loops carry no accuracy (the worker used to die of KeyError).
    pid = make_project(admin, rows=10, retrain_every=1, stopping={"kind": "Plateau", "window": 1})["id"]
    worker = client.app.state.services.worker  # type: ignore[attr-defined]
    for _ in range(2):
        record = _next(admin, pid)
        assert record is not None and _label(admin, pid, record).status_code == 201
        assert worker.wait_idle(60)
    assert worker.errors == []
    stats = admin.get(f"/api/projects/{pid}/stats").json()
    assert len(stats["loops"]) == 2 and all("accuracy" not in loop["metrics"] for loop in stats["loops"])
    assert admin.get(f"/api/projects/{pid}").json()["status"] == "active"

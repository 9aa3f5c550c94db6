"""The review queue through the API: the audit after a retrain finds the labels that were given wrong, a second
person keeps or changes them (the change wins in training and export, the history stays), the counts are in stats."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient

from tests.server.conftest import Api, make_project, make_user, sign_in, truth

WRONG = {"pos": "neg", "neg": "pos"}


def _member(client: TestClient, admin: Api, pid: int, name: str) -> Api:
    user = make_user(admin, name)
    admin.post(f"/api/projects/{pid}/members", json={"user_id": user["id"]}).raise_for_status()
    return sign_in(client, name, "password-123")


def _label_all(api: Api, pid: int, flip_every: int, leave: int = 0) -> dict[int, str]:
    """Label the records through the queue but ``leave`` of them, the wrong class on every ``flip_every``-th;
    returns the flipped ids."""
    flipped: dict[int, str] = {}
    n = 0
    n_pool = api.get(f"/api/projects/{pid}/progress").json()["n_pool"]
    while n < n_pool - leave and (record := api.post(f"/api/projects/{pid}/queue/next").json()["record"]) is not None:
        value = truth(record)
        if n % flip_every == flip_every - 1:
            value = WRONG[value]
            flipped[record["id"]] = value
        api.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": value}).raise_for_status()
        n += 1
    return flipped


def _retrain(client: TestClient, admin: Api, pid: int) -> None:
    admin.post(f"/api/projects/{pid}/retrain").raise_for_status()
    worker = client.app.state.services.worker  # type: ignore[attr-defined]
    assert worker.wait_idle(60) and not worker.errors, worker.errors


def _audited(client: TestClient, admin: Api) -> tuple[int, Api, dict[int, str]]:
    project = make_project(admin, rows=21, retrain_every=1000)
    pid = project["id"]
    ann = _member(client, admin, pid, "ann")
    flipped = _label_all(ann, pid, flip_every=10, leave=1)
    _retrain(client, admin, pid)
    return pid, ann, flipped


def test_the_audit_finds_the_wrong_labels_and_a_second_annotator_keeps_or_changes_them(client: TestClient, admin: Api) -> None:
    pid, ann, flipped = _audited(client, admin)
    page = admin.get(f"/api/projects/{pid}/review").json()
    assert len(flipped) == 2 and page["count"] >= 2
    items = page["data"]
    # The two wrong labels are the most suspicious, each with the right class suggested.
    assert {item["record"]["id"] for item in items[:2]} == set(flipped)
    for item in items[:2]:
        assert item["given"] == flipped[item["record"]["id"]] and item["suggested"] == WRONG[item["given"]]
        assert item["labelled_by"] == ["ann"] and item["status"] == "open"
    assert [i["self_confidence"] for i in items] == sorted(i["self_confidence"] for i in items)
    stats = admin.get(f"/api/projects/{pid}/stats").json()
    assert stats["review"] == {"n_open": page["count"], "n_kept": 0, "n_changed": 0, "n_withdrawn": 0}
    assert "audit" in stats["loops"][-1]["timings"]

    bob = _member(client, admin, pid, "bob")
    assert bob.get(f"/api/projects/{pid}/review").json()["data"] == items
    wrong, other = items[0], items[1]
    record_id = wrong["record"]["id"]
    # The annotator who gave the label may not review it; a class the project lacks is refused, naming it.
    assert ann.get(f"/api/projects/{pid}/review").json()["count"] == 0
    refused = ann.post(f"/api/projects/{pid}/review/{wrong['id']}", json={"value": wrong["suggested"]})
    assert refused.status_code == 403 and "second person" in refused.json()["detail"]
    bad = bob.post(f"/api/projects/{pid}/review/{wrong['id']}", json={"value": "maybe"})
    assert bad.status_code == 422 and "'maybe'" in bad.json()["detail"]
    assert admin.get(f"/api/projects/{pid}/stats").json()["review"]["n_open"] == len(items)  # unchanged

    changed = bob.post(f"/api/projects/{pid}/review/{wrong['id']}", json={"value": wrong["suggested"]})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["status"], changed.json()["decided"], changed.json()["reviewer"]) == ("changed", wrong["suggested"], "bob")
    kept = bob.post(f"/api/projects/{pid}/review/{other['id']}", json={"value": None}).json()
    assert (kept["status"], kept["decided"]) == ("kept", other["given"])
    again = bob.post(f"/api/projects/{pid}/review/{wrong['id']}", json={"value": None})
    assert again.status_code == 409

    review = admin.get(f"/api/projects/{pid}/stats").json()["review"]
    assert (review["n_open"], review["n_kept"], review["n_changed"]) == (len(items) - 2, 1, 1)
    # The history keeps ann's label and shows bob's decision; the export carries the decided label.
    history = admin.get(f"/api/projects/{pid}/records/{record_id}/history").json()["data"]
    assert [(h["kind"], h["annotator"], h["value"]) for h in history] == [
        ("label", "ann", flipped[record_id]), ("adjudicate", "bob", wrong["suggested"])
    ]
    export = {row["id"]: row for row in csv.DictReader(io.StringIO(admin.get(f"/api/projects/{pid}/export?format=csv").text))}
    assert export[wrong["record"]["external_id"]]["label"] == wrong["suggested"]

    # The next retrain trains on the decided label and does not doubt the reviewed records again.
    _label_the_last(admin, pid)
    _retrain(client, admin, pid)
    consensus = {c["record_id"]: c for c in admin.get(f"/api/projects/{pid}/consensus").json()["data"]}
    assert consensus[record_id]["value"] == wrong["suggested"] and consensus[record_id]["confidence"] == 1.0
    open_ids = {i["record"]["id"] for i in admin.get(f"/api/projects/{pid}/review").json()["data"]}
    assert record_id not in open_ids and other["record"]["id"] not in open_ids


def _label_the_last(admin: Api, pid: int) -> None:
    """A retrain needs a new label: the record left unlabelled gets one."""
    record: Any = admin.post(f"/api/projects/{pid}/queue/next").json()["record"]
    admin.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": truth(record)}).raise_for_status()


def test_the_audit_can_be_turned_off(client: TestClient, admin: Api) -> None:
    project = make_project(admin, rows=10, retrain_every=1000, audit=False)
    pid = project["id"]
    _label_all(_member(client, admin, pid, "ann"), pid, flip_every=5)
    _retrain(client, admin, pid)
    assert admin.get(f"/api/projects/{pid}/review").json()["count"] == 0
    assert "audit" not in admin.get(f"/api/projects/{pid}/stats").json()["loops"][-1]["timings"]


def test_an_adjudicated_label_is_not_sent_back_to_review(client: TestClient, admin: Api) -> None:
    pid, _ann, flipped = _audited(client, admin)
    record_id, value = next(iter(flipped.items()))
    # The admin decides the doubted record as it was labelled (wrongly): a person decided, so no later audit doubts it.
    admin.post(f"/api/projects/{pid}/records/{record_id}/adjudicate", json={"value": value}).raise_for_status()
    _label_the_last(admin, pid)
    _retrain(client, admin, pid)
    items = admin.get(f"/api/projects/{pid}/review?status=all").json()["data"]
    assert [(i["record"]["id"], i["status"]) for i in items if i["record"]["id"] == record_id] == [(record_id, "withdrawn")]
    assert {i["record"]["id"] for i in items if i["status"] == "open"} >= set(flipped) - {record_id}

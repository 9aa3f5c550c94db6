"""The admin console's API, on SQLite and PostgreSQL: settings with field messages, pause and resume, archive,
delete, deactivation and token revocation, the record browser's search and filters, history, adjudication."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient

from tests.server.conftest import Api, make_project, make_user, sign_in, truth


def _next(api: Api, pid: int) -> dict[str, Any] | None:
    response = api.post(f"/api/projects/{pid}/queue/next")
    assert response.status_code == 200, response.text
    return response.json()["record"]  # type: ignore[no-any-return]


def _member(admin: Api, client: TestClient, pid: int, name: str) -> Api:
    user = make_user(admin, name)
    assert admin.post(f"/api/projects/{pid}/members", json={"user_id": user["id"]}).status_code == 201
    return sign_in(client, name, "password-123")


def _disagree(admin: Api, client: TestClient, pid: int) -> dict[str, Any]:
    """Two annotators give one record (k = 2) different labels; returns the record."""
    ann, bob = _member(admin, client, pid, "ann"), _member(admin, client, pid, "bob")
    record = _next(ann, pid)
    assert record is not None and _next(bob, pid)["id"] == record["id"]  # type: ignore[index]
    assert ann.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": "pos"}).status_code == 201
    assert bob.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": "neg"}).status_code == 201
    return record


def test_settings_change_and_bad_ones_name_their_field(admin: Api) -> None:
    pid = make_project(admin, rows=4)["id"]
    changed = admin.patch(f"/api/projects/{pid}", json={
        "strategy": "entropy", "batch_size": 7, "labels_per_record": 2, "retrain_every": 3, "cost_per_label": 0.25,
        "stopping": {"kind": "LabelBudget", "budget": 40},
    })
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["settings"]["strategy"], body["settings"]["batch_size"], body["settings"]["labels_per_record"]) == ("entropy", 7, 2)
    assert (body["settings"]["retrain_every"], body["cost_per_label"]) == (3, 0.25)
    assert admin.get(f"/api/projects/{pid}").json()["cost_per_label"] == 0.25

    bad = admin.patch(f"/api/projects/{pid}", json={"strategy": "nosuch", "learner": "nolearner"})
    assert bad.status_code == 422
    fields = {issue["loc"][1]: issue["msg"] for issue in bad.json()["detail"]}
    assert set(fields) == {"strategy", "learner"} and "nosuch" in fields["strategy"] and "nolearner" in fields["learner"]
    small = admin.patch(f"/api/projects/{pid}", json={"batch_size": 0})
    assert small.status_code == 422 and small.json()["detail"][0]["loc"][:2] == ["body", "batch_size"]
    # Refused changes leave the settings as they were.
    assert admin.get(f"/api/projects/{pid}").json()["settings"]["strategy"] == "entropy"

    # Retrain modes are settings, refused where the learner cannot continue training that way.
    assert admin.get(f"/api/projects/{pid}").json()["settings"]["retrain_mode"] == "scratch"
    no_partial_fit = admin.patch(f"/api/projects/{pid}", json={"learner": "logreg", "retrain_mode": "new_only"})
    assert no_partial_fit.status_code == 422, no_partial_fit.text
    issue = no_partial_fit.json()["detail"][0]
    assert issue["loc"] == ["body", "retrain_mode"] and "partial_fit" in issue["msg"]
    warm = admin.patch(f"/api/projects/{pid}", json={"retrain_mode": "warm_start"})
    assert warm.status_code == 200 and warm.json()["settings"]["retrain_mode"] == "warm_start"

    # So is the loop-0 order: random, or a strategy that works with no labels.
    assert admin.get(f"/api/projects/{pid}").json()["settings"]["initializer"] == "random"
    needs_a_model = admin.patch(f"/api/projects/{pid}", json={"initializer": "margin"})
    assert needs_a_model.status_code == 422 and needs_a_model.json()["detail"][0]["loc"] == ["body", "initializer"]
    cold = admin.patch(f"/api/projects/{pid}", json={"initializer": "typiclust"})
    assert cold.status_code == 200 and cold.json()["settings"]["initializer"] == "typiclust"


def test_pause_and_resume_stop_and_restart_the_queue(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=4)["id"]
    ann = _member(admin, client, pid, "ann")
    assert admin.patch(f"/api/projects/{pid}", json={"status": "stopped"}).json()["status"] == "stopped"
    paused = ann.post(f"/api/projects/{pid}/queue/next").json()
    assert paused["record"] is None and "paused" in paused["reason"]
    assert admin.patch(f"/api/projects/{pid}", json={"status": "active"}).json()["status"] == "active"
    assert _next(ann, pid) is not None


def test_archive_hides_the_project_from_annotators_and_restore_brings_it_back(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=4)["id"]
    ann = _member(admin, client, pid, "ann")
    archived = admin.patch(f"/api/projects/{pid}", json={"archived": True})
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert [p["id"] for p in ann.get("/api/projects").json()["data"]] == []
    assert [p["archived"] for p in admin.get("/api/projects").json()["data"]] == [True]
    refused = ann.post(f"/api/projects/{pid}/queue/next").json()
    assert refused["record"] is None and "archived" in refused["reason"]
    assert admin.patch(f"/api/projects/{pid}", json={"archived": None}).status_code == 422
    assert admin.patch(f"/api/projects/{pid}", json={"archived": False}).json()["archived"] is False
    assert [p["id"] for p in ann.get("/api/projects").json()["data"]] == [pid]


def test_delete_removes_the_project_and_an_annotator_may_not(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=4, labels_per_record=2)["id"]
    record = _disagree(admin, client, pid)
    assert admin.post(f"/api/projects/{pid}/records/{record['id']}/adjudicate", json={"value": "pos"}).status_code == 201
    ann = sign_in(client, "ann", "password-123")
    assert ann.delete(f"/api/projects/{pid}").status_code == 403
    deleted = admin.delete(f"/api/projects/{pid}")
    assert deleted.status_code == 200 and "reviews" in deleted.json()["detail"]
    assert admin.get(f"/api/projects/{pid}").status_code == 404
    assert admin.get("/api/projects").json()["count"] == 0


def test_a_deactivated_user_cannot_sign_in_or_use_a_session_or_token(client: TestClient, admin: Api) -> None:
    user = make_user(admin, "ann")
    ann = sign_in(client, "ann", "password-123")
    token = admin.post(f"/api/users/{user['id']}/token").json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/users/me", headers=bearer).status_code == 200

    off = admin.post(f"/api/users/{user['id']}/deactivate")
    assert off.status_code == 200 and (off.json()["active"], off.json()["has_token"]) == (False, False)
    assert client.get("/api/users/me", headers=bearer).status_code == 401
    assert ann.get("/api/users/me").status_code == 401  # the open session is refused too
    refused = TestClient(client.app).post("/api/login", json={"name": "ann", "password": "password-123"})
    assert refused.status_code == 401 and "deactivated" in refused.json()["detail"]
    assert admin.post(f"/api/users/{admin_id(admin)}/deactivate").status_code == 422  # not oneself

    assert admin.post(f"/api/users/{user['id']}/activate").json()["active"] is True
    assert client.get("/api/users/me", headers=bearer).status_code == 401  # the old token stays revoked
    assert sign_in(client, "ann", "password-123").get("/api/users/me").json()["name"] == "ann"


def test_revoking_a_token_refuses_it(client: TestClient, admin: Api) -> None:
    user = make_user(admin, "ann")
    token = admin.post(f"/api/users/{user['id']}/token").json()["token"]
    revoked = admin.delete(f"/api/users/{user['id']}/token")
    assert revoked.status_code == 200 and revoked.json()["has_token"] is False
    assert client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert sign_in(client, "ann", "password-123").delete(f"/api/users/{admin_id(admin)}/token").status_code == 403


def admin_id(admin: Api) -> int:
    return int(admin.get("/api/users/me").json()["id"])


def test_the_record_browser_pages_searches_and_filters(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=10, labels_per_record=2)["id"]
    record = _disagree(admin, client, pid)
    url = f"/api/projects/{pid}/records"
    page = admin.get(url, params={"limit": 4, "offset": 8}).json()
    assert page["count"] == 10 and [r["external_id"] for r in page["data"]] == ["r8", "r9"]

    found = admin.get(url, params={"q": "ITEM 7"}).json()
    assert [r["external_id"] for r in found["data"]] == ["r7"]
    assert admin.get(url, params={"q": "lovely"}).json()["count"] == 5
    assert admin.get(url, params={"q": "r3"}).json()["count"] == 1  # the external id is searched too
    assert admin.get(url, params={"q": "100%_"}).json()["count"] == 0  # LIKE wildcards are literal

    labelled = admin.get(url, params={"status": "labelled"}).json()
    assert [r["id"] for r in labelled["data"]] == [record["id"]]
    assert {(x["annotator"], x["value"]) for x in labelled["data"][0]["labels"]} == {("ann", "pos"), ("bob", "neg")}
    assert admin.get(url, params={"status": "unlabelled"}).json()["count"] == 9
    assert admin.get(url, params={"status": "disagreed"}).json()["count"] == 1
    assert admin.get(url, params={"label": "neg"}).json()["count"] == 1
    assert admin.get(url, params={"annotator": "ann", "label": "neg"}).json()["count"] == 0
    assert admin.get(url, params={"annotator": "bob", "status": "disagreed"}).json()["count"] == 1
    other = admin.get(url, params={"status": "unlabelled"}).json()["data"][0]
    assert admin.post(f"/api/projects/{pid}/records/{other['id']}/flag", json={"reason": "corrupt"}).status_code == 200
    flagged = admin.get(url, params={"status": "flagged"}).json()
    assert [r["id"] for r in flagged["data"]] == [other["id"]]
    assert admin.get(url, params={"status": "unlabelled"}).json()["count"] == 8

    extra = admin.post(f"/api/projects/{pid}/import/upload", files={"file": ("x.jsonl", '{"id": "u1", "text": "Café Crème \\"quoted\\""}'.encode())})
    assert extra.status_code == 201, extra.text
    assert [r["external_id"] for r in admin.get(url, params={"q": "café crème"}).json()["data"]] == ["u1"]
    assert admin.get(url, params={"q": '"quoted"'}).json()["count"] == 1

    bad = admin.get(url, params={"status": "nosuch"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "status"]
    ann = sign_in(client, "ann", "password-123")
    assert ann.get(url).status_code == 403


def test_adjudication_wins_in_training_and_export_and_history_keeps_everything(
    client: TestClient, admin: Api, store_url: str
) -> None:
    pid = make_project(admin, rows=4, labels_per_record=2)["id"]
    record = _disagree(admin, client, pid)
    adjudicate = f"/api/projects/{pid}/records/{record['id']}/adjudicate"
    assert admin.post(adjudicate, json={"value": "maybe"}).status_code == 422
    ann = sign_in(client, "ann", "password-123")
    assert ann.post(adjudicate, json={"value": "neg"}).status_code == 403
    unlabelled = admin.get(f"/api/projects/{pid}/records", params={"status": "unlabelled"}).json()["data"][0]
    assert admin.post(f"/api/projects/{pid}/records/{unlabelled['id']}/adjudicate", json={"value": "pos"}).status_code == 409

    decided = admin.post(adjudicate, json={"value": "neg"})
    assert decided.status_code == 201 and (decided.json()["kind"], decided.json()["value"]) == ("adjudicate", "neg")
    again = admin.post(adjudicate, json={"value": truth(record)})  # a second decision supersedes the first
    assert again.status_code == 201

    browsed = admin.get(f"/api/projects/{pid}/records", params={"status": "adjudicated"}).json()["data"]
    assert [(r["id"], r["adjudicated"]) for r in browsed] == [(record["id"], truth(record))]
    # Still a disagreement among the annotators (their labels are kept), now decided.
    assert admin.get(f"/api/projects/{pid}/records", params={"status": "disagreed"}).json()["count"] == 1

    exported = list(csv.DictReader(io.StringIO(admin.get(f"/api/projects/{pid}/export?format=csv").text)))
    labelled = [(row["id"], row["label"], row["annotator"]) for row in exported if row["label"]]
    assert labelled == [(record["external_id"], truth(record), "admin")]

    # What training reads: the store's labels in force, one per adjudicated record, the decision.
    repo = client.app.state.services.repo
    in_force = [(x.record_id, x.value) for x in repo.current_labels(pid)]
    assert in_force == [(record["id"], truth(record))]
    assert sorted(x.value for x in repo.current_labels(pid, adjudicated=False)) == ["neg", "pos"]
    # Agreement is measured on the annotators' own labels.
    assert admin.get(f"/api/projects/{pid}/stats").json()["agreement"]["n_records"] == 1

    history = admin.get(f"/api/projects/{pid}/records/{record['id']}/history").json()["data"]
    assert [(h["kind"], h["annotator"], h["value"]) for h in history] == [
        ("label", "ann", "pos"), ("label", "bob", "neg"), ("adjudicate", "admin", "neg"), ("adjudicate", "admin", truth(record)),
    ]
    assert admin.get(f"/api/projects/{pid}/records/999999/history").status_code == 404

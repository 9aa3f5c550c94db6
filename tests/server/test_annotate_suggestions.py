"""Suggestions on the annotate API: the last retrain's predicted label and top classes, why a record was chosen,
and the project option that hides suggestions from annotators (admins still see them)."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from tests.server.conftest import Api, make_project, make_user, sign_in, truth


def _item(api: Api, project_id: int) -> dict[str, Any]:
    response = api.post(f"/api/projects/{project_id}/queue/next")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _label_four_and_retrain(client: TestClient, api: Api, project_id: int) -> None:
    for _ in range(4):
        record = _item(api, project_id)["record"]
        assert api.post(f"/api/projects/{project_id}/records/{record['id']}/label", json={"value": truth(record)}).status_code == 201
    worker = client.app.state.services.worker  # type: ignore[attr-defined]
    assert worker.wait_idle(60) and not worker.errors


def test_the_next_record_carries_the_last_retrains_prediction_and_why_it_was_chosen(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=16, retrain_every=4, batch_size=3, strategy="margin")["id"]
    before = _item(admin, pid)
    assert before["record"] is not None and before["suggestion"] is None and before["chosen"] is None  # no retrain yet
    _label_four_and_retrain(client, admin, pid)

    item = _item(admin, pid)
    suggestion, chosen = item["suggestion"], item["chosen"]
    assert suggestion is not None and chosen is not None
    top = suggestion["top"]
    assert [c["label"] for c in top] in (["pos", "neg"], ["neg", "pos"])
    assert top[0]["probability"] >= top[1]["probability"] and abs(sum(c["probability"] for c in top) - 1) < 1e-3
    assert (suggestion["label"], suggestion["probability"]) == (top[0]["label"], top[0]["probability"])
    # The very model the loop recorded: its stored pool probabilities give the same class.
    store = client.app.state.services.repo.store  # type: ignore[attr-defined]
    loop = store.loops(admin.get(f"/api/projects/{pid}").json()["run_id"])[-1]
    arrays = store.load_arrays(loop.artifact_hash)
    row = int(np.flatnonzero(arrays["pool_record_ids"] == item["record"]["id"])[0])
    # model_proba: the loop's new model on the pool (its pool_proba is what the loop's labels were chosen from).
    assert ["pos", "neg"][int(arrays["model_proba"][row].argmax())] == suggestion["label"]
    assert abs(float(arrays["model_proba"][row].max()) - suggestion["probability"]) < 1e-3
    assert suggestion["loop_index"] == loop.loop_index == chosen["loop_index"]
    # Served first, so ranked first by margin, with its score, said in one line.
    assert (chosen["strategy"], chosen["rank"]) == ("margin", 1) and chosen["score"] is not None
    assert chosen["summary"].startswith(f"Chosen by margin in loop {loop.loop_index}: rank 1, score ")


def test_hiding_suggestions_keeps_them_from_annotators_but_not_from_admins(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=16, retrain_every=4)["id"]
    user = make_user(admin, "ann")
    admin.post(f"/api/projects/{pid}/members", json={"user_id": user["id"]})
    ann = sign_in(client, "ann", "password-123")
    _label_four_and_retrain(client, admin, pid)
    assert _item(ann, pid)["suggestion"] is not None

    patched = admin.patch(f"/api/projects/{pid}", json={"hide_suggestions": True})
    assert patched.status_code == 200 and patched.json()["settings"]["hide_suggestions"] is True
    client.app.state.services.forget()  # type: ignore[attr-defined]
    held = _item(ann, pid)
    assert held["suggestion"] is None and held["chosen"] is not None  # why it was chosen does not anchor
    reopened = admin.get(f"/api/projects/{pid}/records/{held['record']['id']}/item").json()
    assert reopened["suggestion"] is not None and reopened["record"]["id"] == held["record"]["id"]
    assert admin.patch(f"/api/projects/{pid}", json={"hide_suggestions": None}).status_code == 422


def test_the_record_browser_filters_by_predicted_class_and_confidence(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=16, retrain_every=4)["id"]
    url = f"/api/projects/{pid}/records"
    assert admin.get(url, params={"predicted": "pos"}).json()["count"] == 0  # no retrain yet, so no prediction
    _label_four_and_retrain(client, admin, pid)

    every = admin.get(url, params={"limit": 100}).json()["data"]
    predicted = {r["id"]: (r["predicted"], r["confidence"]) for r in every if r["predicted"] is not None}
    assert predicted, "the retrain predicted no record"
    for name in ("pos", "neg"):
        found = admin.get(url, params={"predicted": name, "limit": 100}).json()["data"]
        assert {r["id"] for r in found} == {rid for rid, (p, _) in predicted.items() if p == name}
    cut = sorted(c for _, c in predicted.values())[len(predicted) // 2]
    unsure = admin.get(url, params={"max_confidence": cut, "limit": 100}).json()["data"]
    assert {r["id"] for r in unsure} == {rid for rid, (_, c) in predicted.items() if c <= cut}
    assert all(0.5 <= c <= 1 for _, c in predicted.values())  # two classes: the top one has at least half

    unknown = admin.get(url, params={"predicted": "maybe"})
    assert unknown.status_code == 422 and "maybe" in unknown.text
    assert admin.get(url, params={"max_confidence": 2}).status_code == 422

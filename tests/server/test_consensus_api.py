"""Several labels per record through the API: the retrain's consensus model gives the training labels with their
confidence, and each annotator's quality is in the stats (the dashboard's table)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.server.conftest import Api, make_project, make_user, sign_in, truth

FLIP = {"pos": "neg", "neg": "pos"}


def test_the_retrain_estimates_annotator_quality_and_consensus_confidence(client: TestClient, admin: Api) -> None:
    project = make_project(admin, rows=8, labels_per_record=3, retrain_every=1000)
    pid = project["id"]
    wrong = {"good": 0, "fair": 1, "poor": 5}  # how many of their first labels are the wrong class
    for name, n_wrong in wrong.items():
        user = make_user(admin, name)
        admin.post(f"/api/projects/{pid}/members", json={"user_id": user["id"]}).raise_for_status()
        api = sign_in(client, name, "password-123")
        for n in range(8):
            record = api.post(f"/api/projects/{pid}/queue/next").json()["record"]
            value = FLIP[truth(record)] if n < n_wrong else truth(record)
            api.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": value}).raise_for_status()
    admin.post(f"/api/projects/{pid}/retrain").raise_for_status()
    worker = client.app.state.services.worker  # type: ignore[attr-defined]
    assert worker.wait_idle(60) and not worker.errors, worker.errors

    consensus = admin.get(f"/api/projects/{pid}/stats").json()["consensus"]
    assert (consensus["method"], consensus["n_records"]) == ("dawid_skene", 8)
    quality = {a["annotator"]: a for a in consensus["annotators"]}
    assert set(quality) == set(wrong) and all(a["n_labels"] == 8 for a in quality.values())
    assert quality["poor"]["quality"] < min(quality["good"]["quality"], quality["fair"]["quality"])
    assert quality["poor"]["agreement"] < quality["good"]["agreement"]
    page = admin.get(f"/api/projects/{pid}/consensus").json()
    assert page["count"] == 8
    confidences = [c["confidence"] for c in page["data"]]
    assert confidences == sorted(confidences) and confidences[0] < 1.0
    assert all(c["n_labels"] == 3 for c in page["data"])


def test_the_consensus_setting_is_checked_and_changeable(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=2)["id"]
    refused = admin.patch(f"/api/projects/{pid}", json={"consensus": "vote"})
    assert refused.status_code == 422 and "consensus" in refused.json()["detail"][0]["loc"]
    assert admin.get(f"/api/projects/{pid}").json()["settings"]["consensus"] == "dawid_skene"
    changed = admin.patch(f"/api/projects/{pid}", json={"consensus": "crowdlab", "audit": False, "audit_max": 5})
    assert changed.status_code == 200, changed.text
    settings = changed.json()["settings"]
    assert (settings["consensus"], settings["audit"], settings["audit_max"]) == ("crowdlab", False, 5)

"""The annotator's own past through the API: history, changing an earlier label, skipped records coming back,
and undo of the last action whatever it was."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.server.conftest import Api, make_project, make_user, sign_in, truth


def _next(api: Api, project_id: int) -> dict[str, Any] | None:
    response = api.post(f"/api/projects/{project_id}/queue/next")
    assert response.status_code == 200, response.text
    return response.json()["record"]  # type: ignore[no-any-return]


def _label(api: Api, project_id: int, record: dict[str, Any], value: str | None = None) -> Any:
    return api.post(f"/api/projects/{project_id}/records/{record['id']}/label", json={"value": value or truth(record)})


def _history(api: Api, project_id: int) -> list[tuple[str, str, str | None, str]]:
    page = api.get(f"/api/projects/{project_id}/history").json()
    assert page["count"] == len(page["data"])
    return [(h["external_id"], h["kind"], h["value"], h["state"]) for h in page["data"]]


def _annotator(client: TestClient, admin: Api, project_id: int, name: str = "ann") -> Api:
    user = make_user(admin, name)
    assert admin.post(f"/api/projects/{project_id}/members", json={"user_id": user["id"]}).status_code == 201
    return sign_in(client, name, "password-123")


def test_an_earlier_label_is_changed_by_a_new_label_and_the_history_keeps_both(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=6)["id"]
    ann = _annotator(client, admin, pid)
    first, second = _next(ann, pid), None
    assert first is not None and _label(ann, pid, first).status_code == 201
    second = _next(ann, pid)
    assert second is not None and _label(ann, pid, second).status_code == 201
    right, wrong = truth(first), "neg" if truth(first) == "pos" else "pos"
    assert _history(ann, pid) == [(second["external_id"], "label", truth(second), "current"),
                                  (first["external_id"], "label", right, "current")]

    reopened = ann.get(f"/api/projects/{pid}/records/{first['id']}/item").json()
    assert reopened["my_label"] == right and reopened["record"]["id"] == first["id"]
    changed = ann.put(f"/api/projects/{pid}/records/{first['id']}/label", json={"value": wrong})
    assert changed.status_code == 200 and changed.json()["value"] == wrong
    assert _history(ann, pid)[:2] == [(first["external_id"], "label", wrong, "current"),
                                      (second["external_id"], "label", truth(second), "current")]
    assert _history(ann, pid)[2] == (first["external_id"], "label", right, "replaced")
    # One label in force per record and annotator: the change replaced, it did not add.
    labels = client.app.state.services.repo.current_labels(pid)  # type: ignore[attr-defined]
    assert sorted((lab.external_id, lab.value) for lab in labels) == sorted(
        [(first["external_id"], wrong), (second["external_id"], truth(second))])
    progress = ann.get(f"/api/projects/{pid}/progress").json()
    assert (progress["n_labels"], progress["n_done"], progress["n_mine"]) == (2, 2, 2)
    store = client.app.state.services.repo.store  # type: ignore[attr-defined]
    assert [lab.value for lab in store.label_history(pid, first["external_id"])] == [right, wrong]


def test_a_change_that_is_refused_changes_nothing(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=4)["id"]
    ann = _annotator(client, admin, pid)
    record = _next(ann, pid)
    assert record is not None and _label(ann, pid, record).status_code == 201
    untouched = _next(ann, pid)
    assert untouched is not None
    before = _history(ann, pid)
    bad = ann.put(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": "maybe"})
    assert bad.status_code == 422 and "'maybe' is not a class of this project" in bad.json()["detail"]
    never = ann.put(f"/api/projects/{pid}/records/{untouched['id']}/label", json={"value": "pos"})
    assert never.status_code == 409 and f"no label on record {untouched['id']} to change" in never.json()["detail"]
    assert ann.put(f"/api/projects/{pid}/records/999999/label", json={"value": "pos"}).status_code == 404
    same = ann.put(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": truth(record)})
    assert same.status_code == 200 and same.json()["value"] == truth(record)
    assert _history(ann, pid) == before
    store = client.app.state.services.repo.store  # type: ignore[attr-defined]
    assert [lab.value for lab in store.label_history(pid, record["external_id"])] == [truth(record)]


def test_skipped_records_come_back_at_the_end_of_that_annotators_queue(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=4)["id"]
    ann, bob = _annotator(client, admin, pid), _annotator(client, admin, pid, "bob")
    skipped = []
    for _ in range(2):
        record = _next(ann, pid)
        assert record is not None
        assert ann.post(f"/api/projects/{pid}/records/{record['id']}/skip").status_code == 200
        skipped.append(record["id"])
    served = []
    while (record := _next(ann, pid)) is not None and record["id"] not in skipped:
        served.append(record["id"])
        assert _label(ann, pid, record).status_code == 201
    assert len(served) == 2  # every record not skipped came first
    assert record is not None and record["id"] == skipped[0]  # then the skips, the oldest first
    assert _next(ann, pid)["id"] == skipped[0]  # leased: the same one until answered
    assert ann.post(f"/api/projects/{pid}/records/{skipped[0]}/skip").status_code == 200
    assert _next(ann, pid)["id"] == skipped[1]
    # Bob never skipped them: to him they are ordinary records (and not the one Ann holds).
    theirs = _next(bob, pid)
    assert theirs is not None and theirs["id"] == skipped[0]


def test_undo_takes_back_the_last_action_whatever_it_was(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, rows=6)["id"]
    ann = _annotator(client, admin, pid)
    assert ann.post(f"/api/projects/{pid}/queue/undo").status_code == 409  # nothing to undo yet
    labelled = _next(ann, pid)
    assert labelled is not None and _label(ann, pid, labelled).status_code == 201
    skipped = _next(ann, pid)
    assert skipped is not None and ann.post(f"/api/projects/{pid}/records/{skipped['id']}/skip").status_code == 200
    flagged = _next(ann, pid)
    assert flagged is not None
    assert ann.post(f"/api/projects/{pid}/records/{flagged['id']}/flag", json={"reason": "corrupt"}).status_code == 200

    undone = ann.post(f"/api/projects/{pid}/queue/undo").json()
    assert (undone["undone"], undone["record"]["id"], undone["record"]["state"]) == ("flag", flagged["id"], "open")
    assert admin.get(f"/api/projects/{pid}/progress").json()["n_flagged"] == 0
    assert _next(ann, pid)["id"] == flagged["id"]  # leased back to Ann
    assert ann.get(f"/api/projects/{pid}/progress").json()["n_skips"] == 1
    undone = ann.post(f"/api/projects/{pid}/queue/undo").json()
    assert (undone["undone"], undone["record"]["id"]) == ("skip", skipped["id"])
    assert ann.get(f"/api/projects/{pid}/progress").json()["n_skips"] == 0  # an undone skip is no skip
    assert _next(ann, pid)["id"] == skipped["id"]
    undone = ann.post(f"/api/projects/{pid}/queue/undo").json()
    assert (undone["undone"], undone["record"]["id"]) == ("label", labelled["id"])
    assert ann.get(f"/api/projects/{pid}/progress").json()["n_mine"] == 0
    assert [state for *_, state in _history(ann, pid)] == ["undone", "undone", "undone"]
    assert ann.post(f"/api/projects/{pid}/queue/undo").status_code == 409

"""Label kinds beyond one class (multi-label, number, entity spans): chosen at creation, checked on every label."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import Api, make_user

TEXT = "Ann Lee flew to Paris"  # tokens at 0-3, 4-7, 8-12, 13-15, 16-21


def _project(admin: Api, kind: str, names: list[str], texts: list[str], **extra: Any) -> int:
    body = {"name": f"p-{kind}", "task": "text", "label_names": names, "learner": "logreg", "label_kind": kind, **extra}
    response = admin.post("/api/projects", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["settings"]["label_kind"] == kind
    pid = response.json()["id"]
    rows = "\n".join(json.dumps({"id": f"r{i}", "text": t}) for i, t in enumerate(texts))
    imported = admin.post(f"/api/projects/{pid}/import/upload", files={"file": ("r.jsonl", rows.encode(), "application/json")})
    assert imported.status_code == 201, imported.text
    return pid  # type: ignore[no-any-return]


def _record(api: Api, pid: int) -> dict[str, Any]:
    response = api.post(f"/api/projects/{pid}/queue/next")
    assert response.status_code == 200, response.text
    return response.json()["record"]  # type: ignore[no-any-return]


def _label(client: TestClient, api: Api, token: str, pid: int, rid: int, value: Any) -> tuple[int, str, int, str]:
    """The answer through the session cookie (FastAPI's route) and through a token (the hot route)."""
    url = f"/api/projects/{pid}/records/{rid}/label"
    body = json.dumps({"value": value}).replace("Infinity", "1e999")  # JSON has no infinity: a number past float's range
    sent = {"content": body, "headers": {"Content-Type": "application/json"}}
    slow = api.post(url, **sent)
    fast = client.post(url, content=body, headers={**sent["headers"], "Authorization": f"Bearer {token}"})
    return slow.status_code, slow.text, fast.status_code, fast.text


@pytest.fixture
def token(admin: Api) -> str:
    admin_id = next(u["id"] for u in admin.get("/api/users").json()["data"] if u["name"] == "admin")
    return admin.post(f"/api/users/{admin_id}/token").json()["token"]  # type: ignore[no-any-return]


BAD = {  # per kind: (value, what the answer must say)
    "multi": [(["sport", "weather"], "tag 'weather' is not a class"), (["sport", "sport"], "given twice"), ("sport", "a list of tags")],
    "number": [(float("inf"), "must be finite"), ("12", "a JSON number"), (True, "valid number")],  # the schema: true is not 1
    "spans": [([{"start": 0, "end": 5, "label": "PER"}], "token boundaries"), ([{"start": 16, "end": 30, "label": "LOC"}], "out of range"),
              ([{"start": 0, "end": 3, "label": "ORG"}], "'ORG' is not an entity type"),
              ([{"start": 0, "end": 7, "label": "PER"}, {"start": 4, "end": 7, "label": "LOC"}], "overlaps")],
    "single": [(["pos"], "one class per record")],
}
NAMES = {"multi": ["sport", "politics", "tech"], "number": ["price"], "spans": ["PER", "LOC"], "single": ["pos", "neg"]}


@pytest.mark.parametrize("kind", list(BAD))
def test_a_label_the_kind_does_not_take_is_refused_naming_what_is_wrong(client: TestClient, admin: Api, token: str, kind: str) -> None:
    pid = _project(admin, kind, NAMES[kind], [TEXT])
    record = _record(admin, pid)
    for bad, says in BAD[kind]:
        slow_status, slow_text, fast_status, fast_text = _label(client, admin, token, pid, record["id"], bad)
        assert slow_status == 422 and says in str(json.loads(slow_text)["detail"]), slow_text
        assert (fast_status, fast_text) == (slow_status, slow_text)  # the hot route says the same
    assert admin.get(f"/api/projects/{pid}/progress").json()["n_labels"] == 0


@pytest.mark.parametrize(("kind", "names", "good", "stored"), [
    ("multi", ["sport", "politics", "tech"], ["tech", "sport"], ["sport", "tech"]),
    ("multi", ["sport", "politics", "tech"], [], []),
    ("number", ["price"], 12, 12.0),
    ("number", ["price"], -0.25, -0.25),
    ("spans", ["PER", "LOC"], [{"start": 16, "end": 21, "label": "LOC"}, {"start": 0, "end": 7, "label": "PER"}],
     [{"start": 0, "end": 7, "label": "PER"}, {"start": 16, "end": 21, "label": "LOC"}]),
])
def test_a_label_of_the_kind_is_stored_canonically_and_can_be_changed(
    client: TestClient, admin: Api, kind: str, names: list[str], good: Any, stored: Any,
) -> None:
    pid = _project(admin, kind, names, [TEXT])
    record = _record(admin, pid)
    acked = admin.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": good})
    assert acked.status_code == 201, acked.text
    assert json.loads(acked.json()["value"]) == stored
    assert admin.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": good}).status_code == 409
    changed = admin.put(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": "x"})
    assert changed.status_code == 422  # a change is checked as strictly as a label


def test_the_kind_is_checked_at_creation_and_cannot_be_changed(admin: Api) -> None:
    base = {"name": "p", "learner": "logreg", "label_names": ["PER"]}
    refused = admin.post("/api/projects", json={**base, "task": "tabular", "label_kind": "spans"})
    assert refused.status_code == 422 and "entities in text" in refused.json()["detail"]
    spaced = admin.post("/api/projects", json={**base, "task": "text", "label_kind": "spans", "label_names": ["a b"]})
    assert spaced.status_code == 422 and "not one word" in spaced.json()["detail"]
    assert admin.post("/api/projects", json={**base, "task": "text", "label_kind": "boxes"}).status_code == 422
    made = admin.post("/api/projects", json={**base, "task": "text", "label_kind": "multi"}).json()
    assert admin.patch(f"/api/projects/{made['id']}", json={"label_kind": "single"}).status_code == 422


def test_an_annotator_labels_a_multi_label_project_and_no_retrain_runs(client: TestClient, admin: Api) -> None:
    pid = _project(admin, "multi", ["a", "b"], [f"doc {i}" for i in range(4)], retrain_every=1)
    user = make_user(admin, "ann")
    admin.post(f"/api/projects/{pid}/members", json={"user_id": user["id"]})
    from tests.server.conftest import sign_in

    ann = sign_in(client, "ann", "password-123")
    for _ in range(4):
        record = _record(ann, pid)
        assert ann.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": ["a", "b"]}).status_code == 201
    app: Any = client.app
    assert app.state.services.worker.wait_idle(30)
    stats = admin.get(f"/api/projects/{pid}/stats").json()
    assert stats["loops"] == [] and stats["last_retrain_error"] is None
    page = admin.get(f"/projects/{pid}").text
    assert 'id="no-retrain-note"' in page and "several tags per record" in page
    single = admin.post("/api/projects", json={"name": "s", "task": "text", "label_names": ["a"], "learner": "logreg"}).json()
    assert 'id="no-retrain-note"' not in admin.get(f"/projects/{single['id']}").text


@pytest.mark.parametrize(("kind", "names", "value"), [
    ("multi", ["sport", "politics", "tech"], ["tech", "sport"]),
    ("number", ["price"], 3.25),
    ("spans", ["PER", "LOC"], [{"start": 0, "end": 7, "label": "PER"}, {"start": 16, "end": 21, "label": "LOC"}]),
])
def test_the_loopwise_exports_reimport_to_the_same_labels(admin: Api, kind: str, names: list[str], value: Any) -> None:
    pid = _project(admin, kind, names, [TEXT])
    record = _record(admin, pid)
    stored = admin.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": value}).json()["value"]
    for fmt in ("jsonl", "csv"):
        exported = admin.get(f"/api/projects/{pid}/export", params={"format": fmt}).content
        made = admin.post("/api/projects", json={"name": f"again-{fmt}", "task": "text", "label_names": names, "label_kind": kind, "learner": "logreg"})
        again = made.json()["id"]
        imported = admin.post(f"/api/projects/{again}/import/upload", files={"file": (f"back.{fmt}", exported, "text/plain")})
        assert imported.status_code == 201, imported.text
        back = admin.get(f"/api/projects/{again}/export", params={"format": "jsonl"}).text
        assert [lab["label"] for lab in json.loads(back)["labels"]] == [stored], fmt


def test_entity_files_of_a_spans_project_reimport_to_the_same_spans(admin: Api) -> None:
    pid = _project(admin, "spans", ["PER", "LOC"], [TEXT, "Bob met Carl in Rome today", "nobody labels this"])
    values = {TEXT: [{"start": 0, "end": 7, "label": "PER"}, {"start": 16, "end": 21, "label": "LOC"}],
              "Bob met Carl in Rome today": [{"start": 8, "end": 12, "label": "PER"}]}
    for _ in range(2):
        record = _record(admin, pid)
        while record["payload"]["text"] not in values:  # the unlabelled one: pass it over
            admin.post(f"/api/projects/{pid}/records/{record['id']}/skip")
            record = _record(admin, pid)
        acked = admin.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": values[record["payload"]["text"]]})
        assert acked.status_code == 201, acked.text
    for fmt, suffix in (("conll", ".conll"), ("spans_jsonl", ".spans.jsonl"), ("labelstudio", ".json")):
        exported = admin.get(f"/api/projects/{pid}/export", params={"format": fmt})
        assert exported.status_code == 200, exported.text
        made = admin.post("/api/projects", json={"name": f"again-{fmt}", "task": "text", "label_names": ["PER", "LOC"],
                                                 "label_kind": "spans", "learner": "logreg"})
        again = made.json()["id"]
        imported = admin.post(f"/api/projects/{again}/import/upload", files={"file": (f"back{suffix}", exported.content, "text/plain")})
        assert imported.status_code == 201, imported.text
        rows = [json.loads(line) for line in admin.get(f"/api/projects/{again}/export", params={"format": "jsonl"}).text.splitlines()]
        back = {row["data"]["text"]: [json.loads(lab["label"]) for lab in row["labels"]] for row in rows}
        assert back == {text: [spans] for text, spans in values.items()}, fmt  # the unlabelled record is left out


def test_an_entity_format_of_a_project_without_spans_is_refused(admin: Api) -> None:
    pid = _project(admin, "multi", ["a", "b"], [TEXT])
    refused = admin.get(f"/api/projects/{pid}/export", params={"format": "conll"})
    assert refused.status_code == 422 and "exports entity spans" in refused.json()["detail"]

"""The JSON API through the app, on SQLite and PostgreSQL: projects, users, the queue, learning, exports."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient
from PIL import Image

from loopwise.storage import AnnotationRepository, Store
from loopwise.storage._annotation_store import RETRACTED
from tests.server.conftest import Api, make_project, make_user, sign_in, truth


def _next(api: Api, project_id: int) -> dict[str, Any] | None:
    response = api.post(f"/api/projects/{project_id}/queue/next")
    assert response.status_code == 200, response.text
    return response.json()["record"]  # type: ignore[no-any-return]


def _label(api: Api, project_id: int, record: dict[str, Any], value: str | None = None) -> Any:
    return api.post(f"/api/projects/{project_id}/records/{record['id']}/label", json={"value": value or truth(record)})


def test_openapi_lists_every_resource(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/projects", "/api/users", "/api/projects/{project_id}/queue/next", "/api/login",
                 "/api/projects/{project_id}/records/{record_id}/label", "/api/projects/{project_id}/export"):
        assert path in paths


def test_the_queue_leases_labels_skips_flags_and_undoes(client: TestClient, admin: Api) -> None:
    project = make_project(admin, rows=6)
    pid = project["id"]
    for name in ("ann", "bob"):
        user = make_user(admin, name)
        admin.post(f"/api/projects/{pid}/members", json={"user_id": user["id"]})
    ann, bob = sign_in(client, "ann", "password-123"), sign_in(client, "bob", "password-123")

    first = _next(ann, pid)
    assert first is not None and _next(ann, pid)["id"] == first["id"]  # the lease holds: same record again
    other = _next(bob, pid)
    assert other is not None and other["id"] != first["id"]  # never the record someone holds
    # Bob cannot label the record Ann holds.
    assert _label(bob, pid, first).status_code == 409
    acked = _label(ann, pid, first)
    assert acked.status_code == 201 and acked.json()["value"] == truth(first)
    assert _label(ann, pid, first).status_code == 409  # labelled once; undo to change it

    progress = ann.get(f"/api/projects/{pid}/progress").json()
    assert (progress["n_done"], progress["n_labels"], progress["n_mine"], progress["n_pool"]) == (1, 1, 1, 6)

    second = _next(ann, pid)
    assert ann.post(f"/api/projects/{pid}/records/{second['id']}/skip").status_code == 200
    third = _next(ann, pid)
    assert third["id"] not in (first["id"], second["id"], other["id"])

    undone = ann.post(f"/api/projects/{pid}/queue/undo")  # the last action first: the skip
    assert undone.status_code == 200 and (undone.json()["undone"], undone.json()["record"]["id"]) == ("skip", second["id"])
    undone = ann.post(f"/api/projects/{pid}/queue/undo")
    assert undone.status_code == 200 and undone.json()["record"]["id"] == first["id"]
    assert ann.get(f"/api/projects/{pid}/progress").json()["n_done"] == 0
    assert _next(ann, pid)["id"] == first["id"]  # the undone record is leased back to Ann
    assert _label(ann, pid, first, "neg" if truth(first) == "pos" else "pos").status_code == 201
    assert ann.post(f"/api/projects/{pid}/queue/undo").status_code == 200
    assert _label(ann, pid, first).status_code == 201

    # Flag Bob's record: nobody is served it and training leaves it out.
    assert bob.post(f"/api/projects/{pid}/records/{other['id']}/flag", json={"reason": "corrupt"}).status_code == 200
    seen = set()
    while (record := _next(bob, pid)) is not None:
        seen.add(record["id"])
        assert _label(bob, pid, record).status_code == 201
    assert other["id"] not in seen
    progress = admin.get(f"/api/projects/{pid}/progress").json()
    assert progress["n_flagged"] == 1 and progress["n_done"] + progress["n_flagged"] + progress["n_open"] == 6

    # The label history is append-only: the undone label and its retraction are still there.
    wrong = "neg" if truth(first) == "pos" else "pos"
    assert _history(client, pid, first["external_id"]) == [truth(first), RETRACTED, wrong, RETRACTED, truth(first)]


def _history(client: TestClient, project_id: int, external_id: str) -> list[str]:
    store = client.app.state.services.repo.store  # type: ignore[attr-defined]
    return [label.value for label in store.label_history(project_id, external_id)]


def test_k_labels_per_record_are_served_at_once_and_agreement_is_measured(client: TestClient, admin: Api) -> None:
    project = make_project(admin, rows=3, labels_per_record=2)
    pid = project["id"]
    users = []
    for name in ("a1", "a2", "a3"):
        user = make_user(admin, name)
        admin.post(f"/api/projects/{pid}/members", json={"user_id": user["id"]})
        users.append(sign_in(client, name, "password-123"))
    r1, r2, r3 = (_next(u, pid) for u in users)
    assert r1["id"] == r2["id"]  # k = 2: two annotators may hold the same record
    assert r3["id"] != r1["id"]  # but not a third
    assert _label(users[0], pid, r1, "pos").status_code == 201
    assert _label(users[1], pid, r2, "neg").status_code == 201
    stats = admin.get(f"/api/projects/{pid}/stats").json()
    assert stats["agreement"]["n_records"] == 1 and stats["agreement"]["percent"] == 0.0
    assert stats["labels_per_annotator"] == {"a1": 1, "a2": 1}


def test_background_learning_retrains_reranks_and_records_loops(client: TestClient, admin: Api) -> None:
    project = make_project(admin, rows=40, test_rows=10, batch_size=4, retrain_every=4, strategy="margin")
    pid = project["id"]
    worker = client.app.state.services.worker  # type: ignore[attr-defined]
    for _ in range(2):
        for _ in range(4):
            record = _next(admin, pid)
            assert _label(admin, pid, record).status_code == 201
        # Wait for the retrain the 4th label started, so it sees exactly these labels (a 5th label landing
        # before the worker reads the store made the first loop 5 labels, depending on timing).
        assert worker.wait_idle(60) and not worker.errors
    stats = admin.get(f"/api/projects/{pid}/stats").json()
    assert stats["evaluation"] == "test"
    assert [loop["n_labelled"] for loop in stats["loops"]] == [4, 8]
    assert 0.0 <= stats["loops"][-1]["metrics"]["accuracy"] <= 1.0
    # The loops live in the same store as simulated runs: one history.
    store = client.app.state.services.repo.store  # type: ignore[attr-defined]
    loops = store.loops(project["run_id"])
    # Loop 0 is the labels given before any model (the queue's seeded order), as simulate's loop 0.
    assert [loop.strategy for loop in loops] == ["initial:RandomInit", "margin"]
    arrays = store.load_arrays(loops[-1].artifact_hash)
    assert len(arrays["ranking"]) == 40 - 8 and len(loops[-1].selected_ids) == 4 and loops[-1].label_cost == 4.0
    assert store.load_model(project["run_id"], 1) is not None
    # The queue now follows the new ranking.
    assert _next(admin, pid)["id"] == int(arrays["ranking"][0])


def test_without_a_test_set_the_curve_is_cross_validated_and_a_budget_stops_the_queue(client: TestClient, admin: Api) -> None:
    project = make_project(admin, rows=20, retrain_every=6, stopping={"kind": "LabelBudget", "budget": 6})
    pid = project["id"]
    for _ in range(6):
        assert _label(admin, pid, _next(admin, pid)).status_code == 201
    worker = client.app.state.services.worker  # type: ignore[attr-defined]
    assert worker.wait_idle(60) and not worker.errors
    stats = admin.get(f"/api/projects/{pid}/stats").json()
    assert stats["evaluation"] == "cv" and "accuracy" in stats["loops"][0]["metrics"]
    assert admin.get(f"/api/projects/{pid}").json()["status"] == "stopped"
    item = admin.post(f"/api/projects/{pid}/queue/next").json()
    assert item["record"] is None and "stopped" in item["reason"]


def test_roles_tokens_and_membership(client: TestClient, admin: Api, store_url: str) -> None:
    mine = make_project(admin, "mine", rows=2)
    make_project(admin, "theirs", rows=2)
    user = make_user(admin, "carol")
    admin.post(f"/api/projects/{mine['id']}/members", json={"user_id": user["id"]})
    carol = sign_in(client, "carol", "password-123")
    assert [p["name"] for p in carol.get("/api/projects").json()["data"]] == ["mine"]
    assert admin.get("/api/projects").json()["count"] == 2
    assert carol.post("/api/projects", json={"name": "x", "task": "text", "label_names": ["a"]}).status_code == 403
    assert carol.get("/api/users").status_code == 403
    token = carol.post(f"/api/users/{user['id']}/token").json()["token"]
    bearer = TestClient(client.app)
    assert bearer.get("/api/users/me", headers={"Authorization": f"Bearer {token}"}).json()["name"] == "carol"
    assert bearer.get("/api/users/me", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert bearer.get("/api/users/me").status_code == 401
    assert TestClient(client.app).post("/api/login", json={"name": "carol", "password": "nope-nope"}).status_code == 401
    # Only hashes are stored.
    repo: AnnotationRepository = client.app.state.services.repo  # type: ignore[attr-defined]
    with repo.store._engine.connect() as connection:
        stored = " ".join(str(v) for row in connection.exec_driver_sql(
            "SELECT a.token_hash, p.password_hash FROM annotators a JOIN annotator_passwords p ON p.annotator_id = a.id"
        ) for v in row)
    assert token not in stored and "password-123" not in stored and "scrypt$" in stored


def test_exports_csv_jsonl_and_label_studio(client: TestClient, admin: Api) -> None:
    project = make_project(admin, rows=4)
    pid = project["id"]
    labelled = []
    for _ in range(3):
        record = _next(admin, pid)
        _label(admin, pid, record)
        labelled.append(record)
    rows = list(csv.DictReader(io.StringIO(admin.get(f"/api/projects/{pid}/export?format=csv").text)))
    # One row per label, and one (with no label) per record nobody labelled.
    assert len(rows) == 4
    assert {(r["id"], r["label"], r["annotator"]) for r in rows if r["label"]} == {(r["external_id"], truth(r), "admin") for r in labelled}
    lines = [json.loads(line) for line in admin.get(f"/api/projects/{pid}/export?format=jsonl").text.splitlines()]
    assert len(lines) == 4 and sum(len(line["labels"]) for line in lines) == 3
    tasks = admin.get(f"/api/projects/{pid}/export?format=labelstudio").json()
    assert len(tasks) == 4
    choices = [a["result"][0]["value"]["choices"][0] for t in tasks for a in t["annotations"]]
    assert sorted(choices) == sorted(truth(r) for r in labelled)
    assert all(a["result"][0]["type"] == "choices" for t in tasks for a in t["annotations"])


def test_imports_jsonl_parquet_and_images(client: TestClient, admin: Api, tmp_path: Path) -> None:
    text = admin.post("/api/projects", json={"name": "j", "task": "text", "label_names": ["a", "b"]}).json()
    jsonl = "\n".join(json.dumps({"id": f"j{i}", "text": f"hello {i}"}) for i in range(3))
    result = admin.post(f"/api/projects/{text['id']}/import/upload", files={"file": ("r.jsonl", jsonl.encode())})
    assert result.json() == {"n_read": 3, "n_added": 3, "n_test": 0, "n_labels": 0, "n_predictions": 0}
    again = admin.post(f"/api/projects/{text['id']}/import/upload", files={"file": ("r.jsonl", jsonl.encode())})
    assert again.json()["n_added"] == 0  # ids it has are skipped

    table = admin.post("/api/projects", json={"name": "t", "task": "tabular", "label_names": ["a", "b"]}).json()
    buffer = io.BytesIO()
    pd.DataFrame({"id": ["p0", "p1"], "x": [1.5, 2.5], "colour": ["red", "blue"]}).to_parquet(buffer)
    result = admin.post(f"/api/projects/{table['id']}/import/upload", files={"file": ("r.parquet", buffer.getvalue())})
    assert result.status_code == 201 and result.json()["n_added"] == 2
    record = _next(admin, table["id"])
    assert set(record["payload"]) == {"x", "colour"}

    images = admin.post("/api/projects", json={"name": "i", "task": "image", "label_names": ["a", "b"]}).json()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(3):
            png = io.BytesIO()
            Image.fromarray((np.random.default_rng(i).random((8, 8)) * 255).astype(np.uint8)).save(png, "PNG")
            zf.writestr(f"cats/{i}.png", png.getvalue())
        zf.writestr("notes.txt", "not an image")
    result = admin.post(f"/api/projects/{images['id']}/import/upload", files={"file": ("imgs.zip", archive.getvalue())})
    assert result.status_code == 201 and result.json()["n_added"] == 3
    record = _next(admin, images["id"])
    media = admin.get(record["media_url"])
    assert media.status_code == 200 and media.headers["content-type"] == "image/png"
    assert media.content.startswith(b"\x89PNG")

    folder = tmp_path / "imports" / "more"
    folder.mkdir(parents=True)
    for i in range(2):
        Image.fromarray(np.full((4, 4), i * 100, dtype=np.uint8)).save(folder / f"dog{i}.png")
    result = admin.post(f"/api/projects/{images['id']}/import/path", json={"path": "more"})
    assert result.status_code == 201 and result.json()["n_added"] == 2


def test_leases_expire(store_url: str, tmp_path: Path) -> None:
    import time

    with Store.open(store_url, artifacts_dir=tmp_path / "a") as store:
        repo = AnnotationRepository(store)
        a, b = repo.create_user("a", "annotator"), repo.create_user("b", "annotator")
        project = repo.create_project("p", "text", ["x", "y"], "", {})
        repo.add_records(project.id, ["only"], [{"text": "t"}])
        held = repo.lease_next(project.id, a.id, 1, 0.2)
        assert held is not None and repo.lease_next(project.id, b.id, 1, 60) is None
        time.sleep(0.3)
        taken = repo.lease_next(project.id, b.id, 1, 60)
        assert taken is not None and taken.record_id == held.record_id
        # A's lease lapsed and B holds the record now: A's late label is refused, B's accepted.
        from loopwise.storage import ConflictError

        try:
            repo.submit_label(project, held.record_id, a, "x", 1)
            raise AssertionError("a late label on a record someone else holds must be refused")
        except ConflictError:
            pass
        assert repo.submit_label(project, held.record_id, b, "y", 1).value == "y"

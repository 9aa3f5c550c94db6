"""Labels move between tools: every export format imports back to the same records and labels.

A project is labelled through the queue by two annotators (k = 2), exported as loopwise CSV and
JSONL, Label Studio JSON and Argilla records, and each file is imported into a fresh project; the
records (id, data, role, evaluation label) and labels (record, annotator, value, time) are compared
field by field. The same for a Label Studio file written by hand from Label Studio's documented
task format (tests/server/data/label_studio_text.json), and for Prodigy's JSONL.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.server.conftest import Api, make_project, make_user, sign_in, truth

DATA = Path(__file__).resolve().parent / "data"
FILES = {"csv": "export.csv", "jsonl": "export.jsonl", "labelstudio": "export.json", "argilla": "export.json"}


def _records(client: TestClient, project_id: int) -> list[tuple[Any, ...]]:
    repo = client.app.state.services.repo  # type: ignore[attr-defined]
    return sorted((r.external_id, json.dumps(r.payload, sort_keys=True), r.role, r.gold) for r in repo.snapshot(project_id))


def _labels(client: TestClient, project_id: int) -> list[tuple[Any, ...]]:
    repo = client.app.state.services.repo  # type: ignore[attr-defined]
    return sorted((lab.external_id, lab.annotator, lab.value, lab.created_at.isoformat()) for lab in repo.current_labels(project_id))


def _label_through_the_queue(client: TestClient, admin: Api, project_id: int, names: list[str], n: int) -> None:
    for name in names:
        user = make_user(admin, name)
        admin.post(f"/api/projects/{project_id}/members", json={"user_id": user["id"]}).raise_for_status()
        annotator = sign_in(client, name, "password-123")
        for _ in range(n):
            record = annotator.post(f"/api/projects/{project_id}/queue/next").json()["record"]
            value = truth(record) if "payload" in record and "text" in (record["payload"] or {}) else "cat"
            labelled = annotator.post(f"/api/projects/{project_id}/records/{record['id']}/label", json={"value": value})
            assert labelled.status_code == 201, labelled.text


def _new_project(admin: Api, name: str, task: str = "text", label_names: list[str] | None = None) -> int:
    body = {"name": name, "task": task, "label_names": label_names or ["pos", "neg"], "labels_per_record": 2}
    created = admin.post("/api/projects", json=body)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _import(admin: Api, project_id: int, filename: str, content: bytes) -> Any:
    return admin.post(f"/api/projects/{project_id}/import/upload", files={"file": (filename, content)})


@pytest.mark.parametrize("fmt", list(FILES))
def test_each_export_imports_back_to_the_same_records_and_labels(client: TestClient, admin: Api, fmt: str) -> None:
    source = make_project(admin, "source", rows=8, test_rows=2, labels_per_record=2)
    _label_through_the_queue(client, admin, source["id"], ["alice", "bob"], 3)
    assert len(_labels(client, source["id"])) == 6
    exported = admin.get(f"/api/projects/{source['id']}/export", params={"format": fmt})
    assert exported.status_code == 200, exported.text

    target = _new_project(admin, "target")
    imported = _import(admin, target, FILES[fmt], exported.content)
    assert imported.status_code == 201, imported.text
    assert imported.json()["n_added"] == 10 and imported.json()["n_test"] == 2 and imported.json()["n_labels"] == 6

    assert _records(client, target) == _records(client, source["id"])
    assert _labels(client, target) == _labels(client, source["id"])
    progress = admin.get(f"/api/projects/{target}/progress").json()
    assert progress["n_labels"] == 6 and progress["n_done"] == 3  # three records with both their labels
    # The same file again adds nothing: the labels are in force already.
    again = _import(admin, target, FILES[fmt], exported.content)
    assert again.status_code == 201 and again.json()["n_added"] == 0
    assert len(_labels(client, target)) == 6


def _png(colour: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", list(FILES))
def test_image_projects_round_trip_through_the_servers_image_urls(client: TestClient, admin: Api, fmt: str) -> None:
    source = _new_project(admin, "images", "image", ["cat", "dog"])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for i, colour in enumerate([(200, 0, 0), (0, 200, 0), (0, 0, 200)]):
            zf.writestr(f"img/{i}.png", _png(colour, (8 + i, 6)))
    assert _import(admin, source, "images.zip", archive.getvalue()).status_code == 201
    _label_through_the_queue(client, admin, source, ["carol"], 2)
    exported = admin.get(f"/api/projects/{source}/export", params={"format": fmt})
    if fmt in ("labelstudio", "argilla"):
        assert "/api/projects/%d/records/" % source in exported.text and "/media" in exported.text

    target = _new_project(admin, "images-again", "image", ["cat", "dog"])
    imported = _import(admin, target, FILES[fmt], exported.content)
    assert imported.status_code == 201, imported.text
    assert _records(client, target) == _records(client, source)
    assert _labels(client, target) == _labels(client, source)


def test_a_label_studio_file_in_the_documented_format(client: TestClient, admin: Api) -> None:
    project = _new_project(admin, "from-label-studio", label_names=["Positive", "Negative", "Neutral"])
    imported = _import(admin, project, "label_studio_text.json", (DATA / "label_studio_text.json").read_bytes())
    assert imported.status_code == 201, imported.text
    assert imported.json() == {"n_read": 3, "n_added": 3, "n_test": 0, "n_labels": 3, "n_predictions": 3}
    assert _records(client, project) == [
        ("1", json.dumps({"text": "The new release is wonderful and fast."}), "pool", None),
        ("2", json.dumps({"text": "It crashed twice and lost my work."}), "pool", None),
        ("3", json.dumps({"text": "Arrived on Tuesday."}), "pool", None),
    ]
    # completed_by ids become users labelstudio-<id>; the cancelled annotation and the predictions are no labels.
    assert _labels(client, project) == [
        ("1", "labelstudio-10", "Positive", "2021-03-09T22:16:08.728353+00:00"),
        ("1", "labelstudio-11", "Positive", "2021-03-10T08:01:12.100000+00:00"),
        ("2", "labelstudio-10", "Negative", "2021-03-09T22:20:00.500000+00:00"),
    ]
    users = {u["name"]: u for u in admin.get("/api/users").json()["data"]}
    assert not users["labelstudio-10"]["has_password"] and not users["labelstudio-10"]["has_token"]

    # Exported again as Label Studio JSON (with its config) and imported into a fresh project: no difference.
    exported = admin.get(f"/api/projects/{project}/export", params={"format": "labelstudio"})
    tasks = exported.json()
    assert [a["completed_by"] for a in tasks[0]["annotations"]] == [users["labelstudio-10"]["id"], users["labelstudio-11"]["id"]]
    config = admin.get(f"/api/projects/{project}/export", params={"format": "labelstudio_config"})
    assert config.headers["content-type"].startswith("application/xml")
    assert '<Text name="text" value="$text"/>' in config.text and '<Choice value="Neutral"/>' in config.text
    again = _new_project(admin, "from-loopwise", label_names=["Positive", "Negative", "Neutral"])
    assert _import(admin, again, "again.json", exported.content).status_code == 201
    assert _records(client, again) == _records(client, project)
    assert _labels(client, again) == _labels(client, project)


def test_prodigy_jsonl_imports_accepted_answers(client: TestClient, admin: Api) -> None:
    lines = [
        {"text": "fine and great", "label": "pos", "answer": "accept", "_input_hash": 11, "_annotator_id": "news-ann1", "_timestamp": 1700000000},
        {"text": "fine and great", "label": "pos", "answer": "accept", "_input_hash": 11, "_annotator_id": "news-ann2", "_timestamp": 1700000060},
        {"text": "awful", "label": "pos", "answer": "reject", "_input_hash": 12, "_annotator_id": "news-ann1"},
        {"text": "meh", "options": [{"id": "pos", "text": "pos"}, {"id": "neg", "text": "neg"}], "accept": ["neg"],
         "answer": "accept", "meta": {"id": "m3", "source": "forum"}, "_annotator_id": "news-ann1", "_timestamp": 1700000120},
        {"text": "skip me", "label": "neg", "answer": "ignore", "_input_hash": 14},
    ]
    project = _new_project(admin, "from-prodigy")
    body = "\n".join(json.dumps(line) for line in lines).encode()
    imported = _import(admin, project, "prodigy.jsonl", body)
    assert imported.status_code == 201, imported.text
    assert imported.json()["n_added"] == 4 and imported.json()["n_labels"] == 3
    assert _records(client, project) == [
        ("11", json.dumps({"text": "fine and great"}), "pool", None),
        ("12", json.dumps({"text": "awful"}), "pool", None),
        ("14", json.dumps({"text": "skip me"}), "pool", None),
        ("m3", json.dumps({"source": "forum", "text": "meh"}, sort_keys=True), "pool", None),
    ]
    assert _labels(client, project) == [
        ("11", "news-ann1", "pos", "2023-11-14T22:13:20+00:00"),
        ("11", "news-ann2", "pos", "2023-11-14T22:14:20+00:00"),
        ("m3", "news-ann1", "neg", "2023-11-14T22:15:20+00:00"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("unknown-class.json", [{"id": 7, "data": {"text": "x"}, "annotations": [
            {"completed_by": 1, "result": [{"type": "choices", "value": {"choices": ["maybe"]}}]}]}],
         ["record '7'", "'maybe'", "not one of"]),
        ("boxes.json", [{"id": 8, "data": {"text": "x"}, "annotations": [
            {"id": 5, "completed_by": 1, "result": [{"type": "rectanglelabels", "value": {"rectanglelabels": ["pos"]}}]}]}],
         ["task '8', annotation 5", "rectanglelabels", "choices"]),
        ("no-text.json", [{"id": 9, "data": {"body": "x"}, "annotations": []}], ["task '9'", "'text'"]),
        ("bad-jsonl.jsonl", "{\"id\": 1, \"data\": {\"text\": \"a\"}, \"labels\": [{\"label\": \"pos\", \"annotator\": \"bad name!\"}]}",
         ["line 1", "'bad name!'", "user name"]),
        ("twice.csv", "id,split,text,label,annotator,created_at\nr1,train,a,pos,ann,\nr1,train,b,neg,ann2,\n",
         ["record 'r1'", "twice", "text"]),
        ("same-annotator.csv", "id,split,text,label,annotator,created_at\nr1,train,a,pos,ann,\nr1,train,a,neg,ann,\n",
         ["record 'r1'", "'ann' labels it twice"]),
    ],
)
def test_bad_interchange_files_are_refused_and_leave_nothing(
    client: TestClient, admin: Api, name: str, content: Any, expected: list[str],
) -> None:
    project = _new_project(admin, "strict")
    body = content.encode() if isinstance(content, str) else json.dumps(content).encode()
    refused = _import(admin, project, name, body)
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert all(part in detail for part in expected), detail
    assert name.split(".")[0] in detail or name in detail
    assert _records(client, project) == [] and _labels(client, project) == []


def test_an_image_url_the_server_does_not_hold_is_named(client: TestClient, admin: Api) -> None:
    project = _new_project(admin, "photos", "image", ["cat", "dog"])
    tasks = [{"id": 1, "data": {"image": "https://example.com/opensource/label-studio/1.jpg"}}]
    refused = _import(admin, project, "tasks.json", json.dumps(tasks).encode())
    assert refused.status_code == 422
    assert "record '1'" in refused.json()["detail"] and "import the images" in refused.json()["detail"]
    assert _records(client, project) == []


def test_a_label_studio_image_file_with_local_files_urls(client: TestClient, admin: Api, tmp_path: Path) -> None:
    # Label Studio's local storage names files /data/local-files/?d=PATH; PATH is read under the import folder.
    pets = tmp_path / "imports" / "pets"
    pets.mkdir(parents=True)
    sizes = {"cat1.png": (8, 6), "dog1.png": (9, 6), "dog2.png": (10, 6)}
    for i, (name, size) in enumerate(sizes.items()):
        (pets / name).write_bytes(_png((40 * i, 90, 160), size))
    project = _new_project(admin, "pets", "image", ["cat", "dog"])
    imported = _import(admin, project, "label_studio_image.json", (DATA / "label_studio_image.json").read_bytes())
    assert imported.status_code == 201, imported.text
    assert imported.json()["n_added"] == 3 and imported.json()["n_labels"] == 2 and imported.json()["n_predictions"] == 1
    import hashlib

    expected = []
    for task_id, name in zip(("11", "12", "13"), sizes, strict=True):
        digest = hashlib.sha256((pets / name).read_bytes()).hexdigest()
        payload = {"image": f"{digest}.png", "filename": f"pets/{name}", "width": sizes[name][0], "height": 6}
        expected.append((task_id, json.dumps(payload, sort_keys=True), "pool", None))
    assert _records(client, project) == expected
    assert _labels(client, project) == [
        ("11", "labelstudio-1", "cat", "2024-06-18T23:45:46.048490+00:00"),
        ("12", "labelstudio-2", "dog", "2024-06-19T08:10:00+00:00"),
    ]
    media = admin.get(f"/api/projects/{project}/records/1/media")
    assert media.status_code == 200 and media.content == (pets / "cat1.png").read_bytes()

    exported = admin.get(f"/api/projects/{project}/export", params={"format": "labelstudio"})
    assert exported.json()[0]["data"]["image"] == f"http://testserver/api/projects/{project}/records/1/media"
    again = _new_project(admin, "pets-again", "image", ["cat", "dog"])
    assert _import(admin, again, "again.json", exported.content).status_code == 201
    assert _records(client, again) == _records(client, project)
    assert _labels(client, again) == _labels(client, project)

    escape = [{"id": 1, "data": {"image": "/data/local-files/?d=../../etc/passwd"}}]
    refused = _import(admin, _new_project(admin, "escape", "image", ["cat", "dog"]), "escape.json", json.dumps(escape).encode())
    assert refused.status_code == 403 and "leaves the import folder" in refused.json()["detail"]

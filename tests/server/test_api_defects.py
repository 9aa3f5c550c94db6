"""Issue 8's HTTP defects, each pinned: ids out of range, explicit nulls, imports without their text,
half-made projects and deleting projects, HTML error pages, and an OpenAPI document that tells the truth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from loopwise.server import ServerSettings, create_app
from tests.server.conftest import Api, make_project, make_user, sign_in, truth
from tests.server.live import ADMIN_PASSWORD

HUGE = "99999999999999999999"  # past SQLite's and PostgreSQL's INTEGER


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Api, dict[str, Any]]]:
    """One app over SQLite with one project, for the checks of the HTTP surface that change nothing stored."""
    tmp: Path = tmp_path_factory.mktemp("defects")
    (tmp / "imports").mkdir()
    settings = ServerSettings(
        db=f"sqlite:///{tmp / 'loopwise.db'}", artifacts_dir=tmp / "artifacts", import_dir=tmp / "imports",
        admin_password=ADMIN_PASSWORD, train_in_subprocess=False, secret_key="x" * 32,
    )
    with TestClient(create_app(settings)) as client:
        admin = sign_in(client, "admin", ADMIN_PASSWORD)
        yield client, admin, make_project(admin, "shared", rows=2)


# -- 1: ids past the database's integer answer 4xx, never 500 ------------------------------------


OUT_OF_RANGE = [
    ("GET", "/api/projects/{huge}"),
    ("PATCH", "/api/projects/{huge}"),
    ("DELETE", "/api/projects/{huge}"),
    ("GET", "/api/projects/{huge}/records"),
    ("GET", "/api/projects/{pid}/records/{huge}"),
    ("GET", "/api/projects/{pid}/records/{huge}/media"),
    ("POST", "/api/projects/{huge}/queue/next"),
    ("POST", "/api/projects/{pid}/records/{huge}/label"),
    ("POST", "/api/projects/{pid}/records/{huge}/skip"),
    ("POST", "/api/projects/{pid}/records/{huge}/flag"),
    ("GET", "/api/projects/{huge}/members"),
    ("DELETE", "/api/projects/{pid}/members/{huge}"),
    ("PATCH", "/api/users/{huge}"),
    ("POST", "/api/users/{huge}/token"),
    ("GET", "/api/projects/{pid}/records?offset={huge}"),
]


def test_ids_past_the_integer_range_are_refused_with_4xx(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    _, admin, project = shared
    bodies = {"PATCH": {"instructions": "x"}, "POST": {"value": "pos"}}
    for method, path in OUT_OF_RANGE:
        body: Any = {"password": "long-enough-1"} if "users" in path and method == "PATCH" else bodies.get(method)
        if path.endswith(("/flag", "/skip", "/next", "/token")):
            body = None
        response = admin.request(method, path.format(huge=HUGE, pid=project["id"]), json=body)
        assert response.status_code in (404, 422), (method, path, response.text)
        # The next request is answered as usual (the keep-alive connection is checked live in test_fuzz).
        assert admin.get(f"/api/projects/{project['id']}").status_code == 200


def test_a_member_id_past_the_integer_range_is_refused(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    _, admin, project = shared
    response = admin.post(f"/api/projects/{project['id']}/members", json={"user_id": int(HUGE)})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "user_id"]


def test_pages_with_ids_past_the_integer_range_are_html_404s(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    _, admin, _ = shared
    for path in (f"/projects/{HUGE}", f"/projects/{HUGE}/annotate"):
        response = admin.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")


# -- 2: explicit null in PATCH /api/projects/{id} -------------------------------------------------


NOT_NULL = ["strategy", "learner", "batch_size", "strategy_params", "labels_per_record", "lease_seconds",
            "instructions", "status"]


def test_patch_with_an_explicit_null_is_a_422_naming_the_field(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    _, admin, project = shared
    before = admin.get(f"/api/projects/{project['id']}").json()
    for field in NOT_NULL:
        response = admin.patch(f"/api/projects/{project['id']}", json={field: None})
        assert response.status_code == 422, (field, response.text)
        issue = response.json()["detail"][0]
        assert issue["loc"][:2] == ["body", field] and "may not be null" in issue["msg"]
    assert admin.get(f"/api/projects/{project['id']}").json() == before  # nothing changed


def test_null_clears_retrain_every_and_stopping_where_it_means_something(
    shared: tuple[TestClient, Api, dict[str, Any]],
) -> None:
    _, admin, _ = shared
    project = make_project(admin, "nulls", rows=2, retrain_every=3, stopping={"kind": "LabelBudget", "budget": 5})
    response = admin.patch(f"/api/projects/{project['id']}", json={"retrain_every": None, "stopping": None})
    assert response.status_code == 200, response.text
    assert (response.json()["settings"]["retrain_every"], response.json()["settings"]["stopping"]) == (None, None)


def test_the_schema_allows_null_only_where_the_server_takes_it(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    client, _, _ = shared
    fields = client.get("/api/openapi.json").json()["components"]["schemas"]["ProjectUpdate"]["properties"]
    nullable = {name for name, spec in fields.items() if {"type": "null"} in spec.get("anyOf", [])}
    assert nullable == {"retrain_every", "stopping", "annotator_rate", "weak_weight", "auto_label_precision", "auto_label_weight"}


def test_an_annotator_rate_is_set_refused_when_negative_and_cleared_by_null(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    _, admin, _ = shared
    pid = _empty_project(admin, "rated")["id"]
    assert admin.patch(f"/api/projects/{pid}", json={"annotator_rate": 30}).json()["settings"]["annotator_rate"] == 30
    refused = admin.patch(f"/api/projects/{pid}", json={"annotator_rate": -1})
    assert refused.status_code == 422 and "annotator_rate" in refused.text
    assert admin.get(f"/api/projects/{pid}").json()["settings"]["annotator_rate"] == 30  # unchanged by the refusal
    assert admin.patch(f"/api/projects/{pid}", json={"annotator_rate": None}).json()["settings"]["annotator_rate"] is None


# -- 5: a text import without its text column ----------------------------------------------------


def _empty_project(admin: Api, name: str = "reviews", **settings: Any) -> dict[str, Any]:
    body = {"name": name, "task": "text", "label_names": ["pos", "neg"], **settings}
    response = admin.post("/api/projects", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _upload(admin: Api, pid: int, content: str, name: str = "records.csv") -> Any:
    return admin.post(f"/api/projects/{pid}/import/upload", files={"file": (name, content.encode(), "text/csv")})


def test_a_text_import_without_the_text_column_is_refused_and_stores_nothing(
    shared: tuple[TestClient, Api, dict[str, Any]],
) -> None:
    _, admin, _ = shared
    pid = _empty_project(admin, "no-text")["id"]
    response = _upload(admin, pid, "id,body\n1,great\n2,awful\n")
    assert response.status_code == 422
    assert "records.csv" in response.json()["detail"] and "'text'" in response.json()["detail"]
    assert admin.get(f"/api/projects/{pid}/progress").json()["n_pool"] == 0


def test_a_text_import_reads_the_projects_own_text_field(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    _, admin, _ = shared
    pid = _empty_project(admin, "own-text-field", text_field="body")["id"]
    response = _upload(admin, pid, "id,body\n1,great\n2,awful\n")
    assert response.status_code == 201, response.text
    assert response.json()["n_added"] == 2


def test_a_tabular_import_without_feature_columns_is_refused(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    _, admin, _ = shared
    response = admin.post("/api/projects", json={"name": "rows", "task": "tabular", "label_names": ["a", "b"]})
    pid = response.json()["id"]
    refused = _upload(admin, pid, "id,label\n1,\n2,\n", name="rows.csv")
    assert refused.status_code == 422 and "rows.csv" in refused.json()["detail"]
    assert admin.get(f"/api/projects/{pid}/progress").json()["n_pool"] == 0


# -- 6: create + import is atomic; projects can be deleted ---------------------------------------


def _create_with_file(admin: Api, name: str, content: str, filename: str = "records.csv") -> Any:
    project = {"name": name, "task": "text", "label_names": ["pos", "neg"]}
    return admin.post(
        "/api/projects/upload",
        data={"project": json.dumps(project)},
        files={"file": (filename, content.encode(), "text/csv")},
    )


BAD_FILES = {
    "no text column": "id,body\n1,great\n",
    "a repeated id": "id,text\n1,a\n1,b\n",
    "an empty file": "",
    "an unknown test label": "id,text,label,split\n1,a,maybe,test\n",
}


def test_a_bad_file_in_the_create_form_leaves_no_project(admin: Api) -> None:
    for why, bad in BAD_FILES.items():
        refused = _create_with_file(admin, "reviews", bad)
        assert refused.status_code == 422, (why, refused.text)
        assert admin.get("/api/projects").json()["count"] == 0, why
    created = _create_with_file(admin, "reviews", "id,text\n1,great\n2,awful\n")  # no 'already exists'
    assert created.status_code == 201, created.text
    progress = admin.get(f"/api/projects/{created.json()['id']}/progress").json()
    assert progress["n_pool"] == 2
    assert _create_with_file(admin, "reviews", "id,text\n3,fine\n").status_code == 409  # the name is taken now


def test_the_create_form_refuses_bad_project_json_by_name(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    _, admin, _ = shared
    response = admin.post(
        "/api/projects/upload", data={"project": '{"name": "video", "task": "video", "label_names": ["a"]}'},
        files={"file": ("r.csv", b"id,text\n1,a\n", "text/csv")},
    )
    assert response.status_code == 422 and "task" in response.json()["detail"]
    assert "video" not in [p["name"] for p in admin.get("/api/projects").json()["data"]]


def _rows_of(url: str, project_id: int, run_id: str) -> dict[str, int]:
    """Rows left in every table that can hold something of the project (by project, record or run)."""
    engine = create_engine(url)
    queries = {
        "projects": "SELECT count(*) FROM projects WHERE id = :p",
        "annotation_projects": "SELECT count(*) FROM annotation_projects WHERE project_id = :p",
        "records": "SELECT count(*) FROM records WHERE project_id = :p",
        "annotation_records": "SELECT count(*) FROM annotation_records WHERE project_id = :p",
        "annotation_events": "SELECT count(*) FROM annotation_events WHERE project_id = :p",
        "project_members": "SELECT count(*) FROM project_members WHERE project_id = :p",
        "runs": "SELECT count(*) FROM runs WHERE project_id = :p",
        "loops": "SELECT count(*) FROM loops WHERE run_id = :r",
        "labels": "SELECT count(*) FROM labels WHERE run_id = :r",
        "assignments": "SELECT count(*) FROM assignments a JOIN records r ON r.id = a.record_id WHERE r.project_id = :p",
    }
    try:
        with engine.connect() as conn:
            return {name: int(conn.execute(text(sql), {"p": project_id, "r": run_id}).scalar_one()) for name, sql in queries.items()}
    finally:
        engine.dispose()


def test_delete_project_removes_its_records_labels_queue_and_loops_and_nothing_else(
    client: TestClient, admin: Api, store_url: str
) -> None:
    keep = make_project(admin, "keep", rows=4)
    gone = make_project(admin, "gone", rows=6, test_rows=4, batch_size=2, retrain_every=2)
    ann = make_user(admin, "ann")
    for project in (keep, gone):
        assert admin.post(f"/api/projects/{project['id']}/members", json={"user_id": ann["id"]}).status_code == 201
    annotator = sign_in(client, "ann", "password-123")
    for project in (keep, gone):
        for _ in range(2):
            record = annotator.post(f"/api/projects/{project['id']}/queue/next").json()["record"]
            labelled = annotator.post(f"/api/projects/{project['id']}/records/{record['id']}/label", json={"value": truth(record)})
            assert labelled.status_code == 201, labelled.text
    annotator.post(f"/api/projects/{gone['id']}/queue/next")  # a live lease
    assert client.app.state.services.worker.wait_idle(60)  # type: ignore[attr-defined]
    before = _rows_of(store_url, gone["id"], gone["run_id"])
    assert before["loops"] >= 1 and before["labels"] == 2 and before["assignments"] == 1
    kept_before = _rows_of(store_url, keep["id"], keep["run_id"])

    assert annotator.delete(f"/api/projects/{gone['id']}").status_code == 403  # admins only
    response = admin.delete(f"/api/projects/{gone['id']}")
    assert response.status_code == 200 and "gone" in response.json()["detail"]

    assert set(_rows_of(store_url, gone["id"], gone["run_id"]).values()) == {0}
    assert _rows_of(store_url, keep["id"], keep["run_id"]) == kept_before
    assert admin.get(f"/api/projects/{gone['id']}").status_code == 404
    assert admin.delete(f"/api/projects/{gone['id']}").status_code == 404
    assert [p["name"] for p in admin.get("/api/projects").json()["data"]] == ["keep"]
    assert make_project(admin, "gone", rows=2)["name"] == "gone"  # the name is free again
    # The append-only guard on labels is back in force for everyone else.
    engine = create_engine(store_url)
    try:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM labels"))
    finally:
        engine.dispose()


# -- 8: HTML routes answer errors as HTML pages ---------------------------------------------------


def test_page_errors_are_html_pages(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    client, admin, _ = shared
    anonymous = TestClient(client.app)
    for path in ("/projects/424242", "/projects/abc", "/nope", "/projects/424242/annotate"):
        # Signed in; and not signed in where no sign-in could make it a page (else: the sign-in page).
        for who in (admin.client, anonymous) if "4242" not in path else (admin.client,):
            response = who.get(path, follow_redirects=False)
            assert response.status_code == 404, path
            assert response.headers["content-type"].startswith("text/html")
            assert "<h1>Not found</h1>" in response.text and '"detail"' not in response.text


def test_a_missing_project_page_says_which(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    assert "no project with id 424242" in shared[1].get("/projects/424242").text


def test_api_errors_stay_json(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    _, admin, _ = shared
    for path in ("/api/nope", "/api/projects/abc", "/api/projects/424242"):
        response = admin.get(path)
        assert response.status_code == 404 and response.headers["content-type"] == "application/json", path
        assert isinstance(response.json()["detail"], str)


def test_a_project_page_an_annotator_may_not_see_is_an_html_404(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    client, admin, project = shared
    pid = project["id"]
    make_user(admin, "outsider")
    annotator = sign_in(client, "outsider", "password-123")
    response = annotator.get(f"/projects/{pid}")  # not a member: the project is not found for them
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")


# -- 11: the OpenAPI document matches the server -------------------------------------------------


def test_every_422_is_documented_as_either_a_message_or_a_list(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    client, _, _ = shared
    document = client.get("/api/openapi.json").json()
    detail = document["components"]["schemas"]["ValidationErrorPublic"]["properties"]["detail"]
    assert {"type": "string"} in detail["anyOf"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for code in ("401", "422"):
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema["$ref"].endswith("ValidationErrorPublic" if code == "422" else "ErrorPublic"), (method, path)


def test_export_and_media_document_their_content_types(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    client, _, _ = shared
    paths = client.get("/api/openapi.json").json()["paths"]
    export = paths["/api/projects/{project_id}/export"]["get"]["responses"]["200"]["content"]
    assert {"text/csv", "application/x-ndjson", "application/json"} <= set(export)
    media = paths["/api/projects/{project_id}/records/{record_id}/media"]["get"]["responses"]["200"]["content"]
    assert {"image/png", "image/jpeg"} <= set(media)


def test_a_domain_422_has_the_documented_string_detail(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    _, admin, _ = shared
    pid = _empty_project(admin, "domain-422")["id"]
    response = _upload(admin, pid, "id,body\n1,x\n")
    assert response.status_code == 422 and isinstance(response.json()["detail"], str)


def test_405_names_every_method_the_path_serves(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    response = shared[1].request("PUT", "/api/projects/1")
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "PATCH", "DELETE"}


def test_an_import_path_too_long_for_the_file_system_is_a_422(shared: tuple[TestClient, Api, dict[str, Any]]) -> None:
    """Found by the fuzzer: a 4,000-character file name ended in an OSError and a 500."""
    _, admin, project = shared
    response = admin.post(f"/api/projects/{project['id']}/import/path", json={"path": "0" * 4000})
    assert response.status_code == 422 and "not a usable path" in response.json()["detail"]

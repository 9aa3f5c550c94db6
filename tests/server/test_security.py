"""Security: escaped rendering, CSRF on cookie sessions, request size limits, confined import paths,
no access across projects. (The browser test checks that a record's XSS payload stays text.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.server.conftest import ADMIN_PASSWORD, Api, make_project, make_user, sign_in


def test_pages_escape_what_users_typed(client: TestClient, admin: Api) -> None:
    project = make_project(admin, "<script>alert('name')</script>", instructions="<img src=x onerror=alert(1)>")
    page = admin.get(f"/projects/{project['id']}")
    assert page.status_code == 200
    assert "<script>alert(" not in page.text and "&lt;script&gt;alert(" in page.text
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    # Defence in depth: no inline script may run even if something slipped through.
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    annotate = admin.get(f"/projects/{project['id']}/annotate")
    assert "&lt;script&gt;" in annotate.text and "<script>alert(" not in annotate.text


def test_cookie_sessions_need_the_csrf_token(client: TestClient, admin: Api) -> None:
    project = make_project(admin, rows=2)
    url = f"/api/projects/{project['id']}/queue/next"
    raw = admin.client  # the same cookie jar, without the header
    assert raw.post(url).status_code == 403
    assert raw.post(url, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert raw.post(url, headers={"X-CSRF-Token": admin.csrf, "Origin": "https://evil.example"}).status_code == 403
    assert raw.post(url, headers={"X-CSRF-Token": admin.csrf}).status_code == 200
    assert raw.get(f"/api/projects/{project['id']}").status_code == 200  # reads need no token
    # A token in the Authorization header is not sent by browsers on their own: no CSRF token needed.
    user = raw.get("/api/users/me").json()
    token = admin.post(f"/api/users/{user['id']}/token").json()["token"]
    bearer = TestClient(client.app)
    assert bearer.post(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # Login from another site is refused too.
    hostile = TestClient(client.app).post(
        "/api/login", json={"name": "admin", "password": "x"}, headers={"Origin": "https://evil.example"}
    )
    assert hostile.status_code == 403


def test_request_sizes_are_limited(app_factory: Any) -> None:
    client = app_factory(max_body_bytes=64 * 1024, max_upload_bytes=256 * 1024)
    admin = sign_in(client, "admin", ADMIN_PASSWORD)
    huge = {"name": "big", "task": "text", "label_names": ["a"], "instructions": "x" * (100 * 1024)}
    assert admin.post("/api/projects", json=huge).status_code == 413
    project = admin.post("/api/projects", json={"name": "ok", "task": "text", "label_names": ["a"]}).json()
    body = b"id,text\n" + b"".join(b"r%d,%s\n" % (i, b"y" * 100) for i in range(4000))
    assert len(body) > 256 * 1024
    response = admin.post(f"/api/projects/{project['id']}/import/upload", files={"file": ("big.csv", body)})
    assert response.status_code == 413
    small = admin.post(f"/api/projects/{project['id']}/import/upload", files={"file": ("s.csv", body[:10_000])})
    assert small.status_code == 201
    # A body that lies about its length (chunked, no Content-Length) is cut off as it streams in.
    def chunks() -> Any:
        for _ in range(200):
            yield b"x" * 1024

    streamed = admin.client.post(
        "/api/projects", content=chunks(), headers={"X-CSRF-Token": admin.csrf, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


def test_import_paths_cannot_leave_the_import_folder(client: TestClient, admin: Api, tmp_path: Path) -> None:
    project = admin.post("/api/projects", json={"name": "p", "task": "text", "label_names": ["a"]}).json()
    url = f"/api/projects/{project['id']}/import/path"
    secret = tmp_path / "secret.csv"
    secret.write_text("id,text\ns1,secret\n")
    imports = tmp_path / "imports"
    (imports / "ok.csv").write_text("id,text\nr1,fine\n")
    (imports / "link.csv").symlink_to(secret)
    (imports / "linkdir").symlink_to(tmp_path)
    for path in ("../secret.csv", str(secret), "link.csv", "linkdir/secret.csv", "sub/../../secret.csv", "/etc/passwd"):
        response = admin.post(url, json={"path": path})
        assert response.status_code == 403, (path, response.text)
    assert admin.post(url, json={"path": "ok.csv"}).json()["n_added"] == 1
    assert admin.post(url, json={"path": "missing.csv"}).status_code == 422


def test_no_access_across_projects(client: TestClient, admin: Api) -> None:
    mine = make_project(admin, "mine", rows=3)
    theirs = make_project(admin, "theirs", rows=3)
    user = make_user(admin, "eve")
    admin.post(f"/api/projects/{mine['id']}/members", json={"user_id": user["id"]})
    eve = sign_in(client, "eve", "password-123")
    their_record = admin.post(f"/api/projects/{theirs['id']}/queue/next").json()["record"]
    admin.post(f"/api/projects/{theirs['id']}/records/{their_record['id']}/skip")
    my_record = eve.post(f"/api/projects/{mine['id']}/queue/next").json()["record"]

    t, r = theirs["id"], their_record["id"]
    for method, url, body in (
        ("GET", f"/api/projects/{t}", None),
        ("GET", f"/api/projects/{t}/stats", None),
        ("GET", f"/api/projects/{t}/progress", None),
        ("GET", f"/api/projects/{t}/members", None),
        ("GET", f"/api/projects/{t}/records/{r}", None),
        ("GET", f"/api/projects/{t}/records/{r}/media", None),
        ("POST", f"/api/projects/{t}/queue/next", None),
        ("POST", f"/api/projects/{t}/queue/undo", None),
        ("POST", f"/api/projects/{t}/records/{r}/label", {"value": "pos"}),
        ("POST", f"/api/projects/{t}/records/{r}/skip", None),
        ("POST", f"/api/projects/{t}/records/{r}/flag", {"reason": "corrupt"}),
        # Through her own project's URL, another project's record does not exist either.
        ("GET", f"/api/projects/{mine['id']}/records/{r}", None),
        ("POST", f"/api/projects/{mine['id']}/records/{r}/label", {"value": "pos"}),
        ("POST", f"/api/projects/{mine['id']}/records/{r}/skip", None),
        ("POST", f"/api/projects/{mine['id']}/records/{r}/flag", {"reason": "corrupt"}),
    ):
        response = eve.request(method, url, json=body) if body is not None else eve.request(method, url)
        assert response.status_code == 404, (method, url, response.status_code, response.text)
    for url in (f"/api/projects/{t}/export", f"/api/projects/{t}/records", f"/projects/{t}"):
        assert eve.get(url).status_code in (403, 404), url
    # Nothing changed in their project, and Eve's own work goes on.
    progress = admin.get(f"/api/projects/{t}/progress").json()
    assert (progress["n_labels"], progress["n_flagged"], progress["n_skips"]) == (0, 0, 1)
    assert eve.post(f"/api/projects/{mine['id']}/records/{my_record['id']}/label", json={"value": "pos"}).status_code == 201

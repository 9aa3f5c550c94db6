"""The queue's hot routes for token requests (server/routes/_hot.py) answer exactly as FastAPI's routes do."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from loopwise.server._deps import get_services
from tests.server.conftest import Api, make_project, make_user, sign_in
from tests.server.live import ADMIN_PASSWORD

MAX_ID = 2**31 - 1


def _shape(value: Any) -> Any:
    """The answer with its ids and times blurred: two projects' answers compare equal when they say the same."""
    if isinstance(value, dict):
        # Each project serves its own first record (random order): its text is not the point.
        return {key: "text" if key == "payload" else _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return "#"
    return re.sub(r"[0-9]+", "#", str(value))


def _scenario(client: TestClient, token: str, project_id: int, other_project: int) -> list[tuple[Any, ...]]:
    """Every kind of answer the two routes give, each as (status, content type, WWW-Authenticate, blurred body)."""
    auth = {"Authorization": f"Bearer {token}"}
    base = f"/api/projects/{project_id}"
    answers = []

    def send(path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        response = client.post(path, headers={**auth, **(headers or {})}, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        answers.append((response.status_code, response.headers.get("content-type"),
                        response.headers.get("www-authenticate"), _shape(body)))
        return body

    record = send(f"{base}/queue/next")["record"]
    assert send(f"{base}/queue/next")["record"]["id"] == record["id"]  # the same lease again
    label = f"{base}/records/{record['id']}/label"
    send(label, json={"value": "no-such-class"})  # a domain error: 422
    send(label, json={"value": ""})  # the schema refuses it: 422 in FastAPI's words
    send(label, json={"value": "pos", "extra": 1})
    send(label, content=b"{not json", headers={"Content-Type": "application/json"})  # not JSON: 422
    send(label, content=b"value=pos", headers={"Content-Type": "application/x-www-form-urlencoded"})
    send(label, json={"value": "pos"})  # 201
    send(label, json={"value": "pos"})  # labelled already: 409
    send(f"{base}/records/{MAX_ID}/label", json={"value": "pos"})  # no such record: 404
    send(f"{base}/records/{MAX_ID + 1}/label", json={"value": "pos"})  # past the id range: 422
    send(f"/api/projects/{MAX_ID + 1}/queue/next")
    send(f"/api/projects/{other_project}/queue/next")  # not a member: 404
    send(f"{base}/queue/next", headers={"Authorization": "Bearer wrong-token"})  # 401 with WWW-Authenticate
    send(f"{base}/queue/next", headers={"Authorization": "Basic abc"})
    send(f"{base}/queue/nextt")
    return answers


def test_token_requests_on_the_hot_routes_get_the_answers_fastapi_gives(client: TestClient, admin: Api) -> None:
    user = make_user(admin, "hot")
    token = admin.post(f"/api/users/{user['id']}/token").json()["token"]
    fast, slow, other = (make_project(admin, name, rows=6) for name in ("fast", "slow", "other"))
    for project in (fast, slow):
        assert admin.post(f"/api/projects/{project['id']}/members", json={"user_id": user["id"]}).status_code in (200, 201)
    app: Any = client.app
    before = app.state.hot_answered
    direct = _scenario(client, token, fast["id"], other["id"])
    answered = app.state.hot_answered - before
    # With a dependency overridden (as a test would), every request goes through FastAPI's routes.
    app.dependency_overrides[get_services] = lambda: app.state.services
    try:
        through_fastapi = _scenario(client, token, slow["id"], other["id"])
        assert app.state.hot_answered - before == answered
    finally:
        app.dependency_overrides.clear()
    assert answered >= 8  # the plain requests, the domain errors and the bad token were answered directly
    assert [a[0] for a in direct] == [200, 200, 422, 422, 422, 422, 422, 201, 409, 404, 422, 422, 404, 401, 401, 404]
    assert direct == through_fastapi


def test_a_token_and_a_member_made_by_another_server_process_work_at_once(app_factory: Any) -> None:
    """Tokens and members are read in bulk every few seconds; ones made since (here by a second app) are
    looked up on their own."""
    first, second = app_factory(), app_factory()
    admin_first, admin_second = sign_in(first, "admin", ADMIN_PASSWORD), sign_in(second, "admin", ADMIN_PASSWORD)
    project = make_project(admin_first, rows=4)
    old = make_user(admin_first, "early")
    admin_first.post(f"/api/projects/{project['id']}/members", json={"user_id": old["id"]})
    early = admin_first.post(f"/api/users/{old['id']}/token").json()["token"]
    next_url = f"/api/projects/{project['id']}/queue/next"
    assert first.post(next_url, headers={"Authorization": f"Bearer {early}"}).status_code == 200  # tokens now cached
    new = make_user(admin_second, "late")
    admin_second.post(f"/api/projects/{project['id']}/members", json={"user_id": new["id"]})
    late = admin_second.post(f"/api/users/{new['id']}/token").json()["token"]
    assert first.post(next_url, headers={"Authorization": f"Bearer {late}"}).status_code == 200

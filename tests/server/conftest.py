"""Server tests: the app in-process over SQLite and PostgreSQL (store_url), or a real server subprocess."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from loopwise.server import ServerSettings, create_app
from tests.dbfixtures import postgres_admin, store_url  # noqa: F401  (pytest fixtures)

from tests.server.live import ADMIN_PASSWORD  # noqa: E402


class Api:
    """A TestClient signed in as someone, sending the CSRF header of their session."""

    def __init__(self, client: TestClient, csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Any:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)


@pytest.fixture
def app_factory(store_url: str, tmp_path: Path) -> Iterator[Any]:  # noqa: F811
    """Build apps over one fresh database (a SQLite file, or a PostgreSQL schema)."""
    (tmp_path / "imports").mkdir()
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        settings = ServerSettings(
            db=store_url, artifacts_dir=tmp_path / "artifacts", import_dir=tmp_path / "imports",
            admin_password=ADMIN_PASSWORD, train_in_subprocess=False, secret_key="x" * 32, **overrides,
        )
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(app_factory: Any) -> TestClient:
    return app_factory()  # type: ignore[no-any-return]


def sign_in(client: TestClient, name: str, password: str) -> Api:
    fresh = TestClient(client.app)
    response = fresh.post("/api/login", json={"name": name, "password": password})
    assert response.status_code == 200, response.text
    return Api(fresh, response.json()["csrf_token"])


@pytest.fixture
def admin(client: TestClient) -> Api:
    return sign_in(client, "admin", ADMIN_PASSWORD)


def make_user(admin: Api, name: str, role: str = "annotator", password: str = "password-123") -> dict[str, Any]:
    response = admin.post("/api/users", json={"name": name, "role": role, "password": password})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def make_project(admin: Api, name: str = "reviews", *, rows: int = 12, test_rows: int = 0, **settings: Any) -> dict[str, Any]:
    # TF-IDF unless a test asks for another learner: these tests are about the API, and the text default
    # (minilm, when installed) costs seconds per retrain; tests/server/test_learners_on_server.py covers it.
    body = {"name": name, "task": "text", "label_names": ["pos", "neg"], "instructions": "Is it positive?",
            "learner": "logreg", **settings}
    response = admin.post("/api/projects", json=body)
    assert response.status_code == 201, response.text
    project = response.json()
    lines = ["id,text,label,split"]
    for i in range(rows):
        lines.append(f"r{i},{'great lovely fine' if i % 2 else 'awful bad poor'} item {i},,")
    for i in range(test_rows):
        lines.append(f"t{i},{'great lovely' if i % 2 else 'awful bad'} test {i},{'pos' if i % 2 else 'neg'},test")
    imported = admin.post(
        f"/api/projects/{project['id']}/import/upload",
        files={"file": ("records.csv", "\n".join(lines).encode(), "text/csv")},
    )
    assert imported.status_code == 201, imported.text
    return project  # type: ignore[no-any-return]


def truth(record: dict[str, Any]) -> str:
    return "pos" if "great" in record["payload"]["text"] else "neg"

"""An export's file name is ASCII whatever the project is called: it travels in a Latin-1 header."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.server.conftest import Api, make_project


def test_a_project_named_outside_latin1_exports_under_an_ascii_file_name(client: TestClient, admin: Api) -> None:
    pid = make_project(admin, name="ꁰ reviews é", rows=2)["id"]
    response = admin.get(f"/api/projects/{pid}/export?format=csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="__reviews__.csv"'

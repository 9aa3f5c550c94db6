"""Sessions survive restarts (a secret kept with the store) and sign-in returns to the page you came from."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from loopwise.server import ServerSettings, create_app
from loopwise.server._security import SECRET_FILE, safe_next, session_secret
from tests.server.live import ADMIN_PASSWORD, LiveServer, admin_client
from tests.server.test_browser import browser  # noqa: F401  (the module's Chromium fixture)


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/x", "javascript:alert(1)",
     "projects/1", "", None, "/login?next=/x", "/a\nb", "\\\\evil"],
)
def test_next_refuses_anything_but_a_path_on_this_site(target: str | None) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/", "/projects/3/annotate", "/projects/3?tab=labels", "/users"])
def test_next_keeps_a_path_on_this_site(target: str) -> None:
    assert safe_next(target) == target


def test_the_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first, kept = session_secret(None, tmp_path / "artifacts")
    again, kept_again = session_secret(None, tmp_path / "artifacts")
    assert kept and kept_again and first == again and len(first) >= 32
    assert (tmp_path / "artifacts" / SECRET_FILE).stat().st_mode & 0o077 == 0
    assert session_secret("a-configured-secret-key", tmp_path / "artifacts") == ("a-configured-secret-key", True)


def test_a_secret_that_cannot_be_kept_is_ephemeral(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the artifact folder should be")
    first, kept = session_secret(None, blocker)
    second, _ = session_secret(None, blocker)
    assert not kept and first != second


def test_an_ephemeral_secret_is_warned_about(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "artifacts"
    blocker.mkdir()
    (blocker / SECRET_FILE).mkdir()  # the secret's place is taken by a folder: it cannot be read
    settings = ServerSettings(
        db=f"sqlite:///{tmp_path / 's.db'}", artifacts_dir=blocker, admin_password=ADMIN_PASSWORD, learn=False,
    )
    with TestClient(create_app(settings)):
        pass
    assert "sessions end when the server stops" in capsys.readouterr().err


def test_a_session_outlives_the_app_that_signed_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = ServerSettings(
        db=f"sqlite:///{tmp_path / 's.db'}", artifacts_dir=tmp_path / "artifacts", admin_password=ADMIN_PASSWORD,
        learn=False,
    )
    with TestClient(create_app(settings)) as before:
        assert before.post("/api/login", json={"name": "admin", "password": ADMIN_PASSWORD}).status_code == 200
        cookies = dict(before.cookies)
    with TestClient(create_app(settings), cookies=cookies) as after:
        response = after.get("/api/session")
        assert response.status_code == 200, response.text
        assert response.json()["user"]["name"] == "admin"
    assert "sessions end" not in capsys.readouterr().err


def test_the_login_page_keeps_only_a_safe_next(tmp_path: Path) -> None:
    settings = ServerSettings(
        db=f"sqlite:///{tmp_path / 's.db'}", artifacts_dir=tmp_path / "artifacts", admin_password=ADMIN_PASSWORD,
        learn=False,
    )
    with TestClient(create_app(settings)) as client:
        redirect = client.get("/projects/7/annotate", follow_redirects=False)
        assert redirect.status_code == 303
        assert redirect.headers["location"] == "/login?next=%2Fprojects%2F7%2Fannotate"
        assert 'data-next="/projects/7/annotate"' in client.get(redirect.headers["location"]).text
        assert 'data-next="/"' in client.get("/login", params={"next": "https://evil.example/"}).text


@pytest.fixture(scope="module")
def restartable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    workdir = tmp_path_factory.mktemp("sessions")
    # No LOOPWISE_SECRET_KEY: the server keeps its own secret with the store.
    server = LiveServer(f"sqlite:///{workdir / 'sessions.db'}", workdir, secret_key=None)
    with server, admin_client(server) as admin:
        project = admin.post(
            "/api/projects", json={"name": "restart", "task": "text", "label_names": ["yes", "no"], "retrain_every": 1000}
        ).json()
        admin.post(
            f"/api/projects/{project['id']}/import/upload",
            files={"file": ("r.csv", b"id,text\nr1,first record\nr2,second record\n", "text/csv")},
        ).raise_for_status()
        yield server, int(project["id"])


@pytest.mark.slow
def test_sign_in_after_a_restart_lands_on_the_annotate_page(restartable: tuple[LiveServer, int], browser: object) -> None:  # noqa: F811
    server, project_id = restartable
    annotate = f"{server.url}/projects/{project_id}/annotate"
    kept = browser.new_context()  # type: ignore[attr-defined]
    fresh = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = kept.new_page()
        page.goto(f"{server.url}/login")
        page.fill("#login-name", "admin")
        page.fill("#login-password", ADMIN_PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(f"{server.url}/")

        server.stop()
        server.start()
        assert "sessions end when the server stops" not in server.log()

        # The cookie signed before the restart is still good: the annotate page, not the sign-in page.
        page.goto(annotate)
        assert page.url == annotate
        expect(page.locator("#record-body")).to_contain_text("record")

        # Signed out (a new browser): sent to sign in, then back to the annotate page.
        other = fresh.new_page()
        other.goto(annotate)
        other.wait_for_url(f"{server.url}/login?next=*")
        other.fill("#login-name", "admin")
        other.fill("#login-password", ADMIN_PASSWORD)
        other.click("#login-submit")
        other.wait_for_url(annotate)
        expect(other.locator("#record-body")).to_contain_text("record")
        assert httpx.get(f"{server.url}/login", params={"next": "//evil.example"}).text.count('data-next="/"') == 1
    finally:
        kept.close()
        fresh.close()

"""The create-project form in real headless Chromium: a bad file leaves no project behind (issue 8, defect 6).

Before, the form created the project and then uploaded its file in a second request: a refused
file left a half-made project, and submitting again said "already exists".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.server.live import ADMIN_PASSWORD, LiveServer, admin_client
from tests.server.test_browser import ARGS, CHROMIUM

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, httpx.Client]]:
    workdir = tmp_path_factory.mktemp("browser-create")
    with LiveServer(f"sqlite:///{workdir / 'ui.db'}", workdir) as server, admin_client(server) as admin:
        yield server, admin


def test_a_bad_file_in_the_create_form_leaves_no_project(live: tuple[LiveServer, httpx.Client]) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run .ci/chromium.sh (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    server, admin = live
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{server.url}/login")
            page.fill("#login-name", "admin")
            page.fill("#login-password", ADMIN_PASSWORD)
            page.click("#login-submit")
            page.wait_for_url(f"{server.url}/")

            page.fill("#project-form input[name=name]", "reviews")
            page.fill("#project-form input[name=label_names]", "pos, neg")
            page.set_input_files(
                "#project-form input[name=file]",
                files=[{"name": "records.csv", "mimeType": "text/csv", "buffer": b"id,body\n1,great\n2,awful\n"}],
            )
            page.click("#project-form button[type=submit]")
            # The first create request imports the learners and strategies (seconds on a busy machine).
            expect(page.locator("#status")).to_contain_text("no text column 'text'", timeout=60_000)
            assert admin.get("/api/projects").json()["count"] == 0

            page.set_input_files(
                "#project-form input[name=file]",
                files=[{"name": "records.csv", "mimeType": "text/csv", "buffer": b"id,text\n1,great\n2,awful\n"}],
            )
            page.click("#project-form button[type=submit]")
            page.wait_for_url(f"{server.url}/projects/*")
            projects = admin.get("/api/projects").json()["data"]
            assert [p["name"] for p in projects] == ["reviews"]
            assert admin.get(f"/api/projects/{projects[0]['id']}/progress").json()["n_pool"] == 2
        finally:
            browser.close()

"""/api/docs in real headless Chromium: Swagger UI renders the operations from assets the server itself serves.

There is no internet on the test machine, so a page that still fetched its assets from a CDN, or
that the server's own CSP blocked, would show no operations.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.server.live import LiveServer
from tests.server.test_browser import browser  # noqa: F401  (the module's Chromium fixture)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("api-docs")
    with LiveServer(f"sqlite:///{workdir / 'docs.db'}", workdir) as server:
        yield server


def test_api_docs_render_the_operations_offline(live: LiveServer, browser: object) -> None:  # noqa: F811
    page = browser.new_page()  # type: ignore[attr-defined]
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(live.url) else None)
    try:
        page.goto(f"{live.url}/api/docs")
        # Swagger UI has read /api/openapi.json and drawn one block per operation.
        expect(page.locator(".opblock-summary-path", has_text="/api/projects/{project_id}/queue/next")).to_be_visible()
        expect(page.locator(".opblock-summary-path", has_text="/api/login").first).to_be_visible()
        assert page.locator(".opblock").count() >= 20
        assert outside == [], f"the docs page fetched from outside the server: {outside}"
        assert blocked == [], f"the CSP blocked part of the docs page: {blocked}"
    finally:
        page.close()


def test_api_docs_assets_come_from_the_server(live: LiveServer) -> None:
    import httpx

    page = httpx.get(f"{live.url}/api/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "cdn" not in page.text.lower()
    script = httpx.get(f"{live.url}/api/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text

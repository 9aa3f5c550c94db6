"""The annotation UI in real headless Chromium (Debian's; Playwright drives it), against a real server.

Sign in, label three records with the keyboard, skip, undo, and watch the progress change; a record
holding an XSS payload is shown as text.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server.live import ADMIN_PASSWORD, LiveServer, admin_client, make_annotators

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run .ci/chromium.sh (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, int]]]:
    workdir = tmp_path_factory.mktemp("browser")
    with LiveServer(f"sqlite:///{workdir / 'ui.db'}", workdir) as live, admin_client(live) as admin:
        ids = {}
        text = admin.post(
            "/api/projects",
            json={"name": "Reviews <b>bold</b>", "task": "text", "label_names": ["positive", "negative"],
                  "instructions": "Label the sentiment. <script>window.__xss=3</script>", "retrain_every": 1000},
        ).json()
        rows = "id,text\n" + "\n".join(f"r{i},review number {i} " + ("long text " * 200 if i == 0 else "") for i in range(8))
        admin.post(f"/api/projects/{text['id']}/import/upload", files={"file": ("r.csv", rows.encode(), "text/csv")}).raise_for_status()
        hostile = admin.post(
            "/api/projects", json={"name": "hostile", "task": "text", "label_names": ["ok", "bad"]}
        ).json()
        jsonl = '{"id": "x1", "text": %s}' % __import__("json").dumps(XSS)
        admin.post(f"/api/projects/{hostile['id']}/import/upload", files={"file": ("x.jsonl", jsonl.encode())}).raise_for_status()
        make_annotators(admin, text["id"], 1, prefix="dana")
        user_id = admin.get("/api/users").json()["data"][-1]["id"]
        admin.post(f"/api/projects/{hostile['id']}/members", json={"user_id": user_id}).raise_for_status()
        ids["text"], ids["hostile"] = text["id"], hostile["id"]
        yield live, ids


def _sign_in(page: object, url: str, name: str, password: str) -> None:
    page.goto(f"{url}/login")  # type: ignore[attr-defined]
    page.fill("#login-name", name)  # type: ignore[attr-defined]
    page.fill("#login-password", password)  # type: ignore[attr-defined]
    page.click("#login-submit")  # type: ignore[attr-defined]
    page.wait_for_url(f"{url}/")  # type: ignore[attr-defined]


def _open_annotate(browser: Any, url: str, pid: int, name: str, password: str = "password-0") -> tuple[Any, list[str]]:
    """A new page signed in as ``name`` on project ``pid``'s annotate page, once it is ready, and the page errors it collects."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, url, name, password)
    page.goto(f"{url}/projects/{pid}/annotate")
    page.wait_for_selector("body[data-ready='1']")
    return page, errors


def _done(page: object) -> int:
    return int(page.text_content("#n-done"))  # type: ignore[attr-defined]


def _wait_done(page: object, value: int) -> None:
    # Locator assertions, not wait_for_function: the pages' CSP forbids evaluating strings as script.
    expect(page.locator("#n-done")).to_have_text(str(value))  # type: ignore[attr-defined]


def _wait_new_record(page: object, previous: str) -> None:
    expect(page.locator("#record-meta")).not_to_have_attribute("data-record-id", previous)  # type: ignore[attr-defined]


def _record(page: object) -> str:
    return str(page.get_attribute("#record-meta", "data-record-id"))  # type: ignore[attr-defined]


def test_sign_in_label_with_the_keyboard_skip_undo_and_see_progress(browser: object, server: tuple[LiveServer, dict[str, int]]) -> None:
    live, ids = server
    page = browser.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, live.url, "dana0", "password-0")
    expect(page.locator("#projects tbody tr")).to_have_count(2)  # dana belongs to both projects, no more
    page.click(f"a[href='/projects/{ids['text']}/annotate']")
    page.wait_for_selector("body[data-ready='1']")
    assert page.text_content("#n-pool") == "8" and _done(page) == 0
    seen = [_record(page)]
    for key, expected in (("1", 1), ("2", 2), ("1", 3)):
        page.keyboard.press(key)
        _wait_done(page, expected)
        _wait_new_record(page, seen[-1])
        seen.append(_record(page))
    assert len(set(seen)) == 4
    expect(page.locator("#n-mine")).to_have_text("3")

    before_skip = _record(page)
    page.keyboard.press("s")
    _wait_new_record(page, before_skip)
    expect(page.locator("#n-skips")).to_have_text("1")
    assert _done(page) == 3

    page.keyboard.press("u")  # undo takes back the last action: the skip
    expect(page.locator("#record-meta")).to_have_attribute("data-record-id", before_skip)
    assert _done(page) == 3
    page.keyboard.press("u")  # and then the label before it
    _wait_done(page, 2)
    expect(page.locator("#record-meta")).to_have_attribute("data-record-id", seen[2])  # the last labelled record is back, to label again
    expect(page.locator("#n-mine")).to_have_text("2")
    page.keyboard.press("2")
    _wait_done(page, 3)
    assert not errors, errors

    # The dashboard shows the same progress, and escapes the project's name and instructions.
    page.goto(f"{live.url}/projects/{ids['text']}")
    page.wait_for_selector("#progress-figures dd")
    assert page.text_content("#project-name") == "Reviews <b>bold</b>"
    assert page.locator("#project-name b").count() == 0
    assert page.evaluate("window.__xss") is None
    page.close()


def test_an_xss_payload_in_a_record_stays_text(browser: object, server: tuple[LiveServer, dict[str, int]]) -> None:
    live, ids = server
    page = browser.new_page()  # type: ignore[attr-defined]
    _sign_in(page, live.url, "dana0", "password-0")
    page.goto(f"{live.url}/projects/{ids['hostile']}/annotate")
    page.wait_for_selector("body[data-ready='1']")
    assert page.text_content("#record-text") == XSS
    assert page.locator("#record-body img").count() == 0
    assert page.locator("#record-body script").count() == 0
    assert page.evaluate("window.__xss") is None
    page.close()

"""The annotate page in real headless Chromium against a real server: accepting the model's suggestion with
Enter, changing an earlier label from the history, a skipped record coming back, and twelve classes by keyboard."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.server.live import LiveServer, admin_client, make_annotators
from tests.server.test_browser import _open_annotate, _record, _wait_new_record, browser  # noqa: F401  (browser: a fixture)

pytestmark = pytest.mark.slow
TWELVE = [str(i) for i in range(12)]


def _project(admin: httpx.Client, name: str, label_names: list[str], rows: int, **settings: Any) -> int:
    project = admin.post("/api/projects", json={"name": name, "task": "text", "label_names": label_names, **settings})
    project.raise_for_status()
    pid = int(project.json()["id"])
    body = "id,text\n" + "\n".join(f"{name}{i},{'great lovely fine' if i % 2 else 'awful bad poor'} {i}" for i in range(rows))
    admin.post(f"/api/projects/{pid}/import/upload", files={"file": ("r.csv", body.encode(), "text/csv")}).raise_for_status()
    return pid


def _wait_for_a_loop(admin: httpx.Client, pid: int, timeout: float = 120.0) -> None:
    """Poll (bounded) until a retrain has recorded a loop and the worker is idle again."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = admin.get(f"/api/projects/{pid}/stats").json()
        if stats["loops"] and not stats["training"]:
            return
        time.sleep(0.1)
    raise AssertionError(f"no retrain of project {pid} within {timeout} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, int]]]:
    workdir = tmp_path_factory.mktemp("browser-annotate")
    with LiveServer(f"sqlite:///{workdir / 'ui.db'}", workdir) as live, admin_client(live) as admin:
        ids = {
            "suggest": _project(admin, "suggest", ["pos", "neg"], 12, retrain_every=4),
            "skips": _project(admin, "skips", ["pos", "neg"], 3, retrain_every=1000),
            "twelve": _project(admin, "twelve", TWELVE, 8, retrain_every=1000),
        }
        make_annotators(admin, ids["suggest"], 1, prefix="eve")
        eve = admin.get("/api/users").json()["data"][-1]["id"]
        for key in ("skips", "twelve"):
            admin.post(f"/api/projects/{ids[key]}/members", json={"user_id": eve}).raise_for_status()
        # Four labels from the admin, then a retrain: the records Eve is served carry a suggestion.
        for _ in range(4):
            record = admin.post(f"/api/projects/{ids['suggest']}/queue/next").json()["record"]
            value = "pos" if "great" in record["payload"]["text"] else "neg"
            admin.post(f"/api/projects/{ids['suggest']}/records/{record['id']}/label", json={"value": value}).raise_for_status()
        _wait_for_a_loop(admin, ids["suggest"])
        yield live, ids


def _open(browser: Any, live: LiveServer, pid: int) -> tuple[Any, list[str]]:
    return _open_annotate(browser, live.url, pid, "eve0")


def _history(page: Any, live: LiveServer, pid: int) -> list[dict[str, Any]]:
    """Eve's history through the API, with the page's own session cookie."""
    return page.request.get(f"{live.url}/api/projects/{pid}/history").json()["data"]  # type: ignore[no-any-return]


def test_enter_accepts_the_suggestion_and_an_earlier_label_is_changed_from_the_history(
    browser: Any, server: tuple[LiveServer, dict[str, int]]  # noqa: F811
) -> None:
    live, ids = server
    pid = ids["suggest"]
    page, errors = _open(browser, live, pid)
    expect(page.locator("#suggestion")).to_be_visible()
    expect(page.locator("#why")).to_contain_text("in loop 0")
    suggested = page.get_attribute("#labels button.suggested", "data-label")
    assert suggested in ("pos", "neg")
    expect(page.locator("#suggestion")).to_contain_text(f"Suggested: {suggested} (")
    first = _record(page)
    page.keyboard.press("Enter")
    _wait_new_record(page, first)
    expect(page.locator("#n-mine")).to_have_text("1")
    expect(page.locator("#history-list li").first).to_have_attribute("data-record-id", first)
    assert [(h["record_id"], h["value"]) for h in _history(page, live, pid)] == [(int(first), suggested)]

    # Reopen that label from the history panel and change it with the other class's key.
    other = "neg" if suggested == "pos" else "pos"
    page.click(f"#history-list li[data-record-id='{first}'] button.reopen")
    expect(page.locator("#editing")).to_be_visible()
    expect(page.locator("#record-meta")).to_have_attribute("data-record-id", first)
    expect(page.locator("#labels button.current")).to_have_attribute("data-label", suggested)
    page.keyboard.press("1" if other == "pos" else "2")
    expect(page.locator("#editing")).to_be_hidden()
    expect(page.locator("#history-list li").first).to_contain_text(f"→ {other}")
    history = _history(page, live, pid)
    assert [(h["record_id"], h["value"], h["state"]) for h in history] == [
        (int(first), other, "current"), (int(first), suggested, "replaced")]
    expect(page.locator("#n-mine")).to_have_text("1")  # changed, not added
    assert not errors, errors
    page.close()


def test_a_skipped_record_comes_back_and_undo_takes_back_the_skip(browser: Any, server: tuple[LiveServer, dict[str, int]]) -> None:  # noqa: F811
    live, ids = server
    page, errors = _open(browser, live, ids["skips"])
    skipped = _record(page)
    page.keyboard.press("s")
    _wait_new_record(page, skipped)
    page.keyboard.press("u")  # undo undoes the skip, not an earlier label
    expect(page.locator("#record-meta")).to_have_attribute("data-record-id", skipped)
    expect(page.locator("#status")).to_have_text("Skip undone: the record is back.")
    page.keyboard.press("s")
    _wait_new_record(page, skipped)
    for _ in range(2):
        before = _record(page)
        page.keyboard.press("1")
        _wait_new_record(page, before)
    expect(page.locator("#record-meta")).to_have_attribute("data-record-id", skipped)  # back at the end
    expect(page.locator("#n-done")).to_have_text("2")
    assert not errors, errors
    page.close()


def test_twelve_classes_by_keyboard_bound_to_positions(browser: Any, server: tuple[LiveServer, dict[str, int]]) -> None:  # noqa: F811
    live, ids = server
    pid = ids["twelve"]
    page, errors = _open(browser, live, pid)
    keys = [page.text_content(f"#labels button[data-position='{i}'] kbd") for i in range(12)]
    assert keys == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c"]
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    expect(page.locator("#help-keys li")).to_have_count(12)
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()
    # Key 1 is the first button, class "0"; key "a" the tenth, class "9"; "c" the twelfth, class "11".
    for key in ("1", "9", "a", "c"):
        before = _record(page)
        page.keyboard.press(key)
        _wait_new_record(page, before)
    # Type-ahead: "/" focuses the search, Enter labels the first class that matches.
    before = _record(page)
    page.keyboard.press("/")
    page.keyboard.type("10")
    expect(page.locator("#labels button:not([hidden])")).to_have_count(1)
    page.keyboard.press("Enter")
    _wait_new_record(page, before)
    expect(page.locator("#n-mine")).to_have_text("5")
    assert [h["value"] for h in reversed(_history(page, live, pid))] == ["0", "8", "9", "11", "10"]
    assert not errors, errors
    page.close()

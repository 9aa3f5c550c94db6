"""The admin console in real headless Chromium against a real server: change the strategy (and see a refused
one's message by its field), pause and resume, search and filter records, adjudicate a disagreement,
deactivate a user; and the dashboard's learning curve with its caption and notes."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.server.live import LiveServer, admin_client, make_annotators
from tests.server.test_browser import ADMIN_PASSWORD, _sign_in, browser  # noqa: F401  (pytest fixture)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, httpx.Client, dict[str, Any]]]:
    """A text project with k = 2, 12 records, and one record two annotators labelled differently."""
    workdir = tmp_path_factory.mktemp("browser-admin")
    with LiveServer(f"sqlite:///{workdir / 'ui.db'}", workdir) as live, admin_client(live) as admin:
        project = admin.post(
            "/api/projects",
            json={"name": "console", "task": "text", "label_names": ["pos", "neg"], "labels_per_record": 2,
                  "retrain_every": 1000},
        ).json()
        pid = project["id"]
        rows = "id,text\n" + "\n".join(f"r{i},{'sunny' if i % 3 == 0 else 'cloudy'} day number {i}" for i in range(12))
        admin.post(f"/api/projects/{pid}/import/upload", files={"file": ("r.csv", rows.encode(), "text/csv")}).raise_for_status()
        tokens = make_annotators(admin, pid, 2, prefix="ann")
        clients = [httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {t}"}) for t in tokens]
        try:
            record = clients[0].post(f"/api/projects/{pid}/queue/next").json()["record"]
            assert clients[1].post(f"/api/projects/{pid}/queue/next").json()["record"]["id"] == record["id"]
            for client, value in zip(clients, ("pos", "neg")):
                client.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": value}).raise_for_status()
        finally:
            for client in clients:
                client.close()
        yield live, admin, {"project": pid, "record": record, "strategy": project["settings"]["strategy"]}


def _console(browser: Any, live: LiveServer, pid: int) -> tuple[Any, list[str]]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, live.url, "admin", ADMIN_PASSWORD)
    page.goto(f"{live.url}/projects/{pid}/admin")
    page.wait_for_selector("body[data-ready='1']")
    return page, errors


def test_the_admin_changes_the_strategy_and_pauses_the_project(browser: Any, console: Any) -> None:  # noqa: F811
    live, admin, ids = console
    pid = ids["project"]
    page, errors = _console(browser, live, pid)
    page.fill("#settings-form input[name=strategy]", "nosuch")
    page.click("#settings-save")
    expect(page.locator("[data-error-for=strategy]")).to_contain_text("nosuch")
    assert admin.get(f"/api/projects/{pid}").json()["settings"]["strategy"] == ids["strategy"]  # refused: unchanged

    page.fill("#settings-form input[name=strategy]", "entropy")
    page.fill("#settings-form input[name=batch_size]", "5")
    page.click("#settings-save")
    expect(page.locator("#status")).to_contain_text("strategy entropy")
    expect(page.locator("[data-error-for=strategy]")).to_have_text("")
    settings = admin.get(f"/api/projects/{pid}").json()["settings"]
    assert (settings["strategy"], settings["batch_size"]) == ("entropy", 5)

    page.click("#pause-toggle")
    expect(page.locator("#project-status")).to_have_text("stopped")
    assert admin.get(f"/api/projects/{pid}").json()["status"] == "stopped"
    page.click("#pause-toggle")
    expect(page.locator("#project-status")).to_have_text("active")
    assert admin.get(f"/api/projects/{pid}").json()["status"] == "active"
    assert not errors, errors
    page.close()


def test_the_admin_searches_and_filters_records(browser: Any, console: Any) -> None:  # noqa: F811
    live, _admin, ids = console
    page, errors = _console(browser, live, ids["project"])
    expect(page.locator("#records-count")).to_have_text("1–12 of 12 records")
    page.fill("#record-q", "SUNNY")
    page.click("#record-search-submit")
    expect(page.locator("#records-count")).to_have_text("1–4 of 4 records")
    expect(page.locator("#records tbody tr")).to_have_count(4)

    page.fill("#record-q", "")
    page.select_option("#record-status", "disagreed")
    page.click("#record-search-submit")
    expect(page.locator("#records tbody tr")).to_have_count(1)
    row = page.locator("#records tbody tr")
    expect(row.locator(".labels-cell")).to_have_text("ann0: pos, ann1: neg")
    page.select_option("#record-status", "")
    page.select_option("#record-label", "neg")
    page.fill("#record-annotator", "ann0")
    page.click("#record-search-submit")
    expect(page.locator("#records-count")).to_have_text("no record matches")
    page.fill("#record-annotator", "ann1")
    page.click("#record-search-submit")
    expect(page.locator("#records tbody tr")).to_have_count(1)
    page.locator("#records tbody tr .history-button").click()
    expect(page.locator("#record-history tbody tr")).to_have_count(2)
    assert not errors, errors
    page.close()


def test_the_admin_adjudicates_a_disagreement(browser: Any, console: Any) -> None:  # noqa: F811
    live, admin, ids = console
    pid, record = ids["project"], ids["record"]
    page, errors = _console(browser, live, pid)
    row = page.locator(f"#disagreement-list tr[data-record-id='{record['id']}']")
    expect(row.locator(".decided")).to_have_text("–")
    row.locator("button[data-adjudicate='neg']").click()
    expect(page.locator(f"#disagreement-list tr[data-record-id='{record['id']}'] .decided")).to_have_text("neg")
    history = admin.get(f"/api/projects/{pid}/records/{record['id']}/history").json()["data"]
    assert [(h["kind"], h["value"]) for h in history][-1] == ("adjudicate", "neg")
    export = csv.DictReader(io.StringIO(admin.get(f"/api/projects/{pid}/export?format=csv").text))
    assert [(row["id"], row["label"], row["annotator"]) for row in export if row["label"]] == [(record["external_id"], "neg", "admin")]
    assert not errors, errors
    page.close()


def test_the_admin_deactivates_a_user_who_then_cannot_sign_in(browser: Any, console: Any) -> None:  # noqa: F811
    live, admin, _ids = console
    admin.post("/api/users", json={"name": "eve", "role": "annotator", "password": "password-eve"}).raise_for_status()
    page = browser.new_page()
    _sign_in(page, live.url, "admin", ADMIN_PASSWORD)
    page.goto(f"{live.url}/users")
    page.wait_for_selector("body[data-ready='1']")
    page.locator("tr[data-user='eve'] button.deactivate").click()
    expect(page.locator("tr[data-user='eve'] .active-state")).to_have_text("deactivated")
    refused = httpx.post(f"{live.url}/api/login", json={"name": "eve", "password": "password-eve"})
    assert refused.status_code == 401 and "deactivated" in refused.json()["detail"]
    page.close()


def test_the_dashboard_shows_cross_validation_notes(browser: Any, console: Any) -> None:  # noqa: F811
    live, admin, ids = console
    pid = ids["project"]
    page = browser.new_page()
    _sign_in(page, live.url, "admin", ADMIN_PASSWORD)
    page.goto(f"{live.url}/projects/{pid}")
    # Retrains on one labelled record: cross-validation cannot run, and the page says so.
    admin.post(f"/api/projects/{pid}/retrain").raise_for_status()
    expect(page.locator("#curve-notes li")).to_contain_text("too few labels per class for cross-validation", timeout=60_000)
    expect(page.locator("#curve-caption")).to_contain_text(re.compile(r"\d+ retrains? so far, none with an accuracy yet"))
    expect(page.locator("#curve-svg")).to_have_count(0)
    page.close()


def test_the_dashboard_draws_a_full_width_curve_with_axes(browser: Any, console: Any) -> None:  # noqa: F811
    live, admin, _ids = console
    project = admin.post(
        "/api/projects", json={"name": "curve", "task": "text", "label_names": ["pos", "neg"], "retrain_every": 1000}
    ).json()
    pid = project["id"]
    rows = ["id,text,label,split"] + [f"r{i},{'good fine' if i % 2 else 'bad poor'} {i},," for i in range(8)]
    rows += [f"t{i},{'good' if i % 2 else 'bad'} test {i},{'pos' if i % 2 else 'neg'},test" for i in range(4)]
    admin.post(f"/api/projects/{pid}/import/upload", files={"file": ("r.csv", "\n".join(rows).encode(), "text/csv")}).raise_for_status()
    for _ in range(4):
        record = admin.post(f"/api/projects/{pid}/queue/next").json()["record"]
        value = "pos" if "good" in record["payload"]["text"] else "neg"
        admin.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": value}).raise_for_status()
    admin.post(f"/api/projects/{pid}/retrain").raise_for_status()
    page = browser.new_page()
    _sign_in(page, live.url, "admin", ADMIN_PASSWORD)
    page.goto(f"{live.url}/projects/{pid}")
    expect(page.locator("#curve-svg circle.model")).to_have_count(1, timeout=60_000)
    expect(page.locator("#curve-caption")).to_contain_text("accuracy on the held-out test set (4 records), after each of 1 of 1 retrain")
    expect(page.locator("#curve-svg text.axis-title")).to_have_text(["labelled records", "accuracy"])
    expect(page.locator("#curve-svg text.x-tick").last).to_have_text("4")
    # Full width: the curve's card spans the page's content, not one grid column.
    card, main = page.locator(".curve-card").bounding_box(), page.locator("main").bounding_box()
    assert card["width"] > 0.9 * (main["width"] - 32)
    page.close()

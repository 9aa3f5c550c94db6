"""Learners on the server in real headless Chromium, against a real `loopwise serve`.

(a) the create form refuses a learner the project's data cannot feed, with the reason; (b) a retrain
that fails for real is shown on the dashboard, and its retry button works once the data allows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.server.live import ADMIN_PASSWORD, LiveServer, admin_client
from tests.server.test_browser import _sign_in, browser  # noqa: F401  (browser: a pytest fixture)
from tests.server.test_learners_on_server import NO_WORDS, WORDS

pytestmark = pytest.mark.slow

# Ceilings for conditions the tests wait for, never sleeps: a retrain in the server's niced child
# (importing scikit-learn, or torch and the sentence model) can take long on a busy machine.
REQUEST_CEILING_MS = 120_000
RETRAIN_CEILING_S = 600.0


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, httpx.Client]]:
    workdir = tmp_path_factory.mktemp("browser-learners")
    with LiveServer(f"sqlite:///{workdir / 'ui.db'}", workdir) as server, admin_client(server) as admin:
        yield server, admin


def _upload(admin: httpx.Client, pid: int, content: str) -> None:
    admin.post(f"/api/projects/{pid}/import/upload", files={"file": ("r.csv", content.encode(), "text/csv")}).raise_for_status()


def _wait_for_stats(admin: httpx.Client, pid: int, done: Any) -> dict[str, Any]:
    """Poll GET .../stats until ``done(stats)``; the condition, not a fixed sleep, ends the wait."""
    import time

    deadline = time.monotonic() + RETRAIN_CEILING_S
    while time.monotonic() < deadline:
        stats = admin.get(f"/api/projects/{pid}/stats").json()
        if done(stats):
            return stats  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"project {pid}: the condition did not hold within {RETRAIN_CEILING_S} s; last stats {stats}")


def test_the_create_form_refuses_a_learner_the_data_cannot_feed_and_says_why(
    browser: Any, live: tuple[LiveServer, httpx.Client]  # noqa: F811
) -> None:
    server, admin = live
    page = browser.new_page()
    _sign_in(page, server.url, "admin", ADMIN_PASSWORD)
    page.fill("#project-form input[name=name]", "refused")
    page.select_option("#project-form select[name=task]", "text")
    page.fill("#project-form input[name=label_names]", "pos, neg")
    page.select_option("#project-form select[name=learner]", "hgb")
    page.click("#project-form button[type=submit]")
    expect(page.locator("#status")).to_contain_text(
        "hgb needs dense features; text projects give", timeout=REQUEST_CEILING_MS
    )
    assert "refused" not in [p["name"] for p in admin.get("/api/projects").json()["data"]]

    page.select_option("#project-form select[name=task]", "image")
    page.select_option("#project-form select[name=learner]", "minilm")
    page.click("#project-form button[type=submit]")
    expect(page.locator("#status")).to_contain_text("minilm embeds raw texts; image projects give pixels")
    assert "refused" not in [p["name"] for p in admin.get("/api/projects").json()["data"]]
    page.close()


def test_a_failed_retrain_is_shown_on_the_dashboard_and_retried_from_it(
    browser: Any, live: tuple[LiveServer, httpx.Client]  # noqa: F811
) -> None:
    server, admin = live
    project = admin.post(
        "/api/projects", json={"name": "no-words", "task": "text", "label_names": ["pos", "neg"], "learner": "logreg", "retrain_every": 2}
    ).json()
    pid = project["id"]
    _upload(admin, pid, NO_WORDS)
    for _ in range(2):
        record = admin.post(f"/api/projects/{pid}/queue/next").json()["record"]
        admin.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": "pos"}).raise_for_status()
    _wait_for_stats(admin, pid, lambda stats: stats["last_retrain_error"] is not None)

    page = browser.new_page()
    _sign_in(page, server.url, "admin", ADMIN_PASSWORD)
    page.goto(f"{server.url}/projects/{pid}")
    box = page.locator("#retrain-error")
    expect(box).to_be_visible(timeout=REQUEST_CEILING_MS)
    expect(page.locator("#retrain-error-message")).to_contain_text("empty vocabulary")
    expect(page.locator("#retrain-error-when")).to_contain_text("at 2 labelled records")

    _upload(admin, pid, WORDS)  # records with words: the retry can now work
    page.click("#retrain-retry")
    expect(page.locator("#status")).to_contain_text("retraining scheduled")
    # The dashboard polls its figures: the box goes once a retrain has worked, and the loop shows.
    expect(box).to_be_hidden(timeout=int(RETRAIN_CEILING_S * 1000))
    expect(page.locator("#loops tbody tr")).to_have_count(1)
    assert admin.get(f"/api/projects/{pid}/stats").json()["last_retrain_error"] is None
    page.close()

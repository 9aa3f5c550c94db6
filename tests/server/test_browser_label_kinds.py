"""Label kinds beyond one class in real headless Chromium: entity spans by mouse and by keyboard, several tags, a
number; the JSONL export re-imports into a new project to the same labels."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.server.live import LiveServer, admin_client, make_annotators
from tests.server.test_browser import _open_annotate, browser  # noqa: F401  (browser: a fixture)

pytestmark = pytest.mark.slow
# Each text's entities as (first token, last token, type); the record order is the import's shuffle.
ENTITIES = {
    "Ann Lee flew to Paris": [(0, 1, "PER"), (4, 4, "LOC")],
    "Bob met Carl in Rome today": [(0, 0, "PER"), (2, 2, "PER"), (4, 4, "LOC")],
}
TYPES = ["PER", "LOC"]
# Records with suggested entities (a model's pre-annotations imported with them): one to accept and correct, one to reject.
SUGGESTED = [
    {"text": "Ann Lee flew to Paris", "suggested_spans": [{"start": 0, "end": 7, "label": "PER"}, {"start": 16, "end": 21, "label": "PER"}]},
    {"text": "Bob met Carl in Rome today", "suggested_spans": [{"start": 0, "end": 3, "label": "LOC"}]},
]


def _project(admin: httpx.Client, name: str, kind: str, names: list[str], texts: list[str], rows: list[dict[str, Any]] | None = None) -> int:
    made = admin.post("/api/projects", json={"name": name, "task": "text", "label_names": names, "label_kind": kind, "learner": "logreg"})
    made.raise_for_status()
    pid = int(made.json()["id"])
    records = rows or [{"text": t} for t in texts]
    body = "\n".join(json.dumps({"id": f"{name}{i}", **r}) for i, r in enumerate(records))
    admin.post(f"/api/projects/{pid}/import/upload", files={"file": ("r.jsonl", body.encode(), "application/json")}).raise_for_status()
    return pid


def _labels(admin: httpx.Client, pid: int) -> dict[str, list[Any]]:
    """Each record's labels in force, from the project's JSONL export, as the values they stand for."""
    lines = admin.get(f"/api/projects/{pid}/export", params={"format": "jsonl"}).text.splitlines()
    return {row["data"]["text"]: [json.loads(lab["label"]) for lab in row["labels"]] for row in map(json.loads, lines)}


def _spans(text: str) -> list[dict[str, Any]]:
    words = text.split(" ")
    starts = [sum(len(w) + 1 for w in words[:i]) for i in range(len(words))]
    return [{"start": starts[a], "end": starts[b] + len(words[b]), "label": t} for a, b, t in ENTITIES[text]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, httpx.Client, dict[str, int]]]:
    workdir = tmp_path_factory.mktemp("browser-kinds")
    with LiveServer(f"sqlite:///{workdir / 'ui.db'}", workdir) as live, admin_client(live) as admin:
        ids = {
            "spans": _project(admin, "spans", "spans", TYPES, list(ENTITIES)),
            "multi": _project(admin, "multi", "multi", ["sport", "politics", "tech"], ["the match and the new phone"]),
            "number": _project(admin, "number", "number", ["price"], ["a used bike"]),
            "suggest": _project(admin, "suggest", "spans", TYPES, [], rows=SUGGESTED),
        }
        make_annotators(admin, ids["spans"], 1, prefix="kim")
        kim = admin.get("/api/users").json()["data"][-1]["id"]
        for key in ("multi", "number", "suggest"):
            admin.post(f"/api/projects/{ids[key]}/members", json={"user_id": kim}).raise_for_status()
        yield live, admin, ids


def _open(browser: Any, live: LiveServer, pid: int) -> tuple[Any, list[str]]:
    return _open_annotate(browser, live.url, pid, "kim0")


def _shown_text(page: Any) -> str:
    page.wait_for_selector("#tokens .tok")
    return " ".join(page.locator("#tokens .tok").all_text_contents())


def _next_record(page: Any, before: str) -> None:
    page.wait_for_function("(b) => { const m = document.getElementById('record-meta'); return m && m.dataset.recordId !== b; }", arg=before)


def test_spans_by_mouse_and_keyboard_tags_and_a_number_export_and_reimport(
    browser: Any, server: tuple[LiveServer, httpx.Client, dict[str, int]]  # noqa: F811
) -> None:
    live, admin, ids = server
    page, errors = _open(browser, live, ids["spans"])
    # The first record with the mouse: press on the first token, drag to the last, then the type's key.
    text = _shown_text(page)
    for a, b, kind in ENTITIES[text]:
        tokens = page.locator("#tokens .tok")
        tokens.nth(a).hover()
        page.mouse.down()
        tokens.nth(b).hover()
        page.mouse.up()
        page.keyboard.press(str(TYPES.index(kind) + 1))
    assert page.locator("#entity-list li").count() == len(ENTITIES[text])
    first = page.get_attribute("#record-meta", "data-record-id")
    page.keyboard.press("Enter")
    _next_record(page, first)
    # The second with the keyboard: arrows move the cursor, Shift+arrows extend; a wrong type is retyped.
    other = _shown_text(page)
    assert other != text
    last = len(other.split()) - 1
    cursor = 0

    def select(a: int, b: int) -> None:
        nonlocal cursor
        for _ in range(abs(a - cursor)):
            page.keyboard.press("ArrowRight" if a > cursor else "ArrowLeft")
        for _ in range(b - a):
            page.keyboard.press("Shift+ArrowRight")
        cursor = b

    for a, b, kind in ENTITIES[other]:
        select(a, b)
        page.keyboard.press("2" if kind == "PER" else "1")  # the other type first: a new entity replaces it
        cursor = min(b + 1, last)  # tagging moves the cursor past the entity
        select(a, b)
        page.keyboard.press(str(TYPES.index(kind) + 1))
        cursor = min(b + 1, last)
    second = page.get_attribute("#record-meta", "data-record-id")
    page.keyboard.press("Enter")
    page.wait_for_selector("#queue-empty")
    assert errors == []
    page.close()

    page, errors = _open(browser, live, ids["multi"])
    for key in ("1", "3", "2", "2"):  # sport, tech, politics on then off again
        page.keyboard.press(key)
    assert [box.is_checked() for box in page.locator("#label-widget input[type=checkbox]").all()] == [True, False, True]
    page.keyboard.press("Enter")
    page.wait_for_selector("#queue-empty")
    page.close()

    page, errors = _open(browser, live, ids["number"])
    page.fill("#number-value", "12.5")
    page.press("#number-value", "Enter")
    page.wait_for_selector("#queue-empty")
    assert errors == []
    page.close()

    expected = {
        "spans": {t: [_spans(t)] for t in ENTITIES},
        "multi": {"the match and the new phone": [["sport", "tech"]]},
        "number": {"a used bike": [12.5]},
    }
    for key, kind in (("spans", "spans"), ("multi", "multi"), ("number", "number")):
        assert _labels(admin, ids[key]) == expected[key], key
        exported = admin.get(f"/api/projects/{ids[key]}/export", params={"format": "jsonl"}).content
        names = TYPES if kind == "spans" else ["sport", "politics", "tech"] if kind == "multi" else ["price"]
        made = admin.post("/api/projects", json={"name": f"again-{key}", "task": "text", "label_names": names,
                                                 "label_kind": kind, "learner": "logreg"})
        made.raise_for_status()
        again = made.json()["id"]
        admin.post(f"/api/projects/{again}/import/upload", files={"file": ("back.jsonl", exported, "application/json")}).raise_for_status()
        assert _labels(admin, again) == expected[key], f"{key} re-imported"
    assert first != second


def test_suggested_entities_are_accepted_and_corrected_or_rejected(
    browser: Any, server: tuple[LiveServer, httpx.Client, dict[str, int]]  # noqa: F811
) -> None:
    live, admin, ids = server
    page, errors = _open(browser, live, ids["suggest"])
    for _ in SUGGESTED:
        text = _shown_text(page)
        expect(page.locator("#span-suggestions")).to_be_visible()
        if text.startswith("Ann"):
            page.keyboard.press("+")  # accept both, then retype Paris as a place
            for _ in range(4):
                page.keyboard.press("ArrowRight")
            page.keyboard.press("2")
        else:
            page.keyboard.press("-")  # reject: Bob is a person, typed by hand
            page.keyboard.press("1")
        expect(page.locator("#span-suggestions")).to_be_hidden()
        before = page.get_attribute("#record-meta", "data-record-id")
        page.keyboard.press("Enter")
        _last_text(page, before)
    page.wait_for_selector("#queue-empty")
    assert errors == []
    assert _labels(admin, ids["suggest"]) == {
        "Ann Lee flew to Paris": [[{"start": 0, "end": 7, "label": "PER"}, {"start": 16, "end": 21, "label": "LOC"}]],
        "Bob met Carl in Rome today": [[{"start": 0, "end": 3, "label": "PER"}]],
    }


def _last_text(page: Any, before: str | None) -> str:
    """Wait until the page moved past record ``before``; the text now shown ('' once the queue is empty)."""
    page.wait_for_function(
        "(b) => { const m = document.getElementById('record-meta'); return !m.dataset.recordId || m.dataset.recordId !== b; }", arg=before)
    return " ".join(page.locator("#tokens .tok").all_text_contents())

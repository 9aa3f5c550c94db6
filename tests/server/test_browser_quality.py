"""Label quality in real headless Chromium against a real server: a second annotator works through the review
queue with the keyboard (change one doubted label, keep another), the dashboard counts both and shows the
annotators' quality."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from loopwise.storage import AnnotationRepository, Store
from loopwise.storage._annotation_consensus import AnnotatorQuality, ConsensusLabel
from loopwise.storage._annotation_review import Suspect
from tests.server.live import ADMIN_PASSWORD, LiveServer, admin_client, make_annotators
from tests.server.test_browser import _sign_in, browser  # noqa: F401  (pytest fixture)

pytestmark = pytest.mark.slow
WORDS = {"pos": "great lovely fine", "neg": "awful bad poor"}


@pytest.fixture(scope="module")
def quality(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, httpx.Client, dict[str, Any]]]:
    """A text project of 8 records labelled by ann0, two of which the review queue doubts.

    The suspects are written as a retrain's audit writes them (``store_audit``), without the retrain:
    the audit itself is tested through the API (tests/server/test_review_api.py); this is about the page.
    """
    workdir = tmp_path_factory.mktemp("browser-quality")
    db = f"sqlite:///{workdir / 'ui.db'}"
    with LiveServer(db, workdir) as live, admin_client(live) as admin:
        pid = admin.post("/api/projects", json={
            "name": "quality", "task": "text", "label_names": ["pos", "neg"], "learner": "logreg", "retrain_every": 1000,
        }).json()["id"]
        rows = "id,text\n" + "\n".join(f"r{i},{WORDS['pos' if i % 2 else 'neg']} item {i}" for i in range(8))
        admin.post(f"/api/projects/{pid}/import/upload", files={"file": ("r.csv", rows.encode(), "text/csv")}).raise_for_status()
        tokens = make_annotators(admin, pid, 2, prefix="ann")
        given: dict[int, str] = {}
        with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {tokens[0]}"}) as ann0:
            for _ in range(8):
                record = ann0.post(f"/api/projects/{pid}/queue/next").json()["record"]
                value = "pos" if "great" in record["payload"]["text"] else "neg"
                if len(given) < 2:
                    value = {"pos": "neg", "neg": "pos"}[value]
                    given[record["id"]] = value
                ann0.post(f"/api/projects/{pid}/records/{record['id']}/label", json={"value": value}).raise_for_status()
        with Store.open(db) as store:
            repo = AnnotationRepository(store)
            repo.store_audit(pid, 0, [
                Suspect(record_id, value, {"pos": "neg", "neg": "pos"}[value], 0.1 + 0.1 * i)
                for i, (record_id, value) in enumerate(given.items())
            ])
            # And a retrain's consensus, as the driver writes it (computed by tests/server/test_label_quality.py).
            repo.store_consensus(pid, 0, "dawid_skene", [ConsensusLabel(r, v, 0.6, 1) for r, v in given.items()],
                                 [AnnotatorQuality("ann0", 0.75, 0.8, 8)])
        yield live, admin, {"project": pid, "flipped": given}


def test_a_second_annotator_reviews_doubted_labels_with_the_keyboard(browser: Any, quality: Any) -> None:  # noqa: F811
    live, admin, ids = quality
    pid, flipped = ids["project"], ids["flipped"]
    items = admin.get(f"/api/projects/{pid}/review").json()["data"]
    assert {item["record"]["id"] for item in items[:2]} == set(flipped)
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # ann0 gave the labels: nothing for them to review.
    _sign_in(page, live.url, "ann0", "password-0")
    page.goto(f"{live.url}/projects/{pid}/review")
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#review-empty")).to_contain_text("No doubted label")
    page.context.clear_cookies()

    _sign_in(page, live.url, "ann1", "password-1")
    page.goto(f"{live.url}/projects/{pid}/review")
    page.wait_for_selector("body[data-ready='1']")
    first, second = items[0], items[1]
    expect(page.locator("#review-meta")).to_have_attribute("data-item-id", str(first["id"]))
    expect(page.locator("#review-given")).to_have_text(f"Given: {first['given']}")
    expect(page.locator("#review-suggested")).to_have_text(first["suggested"])
    # The right class by its key (its position among the buttons): the label changes.
    page.keyboard.press(str(["pos", "neg"].index(first["suggested"]) + 1))
    expect(page.locator("#review-meta")).to_have_attribute("data-item-id", str(second["id"]))
    page.keyboard.press("k")  # keep the second one
    expect(page.locator("#status")).to_contain_text(f"Kept “{second['given']}”")
    decided = {i["id"]: i for i in admin.get(f"/api/projects/{pid}/review?status=all").json()["data"]}
    assert (decided[first["id"]]["status"], decided[first["id"]]["decided"], decided[first["id"]]["reviewer"]) == (
        "changed", first["suggested"], "ann1")
    assert (decided[second["id"]]["status"], decided[second["id"]]["decided"]) == ("kept", second["given"])

    page.goto(f"{live.url}/projects/{pid}")
    expect(page.locator("#review-figures dd[data-count=changed]")).to_have_text("1")
    expect(page.locator("#review-figures dd[data-count=kept]")).to_have_text("1")
    expect(page.locator("#review-figures dd[data-count=waiting]")).to_have_text(str(len(items) - 2))
    expect(page.locator("#annotator-quality tr[data-annotator=ann0] .quality")).to_have_text("0.750")
    expect(page.locator("#consensus-caption")).to_contain_text("by dawid_skene (retrain 0): 2 records, 2 with a confidence under 0.8")
    assert not errors, errors
    page.close()


def test_the_admin_defines_rules_and_applies_them_to_the_pool(browser: Any, quality: Any) -> None:  # noqa: F811
    live, admin, ids = quality
    pid = ids["project"]
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, live.url, "admin", ADMIN_PASSWORD)
    page.goto(f"{live.url}/projects/{pid}/rules")
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("#rules-applied")).to_have_text("Not applied yet.")

    def add(name: str, kind: str, pattern: str, label: str) -> None:
        page.fill("#rule-form input[name=name]", name)
        page.select_option("#rule-form select[name=kind]", kind)
        page.fill("#rule-form input[name=pattern]", pattern)
        page.select_option("#rule-form select[name=label]", label)
        page.click("#rule-add")

    add("broken", "regex", "(", "pos")
    expect(page.locator("#status")).to_contain_text("bad regular expression")
    add("pos_words", "keyword", "great, lovely", "pos")
    expect(page.locator("#rules tr[data-rule=pos_words]")).to_have_count(1)
    add("neg_words", "keyword", "awful", "neg")
    expect(page.locator("#rules tr[data-rule=neg_words]")).to_have_count(1)
    add("item_one", "regex", r"item 1\b", "neg")  # fires on one pos record: a conflict with pos_words
    expect(page.locator("#rules tr[data-rule=item_one]")).to_have_count(1)
    page.click("#rules-apply")
    # The first application imports Snorkel (and torch) into the server: seconds on a busy machine.
    expect(page.locator("#rules-applied")).to_contain_text("Applied to 8 records (8 with a human label)", timeout=60_000)
    expect(page.locator("#rules tr[data-rule=pos_words] .coverage")).to_have_text("50.0%")
    expect(page.locator("#rules tr[data-rule=item_one] .conflict")).to_have_text("12.5%")
    expect(page.locator("#weak-models tr")).to_have_count(3)  # the header, the label model, majority vote
    stats = admin.get(f"/api/projects/{pid}/rules/stats").json()
    accuracy = next(m["accuracy"] for m in stats["models"] if m["method"] == "majority")
    expect(page.locator("#weak-models tr[data-method=majority] .accuracy")).to_have_text(f"{accuracy:.3f}")
    assert [r["name"] for r in admin.get(f"/api/projects/{pid}/rules").json()["data"]] == ["pos_words", "neg_words", "item_one"]
    assert not errors, errors
    page.close()

"""The HTML report's cost section in real headless Chromium (Debian's; Playwright drives it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopwise.reports import write_html_report
from tests.reports.test_costs import _priced
from tests.reports.conftest import build_results

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run .ci/chromium.sh (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    path = tmp_path_factory.mktemp("cost-html") / "report.html"
    write_html_report(_priced(build_results()), path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            tab = browser.new_page()
            tab.goto(path.as_uri())
            yield tab
        finally:
            browser.close()


def test_cost_curves_are_drawn(page) -> None:
    figure = page.locator("#cost img.fig")
    assert "accuracy against total money spent" in figure.get_attribute("alt")
    # The embedded PNG decoded and laid out: a real image, not a broken icon.
    width, height = figure.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert width > 600 and height > 200


def test_break_even_lines_are_shown(page) -> None:
    lines = page.locator("#break-even li").all_inner_texts()
    assert len(lines) == 2
    margin = next(line for line in lines if line.startswith("margin"))
    assert "to reach 95% of full-pool accuracy this run spent 53.33 on labels and 13.33 on compute" in margin
    assert "random needed 106.67 on labels" in margin
    assert "labelling everything would cost 500.00" in margin


def test_ledger_totals_table_lists_every_run(page) -> None:
    rows = page.locator("#cost table.data tbody tr").all_inner_texts()
    assert len(rows) == 6
    assert any(row.startswith("margin-0") and "160" in row and "180.00" in row for row in rows)

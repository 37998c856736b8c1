"""A real browser (Debian's Chromium driven by Playwright) goes through the whole product:
open the app, load the demo, see the frontier on Compare, start a small real run and watch it
finish, open Cost, export the report. Screenshots of each step land in test-artifacts/browser/.
"""

from __future__ import annotations

import time

import pytest

from tests.helpers.browser import CHROMIUM, SHOTS, launch_chromium, streamlit_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    home = tmp_path_factory.mktemp("browser-home")
    with streamlit_server(home) as url:  # fails with the server's log if it does not start
        yield url


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(
            viewport={"width": 1440, "height": 1100}, accept_downloads=True
        )
        pg = context.new_page()
        pg.set_default_timeout(90_000)
        yield pg
        browser.close()


def settle(pg, seconds: float = 1.5) -> None:
    """Wait until Streamlit has finished rerunning the script."""
    time.sleep(seconds)
    for _ in range(120):
        if pg.query_selector('[data-testid="stStatusWidget"]') is None:
            return
        time.sleep(0.5)


def no_exception(pg) -> None:
    assert pg.query_selector('[data-testid="stException"]') is None, pg.inner_text("body")[:2000]


def goto(pg, name: str) -> None:
    pg.get_by_role("link", name=name, exact=True).first.click()
    settle(pg)


def shot(pg, name: str) -> None:
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_1_open_the_app(page, app_url):
    page.goto(app_url)
    page.get_by_role("button", name="Run the default benchmark").wait_for()
    settle(page)
    no_exception(page)
    shot(page, "1-home")


def test_2_load_the_demo(page):
    goto(page, "Demo")
    page.get_by_role("button", name="Load the demo results").click()
    settle(page, 3)
    page.get_by_text("The trade-off").first.wait_for()
    no_exception(page)
    shot(page, "2-demo")


def test_3_compare_shows_the_frontier(page):
    goto(page, "Compare")
    page.locator(".js-plotly-plot").first.wait_for()
    settle(page, 3)
    body = page.inner_text("body")
    assert "frontier" in body.lower()
    no_exception(page)
    shot(page, "3-compare")


def _set_number(pg, label: str, value: str) -> None:
    box = pg.get_by_label(label, exact=True).and_(pg.locator("input"))
    box.fill(value)
    box.press("Enter")
    settle(pg)


def test_4_a_small_real_run_finishes(page):
    goto(page, "Model & data")
    _set_number(page, "Training examples (at most)", "160")
    _set_number(page, "Evaluation examples (at most)", "60")
    goto(page, "Techniques")
    page.locator('[data-testid="stCheckbox"]').filter(has_text="half").first.click()
    settle(page)
    for label, value in (
        ("Batch sizes", "1, 4"),
        ("Sequence length (tokens)", "32"),
        ("Minimum seconds per timing", "0"),
    ):
        box = page.get_by_label(label, exact=True).and_(page.locator("input"))
        box.fill(value)
        box.press("Enter")
        settle(page)
    goto(page, "Run")
    start = page.get_by_role("button", name="Start benchmark")
    try:
        start.click()
    except Exception:
        # say why it stayed disabled (an error box, the queue line) rather than only "timeout"
        shot(page, "4-start-disabled")
        raise AssertionError(
            "Start benchmark never became clickable:\n" + page.inner_text("body")[:3000]
        ) from None
    settle(page, 5)
    deadline = time.time() + 900
    while time.time() < deadline:
        text = page.inner_text("body")
        if "Finished:" in text or "The run failed" in text:
            break
        time.sleep(5)
    settle(page, 3)
    shot(page, "4-run-finished")
    text = page.inner_text("body")
    assert "Finished:" in text, text[:3000]
    no_exception(page)
    # The page redraws once when the run ends; then the button to its results is there.
    button = page.get_by_role("button", name="Open the results")
    button.wait_for()
    settle(page, 2)
    button.click()
    page.get_by_text("Every variant").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    settle(page, 3)
    no_exception(page)
    shot(page, "5-results")


def test_5_cost_page(page):
    goto(page, "Cost")
    page.get_by_text("per 1M requests").first.wait_for()
    settle(page, 3)
    assert "$" in page.inner_text("body")
    no_exception(page)
    shot(page, "6-cost")


def test_6_export_the_report(page, tmp_path):
    goto(page, "Compare")
    button = page.get_by_role("button", name="Download report (HTML)")
    button.wait_for()
    with page.expect_download() as info:
        button.click()
    out = tmp_path / "report.html"
    info.value.save_as(out)
    html = out.read_text()
    assert "<html" in html.lower() and "plotly" in html.lower()
    assert 'src="http' not in html  # opens offline
    shot(page, "7-report-exported")

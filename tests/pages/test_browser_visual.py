"""A visual check that can fail: every page, at 1400x1000 and at 1280x800, in a real browser
(Debian's Chromium through Playwright), on the bundled demo results.

For each page (and each tab of a page that has tabs, and each expander that hides a chart) it
asserts from the DOM that no page shows an exception or the "Something went wrong" box, that no
plotly legend box intersects an axis title, a tick label, the chart title or a data label, that
no axis or chart title (nor the legend) runs out of the chart (cut off), and that data labels do
not lie on each other. Every defect of every page is collected before the test fails, so one run
lists them all. Full-page screenshots stay in test-artifacts/browser/<size>-<page>[-<tab>].png,
and the list in test-artifacts/browser/visual-<size>.txt.

The first test feeds a deliberately broken figure to the same geometry check, so the check is
known to fail when it should (and a clean figure is known to pass).
"""

from __future__ import annotations

import time

import pytest

from tests.helpers.browser import (
    CHROMIUM,
    SHOTS,
    chart_geometry,
    describe_defects,
    full_page_screenshot,
    launch_chromium,
    load_demo_into,
    page_errors,
    settle,
    slug,
    streamlit_server,
    wait_for_charts,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)"
    ),
]

SIZES = [(1400, 1000), (1280, 800)]
PAGES = ["Home", "Model & data", "Techniques", "Run", "Results", "Compare", "Cost", "Demo"]
TOLERANCE_PX = 2
WALK_BUDGET_S = 150  # per size; past it the walk stops and says so


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The app on its own data folder, with the demo results already in its store."""
    home = tmp_path_factory.mktemp("visual-home")
    load_demo_into(home)
    with streamlit_server(home) as url:
        yield url


# ------------------------------------------------------------------ the check can fail
def _figure_page(browser, tmp_path, fig, name):
    html = tmp_path / f"{name}.html"
    fig.write_html(html, include_plotlyjs=True, full_html=True)  # plotly.js inline: offline
    context = browser.new_context(viewport={"width": 900, "height": 700})
    pg = context.new_page()
    pg.goto(html.as_uri())
    pg.locator(".js-plotly-plot .main-svg").first.wait_for()
    wait_for_charts(pg)
    return context, pg


def _figure(y_title="Accuracy (%)", height=450, **layout):
    import plotly.graph_objects as go

    fig = go.Figure(
        [
            go.Scatter(x=[1, 2, 3, 4], y=[0.80, 0.82, 0.81, 0.84], name="fp32 baseline model"),
            go.Scatter(x=[1, 2, 3, 4], y=[0.78, 0.79, 0.80, 0.80], name="int8 dynamic quantised"),
            go.Scatter(x=[1, 2, 3, 4], y=[0.76, 0.77, 0.79, 0.79], name="half precision"),
        ]
    )
    fig.update_layout(
        width=700,
        height=height,
        title="Accuracy against latency",
        xaxis_title="p95 latency per request (ms)",
        yaxis_title=y_title,
        **layout,
    )
    return fig


def test_the_geometry_check_reports_a_bad_figure(browser, tmp_path):
    bad = _figure(
        # The legend hangs from the x axis onto its tick labels and title, with no room below;
        # no margins and a y title longer than the chart is tall, so it runs out of the picture
        # (as "...on this hardw" did on Compare).
        height=320,
        y_title="Accuracy on the held-out examples, measured on this hardware (%)",
        legend=dict(orientation="h", x=0, y=-0.02, yanchor="top"),
        margin=dict(l=0, r=0, t=40, b=20),
        xaxis=dict(automargin=False),
        yaxis=dict(automargin=False),
    )
    context, pg = _figure_page(browser, tmp_path, bad, "bad")
    try:
        charts = chart_geometry(pg, TOLERANCE_PX)
        full_page_screenshot(pg, SHOTS / "selftest-bad-figure.png")
    finally:
        context.close()
    assert len(charts) == 1 and charts[0]["legends"] == 1, charts
    defects = charts[0]["defects"]
    hits = {d["with"] for d in defects if d["kind"] == "overlap" and d["what"] == "legend"}
    assert "x tick label" in hits, defects
    assert "x-axis title" in hits, defects
    clipped = {d["what"] for d in defects if d["kind"] == "clipped"}
    assert "y-axis title" in clipped, defects
    text = "\n".join(describe_defects(charts[0]))
    assert "legend overlaps" in text and "x-axis title 'p95 latency per request (ms)'" in text
    assert "y-axis title 'Accuracy on the held-out examples, measured on this" in text
    assert "is cut off (top by" in text


def test_the_geometry_check_passes_a_clean_figure(browser, tmp_path):
    good = _figure(legend=dict(x=1.02, y=1, yanchor="top"), margin=dict(l=80, r=20, t=60, b=60))
    context, pg = _figure_page(browser, tmp_path, good, "good")
    try:
        charts = chart_geometry(pg, TOLERANCE_PX)
    finally:
        context.close()
    assert len(charts) == 1 and charts[0]["legends"] == 1, charts
    assert charts[0]["defects"] == [], charts


# ------------------------------------------------------------------ every page, every size
def _open_expanders(pg) -> int:
    """Open every closed expander (one may hide a chart); returns how many were opened."""
    opened = 0
    for summary in pg.locator('[data-testid="stExpander"] details:not([open]) > summary').all():
        try:
            if summary.is_visible():
                summary.click()
                opened += 1
        except Exception:  # noqa: BLE001 - a summary that went away is fine
            continue
    if opened:
        settle(pg, 0.4)
    return opened


class Walk:
    """Collects what is wrong on each screen of one size."""

    def __init__(self, size: tuple[int, int]):
        self.size = f"{size[0]}x{size[1]}"
        self.failures: list[str] = []
        self.charts = 0
        self.legends = 0
        self.shots: list[str] = []

    def check(self, pg, where: str, name: str) -> None:
        shot = SHOTS / f"{self.size}-{name}.png"
        problems = page_errors(pg)
        charts = chart_geometry(pg, TOLERANCE_PX)
        checked = {c["index"] for c in charts}
        for chart in charts:
            self.charts += 1
            self.legends += chart["legends"]
            problems += describe_defects(chart)
        full_page_screenshot(pg, shot)
        self.shots.append(str(shot.relative_to(SHOTS.parent.parent)))
        # Charts that only show once an expander is opened: check them too, with a picture.
        if _open_expanders(pg):
            extra = [c for c in chart_geometry(pg, TOLERANCE_PX) if c["index"] not in checked]
            if extra:
                shot = SHOTS / f"{self.size}-{name}-expanded.png"
                for chart in extra:
                    self.charts += 1
                    self.legends += chart["legends"]
                    problems += [f"{line} (in an expander)" for line in describe_defects(chart)]
                full_page_screenshot(pg, shot)
                self.shots.append(str(shot.relative_to(SHOTS.parent.parent)))
        for p in problems:
            self.failures.append(
                f"[{self.size}] {where}: {p}  -> {shot.relative_to(SHOTS.parent.parent)}"
            )


def _visit(pg, walk: Walk, page_name: str) -> None:
    link = pg.get_by_role("link", name=page_name, exact=True).first
    try:
        link.click(timeout=10_000)
    except Exception:  # noqa: BLE001 - report it and go on with the other pages
        walk.failures.append(f"[{walk.size}] {page_name}: no link to this page in the sidebar")
        return
    settle(pg, 1.0)
    tabs = pg.locator('[role="tab"]')
    shown = [
        (i, " ".join(t.inner_text().split())) for i, t in enumerate(tabs.all()) if t.is_visible()
    ]
    if not shown:
        walk.check(pg, page_name, slug(page_name))
        return
    for n, (i, label) in enumerate(shown):
        try:
            tabs.nth(i).click(timeout=10_000)
        except Exception:  # noqa: BLE001
            walk.failures.append(f"[{walk.size}] {page_name} / {label}: the tab cannot be opened")
            continue
        settle(pg, 0.4)
        tab_slug = slug(label) if slug(label)[:1].isdigit() else f"{n + 1}-{slug(label)}"
        walk.check(pg, f"{page_name} / tab {label!r}", f"{slug(page_name)}-{tab_slug}")


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_page_is_clean(browser, app_url, size):
    width, height = size
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    walk = Walk(size)
    started = time.time()
    try:
        pg.goto(app_url)
        pg.get_by_role("link", name="Home", exact=True).first.wait_for(timeout=90_000)
        settle(pg, 1.0)
        for name in PAGES:
            if time.time() - started > WALK_BUDGET_S:
                walk.failures.append(
                    f"[{walk.size}] walk stopped after {WALK_BUDGET_S} s, before {name}"
                )
                break
            _visit(pg, walk, name)
    finally:
        context.close()
    took = time.time() - started
    report = SHOTS / f"visual-{walk.size}.txt"
    report.write_text(
        f"{walk.size}: {len(PAGES)} pages, {walk.charts} charts, {walk.legends} legends "
        f"checked in {took:.0f} s\n"
        + "".join(f"- {f}\n" for f in walk.failures)
        + "screenshots:\n"
        + "".join(f"  {s}\n" for s in walk.shots)
    )
    assert walk.charts > 0, "no plotly chart was found on any page: the walk saw nothing"
    assert walk.legends > 0, "no chart legend was found: the geometry check saw nothing to test"
    assert not walk.failures, (
        f"{len(walk.failures)} visual defect(s) at {walk.size} ({walk.charts} charts checked, "
        f"list in {report}):\n" + "\n".join(walk.failures)
    )

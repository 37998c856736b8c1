"""What the browser tests share: the Streamlit server on a free port, Debian's Chromium, waiting
for a page to settle, full-page screenshots, and the chart-geometry check.

The geometry check reads the boxes plotly drew from the DOM (``getBoundingClientRect`` of its
SVG elements), so it sees what a person sees: a legend lying on an axis title or on tick
labels, an axis or chart title running out of the chart's SVG (cut off), data labels on top of
each other.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Without the background-networking flags Chromium keeps dialling out on this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Streamlit is still working while any of these is on the page: the "Running..." widget, an
# st.spinner, elements of the previous run not yet replaced.
BUSY = '[data-testid="stStatusWidget"], [data-testid="stSpinner"], [data-stale="true"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(home: Path) -> dict[str, str]:
    """The environment of an app on its own data folder (offline, default SQLite store)."""
    env = {**os.environ, "LEANBENCH_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env.pop("LEANBENCH_STORE", None)
    return env


def load_demo_into(home: Path) -> str:
    """Copy the bundled demo runs into the store of ``home`` (as the Demo page's button does)."""
    code = (
        "from lib.demo.story import load_demo\n"
        "from lib.store import Store\n"
        "print(','.join(load_demo(Store())))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=app_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"loading the demo failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip()


@contextmanager
def streamlit_server(home: Path, start_timeout: float = 120) -> Iterator[str]:
    """``streamlit run app.py`` on a free port with ``home`` as LEANBENCH_HOME; yields its URL."""
    port = free_port()
    log_path = home / "streamlit.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.headless", "true", "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=app_env(home), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.time() + start_timeout
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(
                        "streamlit did not start: " + log_path.read_text(errors="replace")[-2000:]
                    )
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def launch_chromium(playwright):
    """Debian's Chromium, headless, through Playwright (no browser download)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


# ------------------------------------------------------------------ waiting
_CHART_SIGNATURE_JS = """
async () => {
  if (document.fonts && document.fonts.ready) { await document.fonts.ready; }
  const parts = [];
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    const b = gd.getBoundingClientRect();
    if (b.width < 2 || b.height < 2) continue;
    const svg = gd.querySelector('svg.main-svg');
    const legend = gd.querySelector('g.legend');
    const s = svg ? svg.getBoundingClientRect() : null;
    const l = legend ? legend.getBoundingClientRect() : null;
    parts.push([Math.round(b.width), Math.round(b.height),
                s ? Math.round(s.width) + 'x' + Math.round(s.height) : 'none',
                l ? Math.round(l.left) + ',' + Math.round(l.top) : '-',
                gd.querySelectorAll('text').length].join(':'));
  }
  return parts.join('|');
}
"""


def wait_for_charts(pg, timeout: float = 12) -> None:
    """Until every visible plotly chart is drawn and has stopped moving (fonts loaded)."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        sig = pg.evaluate(_CHART_SIGNATURE_JS)
        if sig == last and "none" not in sig:
            return
        last = sig
        time.sleep(0.4)


def settle(pg, seconds: float = 0.6, timeout: float = 45) -> None:
    """Until Streamlit has finished rerunning the script (no spinner left) and the charts are
    drawn."""
    time.sleep(seconds)
    deadline = time.time() + timeout
    quiet = 0
    while time.time() < deadline and quiet < 3:
        quiet = quiet + 1 if pg.query_selector(BUSY) is None else 0
        time.sleep(0.3)
    wait_for_charts(pg)


# ------------------------------------------------------------------ what a page shows
def page_errors(pg) -> list[str]:
    """A traceback element or the app's "Something went wrong" box, as short messages."""
    found = []
    for el in pg.query_selector_all('[data-testid="stException"]'):
        text = " ".join(el.inner_text().split())
        found.append(f"exception shown: {text[:300]}")
    for el in pg.query_selector_all('[data-testid="stAlert"], [role="alert"]'):
        text = " ".join(el.inner_text().split())
        if "something went wrong" in text.lower() and f"error box: {text[:300]}" not in found:
            found.append(f"error box: {text[:300]}")
    return found


_CONTENT_HEIGHT_JS = """
() => {
  let h = Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);
  for (const el of document.querySelectorAll('body *')) {
    if (el.scrollHeight <= el.clientHeight + 1) continue;
    const oy = getComputedStyle(el).overflowY;
    if (oy === 'auto' || oy === 'scroll') {
      h = Math.max(h, el.scrollHeight + el.getBoundingClientRect().top);
    }
  }
  return Math.ceil(h);
}
"""


def full_page_screenshot(pg, path: Path, max_height: int = 12000) -> None:
    """The whole page, not the first viewport: Streamlit scrolls an inner element, so the
    viewport is made as tall as the content for the picture, then put back."""
    size = pg.viewport_size
    height = min(max_height, max(size["height"], int(pg.evaluate(_CONTENT_HEIGHT_JS))))
    path.parent.mkdir(parents=True, exist_ok=True)
    if height > size["height"]:
        pg.set_viewport_size({"width": size["width"], "height": height})
        time.sleep(0.6)
    try:
        pg.screenshot(path=str(path), full_page=True)
    finally:
        if height > size["height"]:
            pg.set_viewport_size(size)
            time.sleep(0.3)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "page"


# ------------------------------------------------------------------ chart geometry
# Returns one entry per visible plotly chart: its title and Streamlit key, how many legends it
# has, and its defects. Boxes are the ones the browser laid out, in CSS pixels; two boxes
# "overlap" when they share more than ``tol`` pixels both across and down, a box is "clipped"
# when it runs more than ``tol`` pixels out of the chart's SVG (what is outside is not drawn).
GEOMETRY_JS = r"""
(tol) => {
  const box = (el) => {
    const b = el.getBoundingClientRect();
    return {x0: b.left, y0: b.top, x1: b.right, y1: b.bottom};
  };
  // A text's box is its font's full line cell; the glyphs fill less of it (no capital reaches
  // the ascent, few letters the descent). Canvas measures both for the same font, so the box
  // is narrowed to the ink on the sides the text's "up" and "down" face (rotation included).
  const ctx = document.createElement('canvas').getContext('2d');
  const slack = (node) => {
    let fa = 0, fd = 0, ia = 0, id = 0;
    const walk = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    for (let t = walk.nextNode(); t; t = walk.nextNode()) {
      const s = t.textContent;
      if (!s.trim()) continue;
      const cs = getComputedStyle(t.parentElement);
      ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const m = ctx.measureText(s);
      fa = Math.max(fa, m.fontBoundingBoxAscent);
      fd = Math.max(fd, m.fontBoundingBoxDescent);
      ia = Math.max(ia, m.actualBoundingBoxAscent);
      id = Math.max(id, m.actualBoundingBoxDescent);
    }
    return {up: Math.max(0, fa - ia), down: Math.max(0, fd - id)};
  };
  const ink = (el) => {
    const b = box(el);
    const lines = [...el.querySelectorAll('tspan.line')];
    const first = slack(lines.length ? lines[0] : el);
    const last = slack(lines.length ? lines[lines.length - 1] : el);
    const m = el.getScreenCTM();
    const angle = m ? Math.round(Math.atan2(m.b, m.a) * 180 / Math.PI) : 0;
    if (Math.abs(angle) <= 5) { b.y0 += first.up; b.y1 -= last.down; }
    else if (Math.abs(angle + 90) <= 5) { b.x0 += first.up; b.x1 -= last.down; }
    else if (Math.abs(angle - 90) <= 5) { b.x1 -= first.up; b.x0 += last.down; }
    if (b.y1 < b.y0) b.y1 = b.y0;
    if (b.x1 < b.x0) b.x1 = b.x0;
    return b;
  };
  const outside = (b, frame) => {
    const cut = [];
    if (b.x0 < frame.x0 - tol) cut.push('left by ' + Math.round(frame.x0 - b.x0) + ' px');
    if (b.x1 > frame.x1 + tol) cut.push('right by ' + Math.round(b.x1 - frame.x1) + ' px');
    if (b.y0 < frame.y0 - tol) cut.push('top by ' + Math.round(frame.y0 - b.y0) + ' px');
    if (b.y1 > frame.y1 + tol) cut.push('bottom by ' + Math.round(b.y1 - frame.y1) + ' px');
    return cut;
  };
  const shown = (el, gd) => {
    const b = el.getBoundingClientRect();
    if (b.width < 1 || b.height < 1) return false;
    for (let e = el; e && e !== gd; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility === 'hidden' || parseFloat(cs.opacity) === 0) {
        return false;
      }
    }
    return true;
  };
  const overlap = (a, b) => {
    const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
    const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
    return (w > tol && h > tol) ? [Math.round(w), Math.round(h)] : null;
  };
  const clean = (s) => String(s || '').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  const cls = (el) => el.getAttribute('class') || '';
  const charts = [];
  document.querySelectorAll('.js-plotly-plot').forEach((gd, index) => {
    const gb = gd.getBoundingClientRect();
    if (gb.width < 2 || gb.height < 2) return;  // in a hidden tab or a closed expander
    const svg = gd.querySelector('svg.main-svg');
    if (!svg) return;
    const frame = box(svg);
    const keyed = gd.closest('[class*="st-key-"]');
    const key = keyed ? ([...keyed.classList].find((c) => c.startsWith('st-key-')) || '')
      .slice(7) : '';
    const lt = gd.layout && gd.layout.title;
    let title = clean(lt && (typeof lt === 'string' ? lt : lt.text));
    if (!title) {
      const t = gd.querySelector('text.gtitle');
      title = t ? clean(t.textContent) : '';
    }
    const chart = {index, key, title, legends: 0, defects: []};
    const item = (el, kind) => ({kind, text: clean(el.textContent).slice(0, 80), box: ink(el)});

    const titles = [];
    const ticks = [];
    const labels = [];
    gd.querySelectorAll('text').forEach((el) => {
      if (!shown(el, gd)) return;
      const c = cls(el);
      const parent = el.parentElement ? cls(el.parentElement) : '';
      let m;
      if ((m = /(?:^|\s)([xy])\d*title(?:\s|$)/.exec(c))) {
        titles.push(item(el, m[1] + '-axis title'));
      } else if (/(?:^|\s)gtitle(?:-subtitle)?(?:\s|$)/.test(c)) {
        titles.push(item(el, 'chart title'));
      } else if ((m = /(?:^|\s)([xy])\d*tick(?:\s|$)/.exec(parent))) {
        ticks.push(item(el, m[1] + ' tick label'));
      } else if (/(?:^|\s)textpoint(?:\s|$)/.test(parent) || /(?:^|\s)bartext/.test(c)) {
        labels.push(item(el, 'data label'));
      }
    });

    const legends = [...gd.querySelectorAll('g')].filter((g) => /^legend\d*$/.test(cls(g).trim()));
    legends.forEach((g) => {
      const bg = [...g.children].find((e) => /(?:^|\s)bg(?:\s|$)/.test(cls(e)));
      const el = bg && shown(bg, gd) ? bg : g;
      if (!shown(el, gd)) return;
      chart.legends += 1;
      const lb = box(el);
      for (const t of [...titles, ...ticks, ...labels]) {
        const o = overlap(lb, t.box);
        if (o) chart.defects.push({kind: 'overlap', what: 'legend', with: t.kind, text: t.text, px: o});
      }
      // Cut off: what it says (entries, its title) runs out of the chart, not its padding.
      for (const t of g.querySelectorAll('text')) {
        if (!shown(t, gd)) continue;
        const cut = outside(ink(t), frame);
        if (cut.length) {
          chart.defects.push({kind: 'clipped', what: 'legend entry', text: clean(t.textContent)
            .slice(0, 80), sides: cut});
        }
      }
    });

    for (const t of titles) {
      const cut = outside(t.box, frame);
      if (cut.length) chart.defects.push({kind: 'clipped', what: t.kind, text: t.text, sides: cut});
    }

    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        const o = overlap(labels[i].box, labels[j].box);
        if (o) {
          chart.defects.push({kind: 'overlap', what: 'data label', text: labels[i].text,
                              with: 'data label', other: labels[j].text, px: o});
        }
      }
    }
    charts.push(chart);
  });
  return charts;
}
"""


def chart_geometry(pg, tol: float = 2) -> list[dict]:
    """Every visible plotly chart on the page with its raw defects (see ``GEOMETRY_JS``)."""
    return pg.evaluate(GEOMETRY_JS, tol)


def _some(texts: list[str], most: int = 6) -> str:
    return ", ".join(texts[:most]) + (f" (+{len(texts) - most} more)" if len(texts) > most else "")


def describe_defects(chart: dict) -> list[str]:
    """One readable line per kind of defect of a chart, e.g.
    ``chart 'Accuracy vs latency' [key cmp_lat]: legend overlaps x tick labels '1', '10';
    x-axis title 'p95 latency (ms)' (largest overlap 120x9 px)``."""
    title = chart["title"]
    if len(title) > 70:
        title = title[:69] + "…"
    name = f"chart {title!r}" if title else f"chart #{chart['index'] + 1}"
    if chart["key"]:
        name += f" [key {chart['key']}]"
    lines = []
    legend_hits: dict[str, list[str]] = {}
    biggest = [0, 0]
    label_pairs = []
    cut_entries: list[str] = []
    cut_sides: dict[str, int] = {}
    for d in chart["defects"]:
        if d["kind"] == "overlap" and d["what"] == "legend":
            legend_hits.setdefault(d["with"], []).append(repr(d["text"]))
            biggest = max(biggest, d["px"], key=lambda p: p[0] * p[1])
        elif d["kind"] == "overlap":
            label_pairs.append(f"{d['text']!r}/{d['other']!r}")
        elif d["what"] == "legend entry":
            cut_entries.append(repr(d["text"]))
            for side in d["sides"]:  # "bottom by 22 px": the most on each side
                where, _, px = side.partition(" by ")
                cut_sides[where] = max(cut_sides.get(where, 0), int(px.split()[0]))
        else:
            what = "the chart title" if d["what"] == "chart title" else f"{d['what']} {d['text']!r}"
            lines.append(f"{name}: {what} is cut off ({', '.join(d['sides'])} outside the chart)")
    if legend_hits:
        parts = [
            f"{kind}{'s' if len(texts) > 1 else ''} {_some(texts)}"
            for kind, texts in legend_hits.items()
        ]
        lines.insert(
            0,
            f"{name}: legend overlaps {'; '.join(parts)} "
            f"(largest overlap {biggest[0]}x{biggest[1]} px)",
        )
    if cut_entries:
        lines.append(
            f"{name}: legend entr{'ies' if len(cut_entries) > 1 else 'y'} {_some(cut_entries)} "
            f"cut off ({', '.join(f'{k} by up to {v} px' for k, v in cut_sides.items())} "
            "outside the chart)"
        )
    if label_pairs:
        lines.append(f"{name}: data labels overlap: {_some(label_pairs)}")
    return lines

"""Issue 17, point 6: several people at once. Five browser sessions (Playwright contexts on one
Debian Chromium, localhost only) open Demo, Compare, Cost and Results at the same time while a
real run is in progress and a second one waits for the device: every page renders without an
exception or the "Something went wrong" box, the p95 page settle time is reported (printed and
written to test-artifacts/browser/load.txt), both runs finish, the second after the first (one
run at a time per device), and none is lost. The store holds under concurrent readers and a
writer process with SQLite (WAL, busy timeout) and with PostgreSQL (LEANBENCH_TEST_PG_URL).

Bounded: the page phase stops at PAGE_BUDGET_S, and the runs must end RUN_BUDGET_S after it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing as mp
import os
import threading
import time

import pytest

from tests.helpers.browser import (
    BUSY,
    CHROMIUM,
    CHROMIUM_ARGS,
    SHOTS,
    load_demo_into,
    streamlit_server,
)

SESSIONS = 5
PAGES = ["demo", "compare", "cost", "results"]
# On a quiet two-core machine the pages settle in seconds and the two runs take about a minute;
# the budgets leave room for a machine busy with other work, and stop the test if it is stuck.
PAGE_BUDGET_S = 150
RUN_BUDGET_S = 180
ERRORS_JS = """
() => {
  const out = [];
  for (const el of document.querySelectorAll('[data-testid="stException"]')) {
    out.push('exception shown: ' + el.innerText.slice(0, 300));
  }
  for (const el of document.querySelectorAll('[data-testid="stAlert"], [role="alert"]')) {
    const t = el.innerText;
    if (t.toLowerCase().includes('something went wrong')) out.push('error box: ' + t.slice(0, 300));
  }
  return out;
}
"""


def tiny_spec(model_dir, batch: int):
    """The smallest real run: the tiny BERT on 100 built-in reviews, fp32 only, one batch size
    (the second run differs in its batch size only, so it reuses the adapted baseline)."""
    from lib.spec import AdaptSpec, DatasetSpec, MeasureSpec, ModelSpec, RunSpec

    return RunSpec(
        model=ModelSpec(str(model_dir)),
        dataset=DatasetSpec("rotten-tomatoes", train_limit=100, eval_limit=60),
        variants=["fp32"],
        adapt=AdaptSpec(epochs=0.2, max_length=32),
        measure=MeasureSpec(
            batch_sizes=[batch], seq_len=32, warmup=1, min_repeats=2, min_seconds=0.1,
            paired_rounds=0, eval_batch_size=16,
        ),
        name=f"load test, batch {batch}",
    )  # fmt: skip


# ------------------------------------------------------------------ the browser sessions
async def _settle(pg, timeout: float = 45) -> None:
    """Until the page has its title and Streamlit has stopped rerunning (as helpers.settle)."""
    await pg.wait_for_selector("h1", timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and quiet < 3:
        quiet = quiet + 1 if await pg.query_selector(BUSY) is None else 0
        await asyncio.sleep(0.3)


async def _session(browser, url: str, index: int, times: list, problems: list, deadline: float):
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    pg = await context.new_page()
    order = PAGES[index % len(PAGES) :] + PAGES[: index % len(PAGES)]  # not all on one page
    try:
        for name in order:
            if time.monotonic() > deadline:
                problems.append(f"session {index}: out of time before {name}")
                break
            start = time.monotonic()
            try:
                await pg.goto(f"{url}/{name}", wait_until="domcontentloaded")
                await _settle(pg)
            except Exception as exc:  # noqa: BLE001 - reported with the page's name
                problems.append(f"session {index}, {name}: did not render ({exc!r:.200})")
                continue
            times.append((name, time.monotonic() - start))
            problems += [f"session {index}, {name}: {p}" for p in await pg.evaluate(ERRORS_JS)]
    finally:
        await context.close()


async def _all_sessions(url: str) -> tuple[list, list]:
    from playwright.async_api import async_playwright

    times: list = []
    problems: list = []
    deadline = time.monotonic() + PAGE_BUDGET_S
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await asyncio.gather(
                *(_session(browser, url, i, times, problems, deadline) for i in range(SESSIONS))
            )
        finally:
            await browser.close()
    return times, problems


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered) + 0.5) - 1))]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_five_sessions_while_runs_queue(isolated_home, tiny_model_dir):
    from lib.execution import jobs
    from lib.store import Store

    load_demo_into(isolated_home)
    store = Store()
    with streamlit_server(isolated_home) as url:
        first = jobs.start_background(tiny_spec(tiny_model_dir, 1), store)
        second = jobs.start_background(tiny_spec(tiny_model_dir, 2), store)
        assert store.get_run(second)["status"] == "queued"
        times, problems = asyncio.run(_all_sessions(url))
        live_during = {r["status"] for r in (store.get_run(first), store.get_run(second))}

        deadline = time.monotonic() + RUN_BUDGET_S
        while time.monotonic() < deadline:
            runs = [store.get_run(first), store.get_run(second)]
            if all(r["status"] not in jobs.LIVE for r in runs):
                break
            time.sleep(2)

    durations = [t for _, t in times]
    lines = [
        f"{SESSIONS} browser sessions x {len(PAGES)} pages ({', '.join(PAGES)}) while a run was "
        f"in progress ({sorted(live_during)}): {len(durations)} page loads",
        f"p95 page settle time: {p95(durations):.1f} s (load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores)"
        if durations
        else "no page settled",
        f"median: {sorted(durations)[len(durations) // 2]:.1f} s, max {max(durations):.1f} s"
        if durations
        else "",
        *[f"{name}: {t:.1f} s" for name, t in sorted(times)],
        *problems,
    ]
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "load.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:3]))

    assert not problems, "\n".join(problems)
    assert len(durations) == SESSIONS * len(PAGES)
    assert live_during & {"queued", "running"}, "the run ended before the pages were opened"

    a, b = store.get_run(first), store.get_run(second)
    log = (isolated_home / "logs" / f"{second}.log").read_text(errors="replace")[-2000:]
    assert (a["status"], b["status"]) == ("done", "done"), (a["message"], b["message"], log)
    assert [r.variant for r in store.variant_results(first)] == ["fp32"]  # none lost
    assert [r.variant for r in store.variant_results(second)] == ["fp32"]
    waited = [e for e in store.events_for(second, limit=500) if e["stage"] == "queued"]
    assert waited, "the second run did not wait for the device"
    started = [e["at"] for e in store.events_for(second, limit=500) if e["stage"] != "queued"]
    # One run at a time on the CPU: the second started measuring once the first had finished.
    assert min(started) >= a["finished_at"] - dt.timedelta(seconds=1)


# ------------------------------------------------------------------ the store under load
N_WRITES = 40


def _writer(url: str, run_id: str) -> None:
    from lib.store import Store

    store = Store(url)
    for i in range(N_WRITES):
        store.add_result(run_id, i, {"variant": f"v{i}", "status": "ok", "accuracy": 0.5})
        store.add_event(run_id, f"variant:v{i}", f"v{i} done", i / N_WRITES)


def _hammer(url: str) -> None:
    """Five readers (the page sessions) poll a run while a worker process writes to it."""
    from lib.store import Store

    store = Store(url)
    run_id = store.create_run({"name": "under load"}, status="running")
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        mine = Store(url)
        while not stop.is_set():
            try:
                mine.list_runs(limit=50)
                mine.results_for(run_id)
                mine.events_for(run_id, limit=200)
                mine.get_run(run_id)
            except BaseException as exc:  # noqa: BLE001 - collected and failed below
                errors.append(exc)
                return

    readers = [threading.Thread(target=reader) for _ in range(SESSIONS)]
    for t in readers:
        t.start()
    proc = mp.get_context("spawn").Process(target=_writer, args=(url, run_id))
    proc.start()
    proc.join(120)
    stop.set()
    for t in readers:
        t.join(30)
    assert proc.exitcode == 0
    assert not errors, errors
    assert [r["variant"] for r in store.results_for(run_id)] == [f"v{i}" for i in range(N_WRITES)]
    assert len(store.events_for(run_id, limit=1000)) == N_WRITES


def test_sqlite_store_holds_readers_and_a_writer(tmp_path):
    from lib.store import Store

    url = f"sqlite:///{tmp_path / 'load.db'}"
    with Store(url).engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60000
    _hammer(url)


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("LEANBENCH_TEST_PG_URL"), reason="set LEANBENCH_TEST_PG_URL")
def test_postgres_store_holds_readers_and_a_writer():
    _hammer(os.environ["LEANBENCH_TEST_PG_URL"])

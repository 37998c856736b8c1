"""Runs on one machine take turns per device: the second waits, says so, and starts after."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

from lib.execution import jobs

HOLD_S = 3.0


def hold_lock(device: str, log: str, held, release, hold_s: float) -> None:
    """Hold the lock until ``release`` is set (or ``hold_s`` passes), then a little longer."""
    with jobs.device_lock(device):
        _log(log, "first:start")
        held.set()
        release.wait(hold_s)
        time.sleep(0.5)  # the second run is now blocked on the lock
        _log(log, "first:end")


def wait_for_lock(device: str, log: str, ready) -> None:
    ready.set()
    with jobs.device_lock(device, on_wait=lambda: _log(log, "second:waiting")):
        _log(log, "second:start")


def _log(path: str, what: str) -> None:
    with open(path, "a") as fh:
        fh.write(f"{time.time():.6f} {what}\n")


def _read(path: Path) -> list[tuple[float, str]]:
    return [(float(t), w) for t, w in (line.split() for line in path.read_text().splitlines())]


def _start_holder(device: str, log: Path, hold_s: float = HOLD_S, release=None):
    ctx = mp.get_context("spawn")
    held = ctx.Event()
    release = release or ctx.Event()
    proc = ctx.Process(target=hold_lock, args=(device, str(log), held, release, hold_s))
    proc.start()
    assert held.wait(60), "the first run never got the lock"
    return proc


def test_second_run_on_the_same_device_waits_and_says_so(tmp_path):
    log = tmp_path / "order.log"
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    first = _start_holder("cpu", log, hold_s=60, release=ready)
    second = ctx.Process(target=wait_for_lock, args=("cpu", str(log), ready))
    second.start()
    first.join(60)
    second.join(60)
    assert first.exitcode == 0 and second.exitcode == 0
    entries = _read(log)
    assert [w for _, w in entries] == ["first:start", "second:waiting", "first:end", "second:start"]
    times = dict((w, t) for t, w in entries)
    assert times["second:start"] >= times["first:end"]


def test_a_free_device_does_not_wait_and_devices_are_independent(tmp_path):
    log = tmp_path / "order.log"
    first = _start_holder("gpu", log, hold_s=0.5)  # ends 1 s after it got the lock
    calls = []
    with jobs.device_lock("cpu", on_wait=lambda: calls.append("waited")):
        _log(str(log), "cpu:start")
    first.join(60)
    assert calls == []
    order = [w for _, w in _read(log)]
    assert order.index("cpu:start") < order.index("first:end")  # ran while the GPU was busy


def test_lock_names_group_devices():
    assert jobs.lock_device_name("cpu") == "cpu"
    assert {jobs.lock_device_name(d) for d in ("cuda", "mps", "auto")} == {"gpu"}


def test_a_queued_worker_reports_waiting_in_the_store(tmp_path, monkeypatch):
    from lib.execution import runner
    from lib.spec import RunSpec
    from lib.store import Store

    store = Store()
    run_id = store.create_run(RunSpec().to_dict(), status="queued")
    started = []
    monkeypatch.setattr(runner, "execute", lambda spec, st, run_id: started.append(time.time()))
    log = tmp_path / "order.log"
    first = _start_holder("cpu", log)
    assert jobs.run_worker(run_id, store) == 0
    first.join(60)
    events = store.events_for(run_id)
    assert events[0]["stage"] == "queued" and "waiting for another run" in events[0]["message"]
    end_of_first = dict((w, t) for t, w in _read(log))["first:end"]
    assert started and started[0] >= end_of_first

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


def test_runs_take_the_machine_in_the_order_they_were_queued(monkeypatch):
    # Two workers started together race for the lock; the younger one wins it here (it starts
    # first) and must give it to the older run, which the queue promised would go first.
    import os
    import threading

    from lib.execution import runner
    from lib.spec import RunSpec
    from lib.store import Store

    store = Store()
    older = store.create_run(RunSpec().to_dict(), status="queued")
    time.sleep(0.01)
    younger = store.create_run(RunSpec().to_dict(), status="queued")
    for run_id in (older, younger):  # as start_background records each worker it spawns
        store.update_run(run_id, pid=os.getpid(), host=jobs.socket.gethostname())
    order: list[str] = []

    def execute(spec, st, run_id):
        order.append(run_id)
        st.update_run(run_id, status="running")
        time.sleep(0.3)
        st.update_run(run_id, status="done")

    monkeypatch.setattr(runner, "execute", execute)
    monkeypatch.setattr(jobs, "HAND_OVER_S", 0.05)
    young = threading.Thread(target=jobs.run_worker, args=(younger, store))
    young.start()
    time.sleep(0.5)  # the younger worker holds the lock, sees the older run waiting, hands over
    assert order == []
    old = threading.Thread(target=jobs.run_worker, args=(older, store))
    old.start()
    old.join(30)
    young.join(30)
    assert order == [older, younger]
    waited = [e["message"] for e in store.events_for(younger) if e["stage"] == "queued"]
    assert len(waited) == 1  # said once, however many turns it took


def test_an_older_run_counts_only_while_it_can_still_start(monkeypatch):
    import os

    from lib.spec import RunSpec
    from lib.store import Store

    store = Store()
    spec = RunSpec().to_dict()
    older = store.create_run(spec, status="queued")
    time.sleep(0.01)
    me = store.create_run(spec, status="queued")
    host = jobs.socket.gethostname()
    store.update_run(older, pid=os.getpid(), host=host)
    assert jobs.older_run_waiting(store, store.get_run(me), "cpu")
    assert not jobs.older_run_waiting(store, store.get_run(older), "cpu")  # nothing before it
    assert not jobs.older_run_waiting(store, store.get_run(me), "gpu")  # another device
    store.update_run(older, host="another-machine")
    assert not jobs.older_run_waiting(store, store.get_run(me), "cpu")  # another machine's queue
    store.update_run(older, host=host, pid=2**22 + 12345)  # a worker that died
    assert not jobs.older_run_waiting(store, store.get_run(me), "cpu")
    store.update_run(older, pid=os.getpid(), status="running")  # it has the machine already
    assert not jobs.older_run_waiting(store, store.get_run(me), "cpu")

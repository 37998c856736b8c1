"""Runs that outlive the page: a detached worker process per run, queued per device.

The page creates the run in the store and starts ``python -m lib worker RUN_ID``; the worker
waits for the device lock (one run at a time per device on a machine, so runs don't disturb each
other's timings), then executes the run. Progress and results go to the store, which the page
polls; touching a widget, switching page or reloading the browser does not touch the worker.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import psutil

from lib.paths import REPO_ROOT, user_dir
from lib.spec import RunSpec
from lib.store import Store

ROOT = REPO_ROOT


def start_background(spec: RunSpec, store: Store) -> str:
    """Create the run and start its worker; returns at once with the run id."""
    run_id = store.create_run(spec.to_dict(), status="queued", name=spec.name)
    logs = user_dir() / "logs"
    logs.mkdir(exist_ok=True)
    with open(logs / f"{run_id}.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lib", "worker", run_id, "--store", store.url],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not a child of the Streamlit session: survives reruns
        )
    store.update_run(run_id, pid=proc.pid, host=socket.gethostname(), message="queued")
    return run_id


@contextlib.contextmanager
def device_lock(device: str, on_wait=None) -> Iterator[None]:
    """Hold this machine's lock for ``device``; calls ``on_wait()`` once if another run holds it."""
    locks = user_dir() / "locks"
    locks.mkdir(exist_ok=True)
    with open(locks / f"{device}.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def lock_device_name(device: str) -> str:
    return "gpu" if device in ("cuda", "mps", "auto") else "cpu"


def run_worker(run_id: str, store: Store) -> int:
    from lib.errors import UserError
    from lib.execution import runner

    run = store.get_run(run_id)
    if run is None:
        print(f"no run {run_id}", file=sys.stderr)
        return 2
    spec = RunSpec.from_dict(run["spec"])
    store.update_run(run_id, pid=os.getpid(), host=socket.gethostname())

    def waiting() -> None:
        store.add_event(run_id, "queued", "waiting for another run on this machine to finish", 0.0)

    with device_lock(lock_device_name(spec.measure.device), on_wait=waiting):
        try:
            runner.execute(spec, store, run_id=run_id)
        except UserError:
            return 2
    return 0


def reap_dead_runs(store: Store) -> None:
    """Mark runs whose worker died on this host (a reboot, a kill) as interrupted."""
    host = socket.gethostname()
    for run in store.list_runs(limit=50):
        if run["status"] in ("queued", "running") and run["host"] == host and run["pid"]:
            if not _alive(run["pid"]):
                store.update_run(
                    run["id"],
                    status="interrupted",
                    message="the worker process stopped before finishing; results so far are kept",
                )


def _alive(pid: int) -> bool:
    try:
        p = psutil.Process(pid)
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False

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
import time
from collections.abc import Iterator

import psutil

from lib.access import limits, roles
from lib.errors import UserError
from lib.paths import REPO_ROOT, user_dir
from lib.schema import Status
from lib.spec import RunSpec
from lib.store import Store

ROOT = REPO_ROOT
LIVE = (Status.QUEUED, Status.RUNNING)  # a run whose worker has not finished


class RunAlreadyActive(UserError):
    """Starting a run whose spec is the same as one already queued or running in the store."""

    def __init__(self, run: dict):
        from lib.execution.runs import run_title, when

        self.run_id = str(run["id"])
        self.status = str(run["status"])
        super().__init__(
            f"An identical run is already {self.status}: {run_title(run)} (run {self.run_id}, "
            f"started {when(run.get('created_at')) or 'just now'}). It was not started twice: "
            "watch it on the Run page or see its results so far on Results, or change a "
            "setting to start a different run."
        )


def _same_spec(stored: dict | None, wanted: dict) -> bool:
    """True when a stored spec is ``wanted`` once read back as a RunSpec (defaults filled in)."""
    try:
        return RunSpec.from_dict(dict(stored or {})).to_dict() == wanted
    except (UserError, TypeError, ValueError):
        return stored == wanted


def identical_active_run(spec: RunSpec, store: Store) -> dict | None:
    """The newest queued or running run in ``store`` whose spec is ``spec``, if any."""
    wanted = spec.to_dict()
    for run in store.list_runs(limit=50):
        if run["status"] in LIVE and _same_spec(run.get("spec"), wanted):
            return run
    return None


def live_runs(store: Store) -> list[dict]:
    """The runs queued or running in ``store`` (the queue ``limits.max_queued`` caps)."""
    return [r for r in store.list_runs(limit=200) if r["status"] in LIVE]


def start_background(spec: RunSpec, store: Store, role: str = roles.OPERATOR) -> str:
    """Create the run and start its worker; returns at once with the run id.

    ``RunAlreadyActive`` (a UserError saying which run) when the same spec is already queued or
    running in this store: a second click, a second tab or a reload does not queue a duplicate.
    Runs whose worker died on this machine are marked interrupted first, so they don't count.
    A UserError too for a ``role`` that may not start runs (a viewer), and when the queue is
    full (``LEANBENCH_MAX_QUEUED`` runs queued or running, ``lib.access.limits``)."""
    roles.check(role, "start_run")
    reap_dead_runs(store)
    same = identical_active_run(spec, store)
    if same is not None:
        raise RunAlreadyActive(same)
    limits.check_queue(len(live_runs(store)))
    run_id = store.create_run(spec.to_dict(), status="queued", name=spec.name)
    logs = user_dir() / "logs"
    logs.mkdir(exist_ok=True)
    with open(logs / f"{run_id}.log", "ab") as log:
        proc = subprocess.Popen(
            # The store URL goes in the environment, not the command line that `ps` shows.
            [sys.executable, "-m", "lib", "worker", run_id],
            env={**os.environ, "LEANBENCH_STORE": store.url},
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
    from lib.execution import runner

    run = store.get_run(run_id)
    if run is None:
        print(f"no run {run_id}", file=sys.stderr)
        return 2
    spec = RunSpec.from_dict(run["spec"])
    store.update_run(run_id, pid=os.getpid(), host=socket.gethostname())
    device = lock_device_name(spec.measure.device)
    said: list[bool] = []

    def waiting() -> None:
        if not said:  # once, however many turns it takes
            said.append(True)
            store.add_event(
                run_id, "queued", "waiting for another run on this machine to finish", 0.0
            )

    # Runs take the machine in the order they were queued: two workers started together race
    # for the lock, so the one that wins gives it back while an older run still waits for it.
    while True:
        with device_lock(device, on_wait=waiting):
            if not older_run_waiting(store, run, device):
                try:
                    runner.execute(spec, store, run_id=run_id)
                except UserError:
                    return 2
                return 0
        waiting()
        time.sleep(HAND_OVER_S)


HAND_OVER_S = 0.5  # how long a worker that gave the machine to an older run waits to ask again


def older_run_waiting(store: Store, run: dict, device: str) -> bool:
    """Is a run queued before ``run``, on this host and the same device, still waiting to start
    (status "queued", its worker alive)? Then it goes first."""
    host = socket.gethostname()
    mine = run.get("created_at")
    for other in store.list_runs(limit=200):
        if other["id"] == run["id"] or other["status"] != "queued" or other.get("host") != host:
            continue
        if mine is None or other.get("created_at") is None or other["created_at"] >= mine:
            continue
        other_device = ((other.get("spec") or {}).get("measure") or {}).get("device") or "cpu"
        if lock_device_name(str(other_device)) != device:
            continue
        if other.get("pid") and _alive(int(other["pid"])):
            return True
    return False


def reap_dead_runs(store: Store) -> None:
    """Mark runs whose worker died on this host (a reboot, a kill) as interrupted."""
    host = socket.gethostname()
    for run in store.list_runs(limit=50):
        if run["status"] in LIVE and run["host"] == host and run["pid"]:
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

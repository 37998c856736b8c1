"""One run of a sweep, on the node Ray placed it on (``lib.sweep.dispatch`` submits it).

The node installs the pair's bundle (``lib.sweep.bundle``), then runs the ordinary runner
(``lib.execution.runner.execute``) on the shipped baseline: each variant in its own process,
each result in the shared store the moment it is measured, exactly as ``python -m lib run``
does. The run's stored environment is stamped with where it ran (``cluster``: the Ray node id,
its address and host, its labels, the machine kind asked for and the bundle it measured); its
stored spec stays the sweep's (the driver wrote it: the built-in model's name, not the node's
unpacked copy).

The machine's own run lock (``lib.execution.jobs.device_lock``) is held as well, so a run
started on that machine outside Ray waits for the sweep's, and the other way round.
"""

from __future__ import annotations

import copy
import os
import socket
from typing import Any

from lib.errors import UserError
from lib.spec import RunSpec
from lib.store import Store
from lib.sweep.bundle import BundleFacts, Installed, install


def node_spec(spec: RunSpec, installed: Installed, facts: BundleFacts) -> RunSpec:
    """The run spec this node executes: the shipped baseline and data file in place of the
    sources named in the sweep (a Hub model that needed no head is loaded as it is)."""
    out = copy.deepcopy(spec)
    if installed.baseline is not None:
        out.model.source = str(installed.baseline)
    elif facts.baseline_location:
        out.model.source = facts.baseline_location
    if installed.data_file is not None:
        out.dataset.source = str(installed.data_file)
    return out


def measure_run(
    spec_dict: dict[str, Any],
    run_id: str,
    store_url: str,
    blob: bytes,
    facts_dict: dict[str, Any],
    stamp: dict[str, Any],
) -> dict[str, Any]:
    """Measure the run ``run_id`` here; returns its final status and message.

    A run whose input is wrong (``UserError``) is failed in the store and reported, not raised:
    another node of the same kind would fail it the same way."""
    from lib.execution import jobs, runner

    store = Store(store_url)
    facts = BundleFacts.from_dict(facts_dict)
    installed = install(blob, facts)
    spec = RunSpec.from_dict(spec_dict)
    here = node_spec(spec, installed, facts)
    cluster = {
        **stamp,
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "baseline_bundle": facts.digest,
        "cache_entries_replaced": installed.replaced,
    }
    extra = {
        "adapted": facts.adapted,
        "adapt_cached": True,
        "adapt_seconds": facts.adapt_seconds,
        "adapt_steps": facts.adapt_steps,
        "baseline_bundle": facts.digest,
        "baseline_built_on": facts.built_on,
    }
    stamped = {"environment": False, "extra": False}

    def progress(stage: str, message: str, fraction: float | None) -> None:
        # The runner writes the environment before its first event and the baseline facts
        # before the first variant: each is completed once it exists.
        if not stamped["environment"]:
            stamped["environment"] = _merge(store, run_id, "environment", {"cluster": cluster})
        if not stamped["extra"] and stage.startswith("variant:"):
            stamped["extra"] = _merge(store, run_id, "extra", extra)

    def waiting() -> None:
        store.add_event(run_id, "queued", "waiting for another run on this machine to finish", 0.0)

    store.update_run(run_id, host=socket.gethostname(), pid=os.getpid(), message="starting")
    with jobs.device_lock(jobs.lock_device_name(spec.measure.device), on_wait=waiting):
        try:
            runner.execute(here, store, run_id=run_id, progress=progress)
        except UserError as exc:
            store.update_run(run_id, status="failed", message=str(exc))
    # Idempotent: fills in a stamp the progress never got to (a run that failed early).
    _merge(store, run_id, "environment", {"cluster": cluster})
    _merge(store, run_id, "extra", extra)
    run = store.get_run(run_id) or {}
    return {
        "run_id": run_id,
        "status": run.get("status") or "failed",
        "message": run.get("message") or "",
        "node_id": stamp.get("node_id"),
    }


def _merge(store: Store, run_id: str, column: str, values: dict[str, Any]) -> bool:
    """Merge ``values`` into the run's JSON ``column``; False when the column is still empty
    and ``values`` would be all of it (the runner has not written it yet)."""
    run = store.get_run(run_id) or {}
    current = run.get(column)
    if not current and column == "extra" and run.get("status") == "running":
        return False
    store.update_run(run_id, **{column: {**(current or {}), **values}})
    return True

"""The sweep's driver: one task per free node, every state in the store, nothing lost to a fault.

``run_sweep`` plans the runs (``lib.sweep.spec.expand``), checks them as ``run`` would, fails at
once for a machine kind no node offers, then drives the cluster:

1. **Builds** (one per model x dataset pair still to measure): a task on any node of the sweep
   prepares the adapted baseline and the trained variants once (``lib.sweep.build``); the driver
   keeps the bundle on its disk (a re-submitted sweep ships the same weights) and puts it in
   Ray's object store.
2. **Runs**: each planned run becomes a task pinned to a free node of its kind that holds the
   node whole (``lib.sweep.nodes.placement``); the node installs the bundle and measures
   (``lib.sweep.task``). One task per node at a time.
3. **Faults**: a task whose node dies (or whose worker crashes) is retried on another node of the
   same kind, at most ``retries`` times, as a new run; the lost attempt's run is marked failed
   with the reason and the results it stored stay. A kind whose last node is gone fails its
   remaining runs at once, with the reason.
4. **Idempotency**: a planned run whose key (run spec + machine kind, ``lib.sweep.spec.run_key``)
   is already done in the store, in this sweep or another, is skipped; a re-submitted sweep
   finds its own row (its id is a hash of its run keys) and does only what is missing.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lib.errors import UserError
from lib.paths import user_dir
from lib.spec import RunSpec
from lib.store import Store
from lib.sweep import bundle
from lib.sweep.bundle import BundleFacts
from lib.sweep.identity import run_identities
from lib.sweep.nodes import Node, alive_nodes, check_targets, placement, shared_machines
from lib.sweep.spec import KEY_VERSION, PlannedRun, SweepSpec, expand, run_key, sweep_id

EventFn = Callable[[str], None]
STALE_S = 60.0  # a running sweep not heard from for this long has lost its driver
HEARTBEAT_S = 5.0
POLL_S = 1.0
NODES_EVERY_S = 2.0
DONE, FAILED, PENDING, RUNNING = "done", "failed", "pending", "running"
LOST = "lost"  # an attempt's state when its node (or worker) died under it


@dataclass
class RunState:
    """A planned run as the driver drives it."""

    planned: PlannedRun
    build_key: str
    status: str = PENDING
    attempts: int = 0
    run_id: str | None = None
    node: Node | None = None
    avoid: set[str] = field(default_factory=set)  # nodes where an attempt was lost
    history: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """One run of the ``--out`` JSON."""
        last = self.history[-1] if self.history else {}
        return {
            **self.planned.row(),
            "run_id": self.run_id,
            "node_id": self.node.node_id if self.node else last.get("node_id"),
            "node_ip": self.node.ip if self.node else last.get("node_ip"),
            "status": self.status,
            "attempts": self.attempts,
            "message": self.message,
            "history": self.history,
        }


@dataclass
class BuildState:
    """The bundle of one (model, dataset) pair."""

    key: str
    spec: RunSpec
    kinds: set[str]
    status: str = PENDING
    attempts: int = 0
    avoid: set[str] = field(default_factory=set)
    ref: Any = None  # the bundle in Ray's object store
    facts: BundleFacts | None = None
    message: str = ""


def build_key(spec: RunSpec, identities: dict[str, str]) -> str:
    """What a pair's bundle depends on: the model, the data and its split, the adaptation and
    the variants (not the machine kind, not the measurement settings)."""
    payload = {
        "model": identities.get("model"),
        "data": identities.get("data"),
        "dataset": asdict(spec.dataset) | {"source": None},
        "adapt": asdict(spec.adapt),
        "variants": sorted(spec.variants),
        "v": KEY_VERSION,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def plan(sweep: SweepSpec) -> tuple[str, list[tuple[PlannedRun, str]]]:
    """The sweep's id and its planned runs with their keys and build keys."""
    hashed: dict[str, str] = {}
    out = []
    for p in expand(sweep):
        ids = run_identities(p.spec, hashed)
        p.key = run_key(p.spec, p.target, ids)
        out.append((p, build_key(p.spec, ids)))
    return sweep_id([p.key for p, _ in out], sweep.name), out


def preflight(sweep: SweepSpec, planned: list[PlannedRun], on_event: EventFn) -> None:
    """What ``run`` checks before any work, once per model x dataset pair, here on the driver:
    the model loads, every variant applies to it, the data splits into enough examples."""
    from lib.execution import runner

    seen = set()
    for p in planned:
        if p.pair in seen:
            continue
        seen.add(p.pair)
        check = copy.deepcopy(p.spec)
        check.measure.device = "cpu"  # the GPU is on the node, maybe not here
        runner.preflight(check)
    for v in sweep.variants:
        for step in v.split("@")[0].split("+"):
            name, _, param = step.partition(":")
            if name.strip() == "student" and param and Path(param).expanduser().exists():
                on_event(
                    f"note: {v} reads the student folder {param} on each node: it must be on a "
                    "path every node sees (a shared file system), or name a Hub id."
                )


def portable_store_url(url: str) -> str:
    """The store URL as a node must see it: a SQLite path made absolute."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).expanduser().resolve()
        return parsed.set(database=str(path)).render_as_string(hide_password=False)
    return url


def check_store_reachable(url: str, nodes: list[Node], here: str) -> None:
    """A SQLite file lives on this machine: nodes on other machines cannot write to it."""
    if sa.engine.make_url(url).get_backend_name() != "sqlite":
        return
    away = sorted({n.ip for n in nodes if n.ip != here})
    if away:
        raise UserError(
            f"The store is a SQLite file on this machine, and nodes at {', '.join(away)} cannot "
            "write to it: give --store postgresql://USER:PASSWORD@HOST/DB (a server every node "
            "reaches)."
        )


def run_sweep(
    sweep: SweepSpec,
    store: Store,
    address: str | None = None,
    force: bool = False,
    on_event: EventFn | None = None,
) -> dict[str, Any]:
    """Run the sweep to the end; returns the outcome (``--out`` JSON): the sweep's id, status
    and counts, and every run with its id, target, node and status. ``UserError`` for bad input
    or a machine kind no node offers, before any work starts."""
    import ray

    from lib.sweep.session import connect, driver_ip

    say = on_event or (lambda _m: None)
    if not address and not ray.is_initialized() and len(sweep.targets) > 1:
        raise UserError(
            "Without --ray-address the sweep runs on this machine alone: give one target (the "
            "kind of this machine) or none, or point --ray-address at a cluster."
        )
    sid, planned = plan(sweep)
    preflight(sweep, [p for p, _ in planned], say)
    driver = f"{socket.gethostname()}:{os.getpid()}"
    _check_not_running(store, sid, driver)
    store_url = portable_store_url(store.url)
    with connect(address, sweep.machine_kinds[0]) as where:
        nodes = alive_nodes()
        check_targets(sweep.machine_kinds, nodes)
        check_store_reachable(store_url, nodes, driver_ip())
        shared = shared_machines(
            [n for n in nodes if any(n.serves(k) for k in sweep.machine_kinds)]
        )
        if shared and address:
            say(
                f"note: several nodes of this sweep share the machine at {', '.join(shared)}: "
                "their timings can disturb each other (one Ray node per machine keeps them apart)"
            )
        say(f"sweep {sid}: {len(planned)} runs on {where}")
        created = store.open_sweep(
            sid, sweep.to_dict(), name=sweep.name, address=address or "", driver=driver
        )
        if not created:
            say(f"sweep {sid} was submitted before: doing only what is missing")
        store.add_sweep_runs(sid, [p.row() for p, _ in planned])
        driver_loop = Dispatcher(sweep, store, sid, store_url, planned, force, say)
        return driver_loop.run()


def _check_not_running(store: Store, sid: str, driver: str) -> None:
    """``UserError`` when another live driver is running this sweep: its row is running and
    was heard from lately, and its process is alive (when it ran on this host)."""
    row = store.get_sweep(sid)
    if row is None or row["status"] != RUNNING or row["driver"] == driver:
        return
    host, _, pid = str(row["driver"]).rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid)):
        return  # its driver died here: take over
    seen = row["updated_at"]
    if seen.tzinfo is None:
        seen = seen.replace(tzinfo=dt.UTC)
    age = (dt.datetime.now(dt.UTC) - seen).total_seconds()
    if age < STALE_S:
        raise UserError(
            f"Sweep {sid} is already running (driver {row['driver']}, heard from {age:.0f} s "
            "ago): watch it on the Sweep page, or re-submit once it has stopped."
        )


class Dispatcher:
    """The loop that drives one sweep on the connected cluster (``run_sweep`` makes it)."""

    def __init__(
        self,
        sweep: SweepSpec,
        store: Store,
        sid: str,
        store_url: str,
        planned: list[tuple[PlannedRun, str]],
        force: bool,
        say: EventFn,
    ):
        import ray

        from lib.sweep.build import build_bundle
        from lib.sweep.task import measure_run

        self.ray = ray
        # Ray reuses a node's worker process from one task to the next (no new Python with
        # torch to start per run): nothing is timed in it, every variant is measured in a fresh
        # process of its own (lib.execution.runner.run_isolated).
        self.remote_build = ray.remote(build_bundle)
        self.remote_measure = ray.remote(measure_run)
        self.sweep, self.store, self.sid, self.store_url, self.say = (
            sweep,
            store,
            sid,
            store_url,
            say,
        )
        self.runs = [RunState(p, bk) for p, bk in planned]
        self.builds: dict[str, BuildState] = {}
        self.in_flight: dict[Any, tuple[Node, RunState | BuildState]] = {}
        self.dead: set[str] = set()
        self.nodes: list[Node] = []
        self._last_beat = 0.0
        self._resume(force)

    # ---------------------------------------------------------- start
    def _resume(self, force: bool) -> None:
        """Skip runs already done (here or in another sweep); take over runs a crashed driver
        left running (their runs are marked interrupted); plan one build per pair left."""
        rows = {r["key"]: r for r in self.store.sweep_runs_for(self.sid)}
        for r in self.runs:
            row = rows.get(r.planned.key) or {}
            r.history = list(row.get("history") or [])
            if row.get("status") == RUNNING and row.get("run_id"):
                self._interrupt_run(row["run_id"], "its sweep's driver stopped before it finished")
            done = None if force else self.store.done_run_for_key(r.planned.key)
            if done is not None:
                r.status, r.run_id = DONE, done["run_id"]
                r.message = (
                    str(row.get("message") or "")
                    if row.get("status") == DONE
                    else f"already measured in run {done['run_id']} (sweep {done['sweep_id']})"
                )
                self.store.update_sweep_run(
                    self.sid,
                    r.planned.key,
                    status=DONE,
                    run_id=done["run_id"],
                    node_id=done["node_id"],
                    node_ip=done["node_ip"],
                    message=r.message,
                )
                r.history = r.history or list(done.get("history") or [])
                continue
            self.store.update_sweep_run(self.sid, r.planned.key, status=PENDING, message="")
            b = self.builds.get(r.build_key)
            if b is None:
                b = self.builds[r.build_key] = BuildState(r.build_key, r.planned.spec, set())
                self._reuse_bundle(b)
            b.kinds.add(r.planned.target)
        skipped = sum(r.status == DONE for r in self.runs)
        if skipped:
            self.say(f"{skipped} of {len(self.runs)} runs already measured: skipped")

    def _reuse_bundle(self, b: BuildState) -> None:
        """A bundle this driver built before for the same pair: shipped again as it was."""
        kept = bundle.load(self._bundle_path(b.key))
        if kept is None:
            return
        blob, facts = kept
        b.ref, b.facts, b.status = self.ray.put(blob), facts, DONE
        self.say(f"baseline for {_pair(b.spec)}: the bundle built before ({facts.digest})")

    def _bundle_path(self, key: str) -> Path:
        return user_dir() / "sweep" / "shipped" / f"{key}.tar"

    # ---------------------------------------------------------- the loop
    def run(self) -> dict[str, Any]:
        last_nodes = -NODES_EVERY_S
        try:
            while not self._finished():
                if time.monotonic() - last_nodes >= NODES_EVERY_S:
                    self._refresh_nodes()
                    last_nodes = time.monotonic()
                self._fill()
                self._collect(POLL_S)
                self._heartbeat()
        except BaseException:
            self._stop("the sweep's driver stopped: re-submit the sweep to finish")
            raise
        return self._finish()

    def _finished(self) -> bool:
        return not self.in_flight and all(r.status in (DONE, FAILED) for r in self.runs)

    def _refresh_nodes(self) -> None:
        self.nodes = [n for n in alive_nodes() if n.node_id not in self.dead]
        for b in self.builds.values():
            if b.status == PENDING and not any(n.serves(k) for n in self.nodes for k in b.kinds):
                self._build_failed(b, "no live node of the sweep is left to build it on")
        for r in self.runs:
            if r.status == PENDING and not any(n.serves(r.planned.target) for n in self.nodes):
                self._run_failed(r, f"no live node of kind '{r.planned.target}' is left")

    def _fill(self) -> None:
        busy = {node.node_id for node, _ in self.in_flight.values()}
        for node in self.nodes:
            if node.node_id in busy:
                continue
            work = self._next_for(node)
            if isinstance(work, BuildState):
                self._submit_build(node, work)
            elif isinstance(work, RunState):
                self._submit_run(node, work)

    def _next_for(self, node: Node) -> RunState | BuildState | None:
        for b in self.builds.values():
            if b.status == PENDING and self._may_use(node, b.kinds, b.avoid) and self._needed(b):
                return b
        for r in self.runs:
            if r.status != PENDING or not node.serves(r.planned.target):
                continue
            b = self.builds[r.build_key]
            if b.status == DONE and self._may_use(node, {r.planned.target}, r.avoid):
                return r
        return None

    def _needed(self, b: BuildState) -> bool:
        return any(r.build_key == b.key and r.status == PENDING for r in self.runs)

    def _may_use(self, node: Node, kinds: set[str], avoid: set[str]) -> bool:
        """A node serving one of ``kinds``; one where an attempt was lost only when no other
        live node of those kinds is left."""
        if not any(node.serves(k) for k in kinds):
            return False
        if node.node_id not in avoid:
            return True
        return not any(
            n.node_id not in avoid and any(n.serves(k) for k in kinds) for n in self.nodes
        )

    # ---------------------------------------------------------- submitting
    def _submit_build(self, node: Node, b: BuildState) -> None:
        kind = next(k for k in sorted(b.kinds) if node.serves(k))
        b.status, b.attempts = RUNNING, b.attempts + 1
        info = {"node_id": node.node_id, "ip": node.ip, "host": node.hostname, "kind": node.kind}
        ref = self.remote_build.options(
            **placement(node, kind), name=f"leanbench-build-{b.key}"
        ).remote(b.spec.to_dict(), b.key, info)
        self.in_flight[ref] = (node, b)
        self.say(f"building the baseline for {_pair(b.spec)} on {node.describe()}")
        self.store.update_sweep(self.sid, message=f"building the baseline for {_pair(b.spec)}")

    def _submit_run(self, node: Node, r: RunState) -> None:
        b = self.builds[r.build_key]
        assert b.facts is not None
        p = r.planned
        r.status, r.attempts, r.node = RUNNING, r.attempts + 1, node
        r.run_id = self.store.create_run(p.spec.to_dict(), status="queued", name=p.spec.name)
        self.store.update_run(r.run_id, message=f"placed on {node.describe()}")
        r.history.append(
            {
                "attempt": r.attempts,
                "run_id": r.run_id,
                "node_id": node.node_id,
                "node_ip": node.ip,
                "status": RUNNING,
                "started": _now(),
            }
        )
        r.message = f"running on {node.describe()}"
        self._save(r, started_at=dt.datetime.now(dt.UTC))
        stamp = {
            "sweep_id": self.sid,
            "run_key": p.key,
            "attempt": r.attempts,
            "target": p.target,
            "node_id": node.node_id,
            "node_ip": node.ip,
            "labels": dict(node.labels),
            "node_cpus": node.cpus,
            "node_gpus": node.gpus,
        }
        ref = self.remote_measure.options(
            **placement(node, p.target), name=f"leanbench-run-{r.run_id}"
        ).remote(p.spec.to_dict(), r.run_id, self.store_url, b.ref, b.facts.to_dict(), stamp)
        self.in_flight[ref] = (node, r)
        self.say(
            f"run {p.position + 1}/{len(self.runs)} {p.spec.name}: started on {node.describe()}"
        )

    # ---------------------------------------------------------- outcomes
    def _collect(self, timeout: float) -> None:
        if not self.in_flight:
            time.sleep(timeout)
            return
        refs = list(self.in_flight)
        ready, rest = self.ray.wait(refs, num_returns=1, timeout=timeout)
        if ready and rest:
            more, _ = self.ray.wait(rest, num_returns=len(rest), timeout=0)
            ready = [*ready, *more]
        for ref in ready:
            node, work = self.in_flight.pop(ref)
            try:
                value = self.ray.get(ref)
            except self.ray.exceptions.RayTaskError as exc:  # the task's own error
                self._app_failure(work, node, _cause(exc))
            except self.ray.exceptions.RayError as exc:  # the node, the worker or Ray failed
                self._system_failure(work, node, exc)
            else:
                self._success(work, node, value)

    def _success(self, work: RunState | BuildState, node: Node, value: Any) -> None:
        if isinstance(work, BuildState):
            blob, facts_dict = value
            facts = BundleFacts.from_dict(facts_dict)
            bundle.save(blob, facts, self._bundle_path(work.key))
            work.ref, work.facts, work.status = self.ray.put(blob), facts, DONE
            del blob
            self.say(
                f"baseline for {_pair(work.spec)} built on {node.describe()} in "
                f"{facts.build_seconds:.0f} s ({facts.size_bytes / 1e6:.1f} MB, {facts.digest}): "
                "shipped to every node"
            )
            for variant, why in facts.failures.items():
                self.say(f"note: {variant} could not be built: {why}")
            return
        r = work
        status, message = value.get("status"), value.get("message") or ""
        r.history[-1].update(status=status, finished=_now())
        if status == DONE:
            r.status, r.message = DONE, message
            self._save(r)
            self.say(
                f"run {r.planned.position + 1}/{len(self.runs)} {r.planned.spec.name}: {message}"
            )
        else:
            r.history[-1]["reason"] = message
            self._run_failed(r, message or f"the run ended {status}")

    def _app_failure(self, work: RunState | BuildState, node: Node, reason: str) -> None:
        if isinstance(work, BuildState):
            self._build_failed(
                work, f"the baseline could not be built on {node.describe()}: {reason}"
            )
            return
        work.history[-1].update(status=FAILED, reason=reason, finished=_now())
        if work.run_id:
            self._fail_stored_run(work.run_id, reason)
        self._run_failed(work, reason)

    def _system_failure(self, work: RunState | BuildState, node: Node, exc: Exception) -> None:
        lost = (
            self.ray.exceptions.NodeDiedError,
            self.ray.exceptions.TaskUnschedulableError,
        )
        if isinstance(exc, lost):
            self.dead.add(node.node_id)
            self.nodes = [n for n in self.nodes if n.node_id != node.node_id]
        reason = f"{type(exc).__name__} on {node.describe()}: {_first_line(exc)}"
        work.avoid.add(node.node_id)
        retry = work.attempts <= self.sweep.retries
        if isinstance(work, BuildState):
            if retry:
                work.status, work.message = PENDING, f"attempt {work.attempts} lost: {reason}"
                self.say(f"baseline build lost ({reason}); retrying on another node")
            else:
                self._build_failed(work, f"lost {work.attempts} time(s): {reason}")
            return
        r = work
        r.history[-1].update(status=LOST, reason=reason, finished=_now())
        if r.run_id:
            self._fail_stored_run(
                r.run_id, f"the node was lost mid-run ({reason}); the results it stored are kept"
            )
        if retry:
            r.status, r.node = PENDING, None
            r.message = (
                f"attempt {r.attempts} lost ({reason}); retrying on another "
                f"'{r.planned.target}' node"
            )
            self._save(r)
            self.say(f"run {r.planned.position + 1}/{len(self.runs)}: {r.message}")
        else:
            self._run_failed(r, f"lost on {r.attempts} node(s), the last: {reason}")

    def _build_failed(self, b: BuildState, reason: str) -> None:
        b.status, b.message = FAILED, reason
        self.say(f"baseline for {_pair(b.spec)}: {reason}")
        for r in self.runs:
            if r.build_key == b.key and r.status == PENDING:
                self._run_failed(r, reason)

    def _run_failed(self, r: RunState, reason: str) -> None:
        r.status, r.message = FAILED, reason
        self._save(r)
        self.say(
            f"run {r.planned.position + 1}/{len(self.runs)} {r.planned.spec.name}: failed: {reason}"
        )

    def _fail_stored_run(self, run_id: str, reason: str) -> None:
        run = self.store.get_run(run_id)
        if run is not None and run["status"] in ("queued", RUNNING):
            self.store.update_run(run_id, status=FAILED, message=reason)

    def _interrupt_run(self, run_id: str, reason: str) -> None:
        run = self.store.get_run(run_id)
        if run is not None and run["status"] in ("queued", RUNNING):
            self.store.update_run(
                run_id, status="interrupted", message=f"{reason}; the results it stored are kept"
            )

    def _save(self, r: RunState, **extra: Any) -> None:
        node = r.node
        values: dict[str, Any] = {
            "status": r.status,
            "run_id": r.run_id,
            "attempts": r.attempts,
            "message": r.message,
            "history": list(r.history),
        }
        if node is not None:
            values.update(node_id=node.node_id, node_ip=node.ip)
        self.store.update_sweep_run(self.sid, r.planned.key, **values, **extra)

    # ---------------------------------------------------------- the sweep's row
    def _heartbeat(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._last_beat < HEARTBEAT_S:
            return
        self._last_beat = time.monotonic()
        self.store.update_sweep(self.sid, message=self._summary())

    def _summary(self) -> str:
        counts = {
            s: sum(r.status == s for r in self.runs) for s in (DONE, FAILED, RUNNING, PENDING)
        }
        return (
            f"{counts[DONE]} of {len(self.runs)} runs done, {counts[FAILED]} failed, "
            f"{counts[RUNNING]} running, {counts[PENDING]} pending"
        )

    def _stop(self, reason: str) -> None:
        """The driver is stopping early: what was running goes back to pending."""
        for _ref, (_node, work) in list(self.in_flight.items()):
            if isinstance(work, RunState) and work.run_id:
                self._interrupt_run(work.run_id, reason)
                work.status, work.message = PENDING, reason
                if work.history:
                    work.history[-1].update(status="interrupted", finished=_now())
                self._save(work)
        self.in_flight.clear()
        self.store.update_sweep(
            self.sid, status="interrupted", message=f"{reason} ({self._summary()})"
        )

    def _finish(self) -> dict[str, Any]:
        failed = sum(r.status == FAILED for r in self.runs)
        status = FAILED if failed else DONE
        summary = self._summary()
        self.store.update_sweep(self.sid, status=status, message=summary)
        self.say(f"sweep {self.sid}: {summary}")
        row = self.store.get_sweep(self.sid) or {}
        return {
            "sweep_id": self.sid,
            "name": self.sweep.name,
            "status": status,
            "message": summary,
            "address": row.get("address", ""),
            "counts": self.store.sweep_counts(self.sid),
            "bundles": {
                k: b.facts.to_dict() if b.facts else {"status": b.status, "message": b.message}
                for k, b in self.builds.items()
            },
            "runs": [r.to_dict() for r in self.runs],
        }


def _pid_alive(pid: int) -> bool:
    import psutil

    try:
        p = psutil.Process(pid)
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _pair(spec: RunSpec) -> str:
    return (
        f"{Path(spec.model.source).name or spec.model.source} on {Path(spec.dataset.source).name}"
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _cause(exc: Exception) -> str:
    """The task's own exception, as one line (a UserError's message as it is)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, UserError):
        return str(cause)
    if cause is not None:
        return f"{type(cause).__name__}: {_first_line(cause)}"
    return _first_line(exc)

"""Sweeps on a real Ray cluster on this machine (``conftest.ray_cluster``): placement by label,
one measurement per node at a time, one baseline everywhere, fail-fast for a machine kind no node
offers, a node killed mid-run, a driver killed mid-sweep, and the results on Compare's machine
pivot. Timings from one machine mean nothing here: these test the flow, not the speed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from lib.compare import machines
from lib.errors import UserError
from lib.store import Store
from lib.sweep.dispatch import plan, run_sweep
from tests.sweep.conftest import tiny_sweep

pytestmark = pytest.mark.ray
ROOT = Path(__file__).resolve().parents[2]


def _ray_nodes() -> dict[str, dict]:
    import ray

    return {n["NodeID"]: n for n in ray.nodes()}


def _span(store: Store, run_id: str) -> tuple[float, float]:
    """When the run worked on its node: its first and last event."""
    at = [e["at"].timestamp() for e in store.events_for(run_id, limit=1000)]
    return min(at), max(at)


def _cli(args: list[str], home: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "lib", "sweep", *args]
    env = {**os.environ, "LEANBENCH_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip


def test_runs_land_on_their_kind_alone_and_a_killed_driver_loses_nothing(
    ray_cluster, sweep_files, store_url, tmp_path, isolated_home
):
    """The CLI submits 2 datasets x 2 machine kinds; it is killed mid-sweep (the submitting
    process crashes); the same sweep re-submitted does only what was missing. Then: each run on a
    node of its kind, stamped with it; never two at once on a node; one baseline everywhere;
    the results on Compare's machine pivot."""
    store = Store(store_url)
    sweep = tiny_sweep(
        sweep_files,
        datasets=("reviews", "opinions"),
        variants=("fp32",),
        targets=("kind-a", "kind-b"),
    )
    spec_file = tmp_path / "sweep.json"
    spec_file.write_text(sweep.to_json())
    sid, _ = plan(sweep)
    proc = _cli(["--spec", str(spec_file), "--ray-address", ray_cluster.address,
                 "--store", store_url], isolated_home)  # fmt: skip
    try:
        deadline = time.monotonic() + 200
        while time.monotonic() < deadline and proc.poll() is None:
            counts = store.sweep_counts(sid) if store.get_sweep(sid) else {}
            if counts.get("done", 0) >= 1 and counts.get("running", 0) >= 1:
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        os.killpg(proc.pid, signal.SIGKILL)  # the submitting process crashes mid-sweep
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    before = {r["key"]: r for r in store.sweep_runs_for(sid)}
    done_before = {k: r["run_id"] for k, r in before.items() if r["status"] == "done"}
    assert done_before and any(r["status"] == "running" for r in before.values())

    events: list[str] = []
    out = run_sweep(sweep, store, on_event=events.append)
    assert out["status"] == "done", out["message"]
    assert out["counts"]["done"] == 4 and len(out["runs"]) == 4
    for key, run_id in done_before.items():  # not measured twice
        assert next(r for r in out["runs"] if r["key"] == key)["run_id"] == run_id
    assert any("already measured: skipped" in e for e in events)
    assert any("the bundle built before" in e for e in events)  # shipped as it was trained
    for key, row in before.items():
        if row["status"] == "running":  # the crashed driver's run: interrupted, redone
            assert store.get_run(row["run_id"])["status"] in ("interrupted", "failed")
            assert next(r for r in out["runs"] if r["key"] == key)["run_id"] != row["run_id"]

    nodes = _ray_nodes()
    spans: dict[str, list[tuple[float, float]]] = {}
    for r in out["runs"]:
        assert r["run_id"] and r["status"] == "done"
        labels = nodes[r["node_id"]]["Labels"]
        assert labels["leanbench.hardware"] == r["target"]  # on a node of the kind it asked for
        run = store.get_run(r["run_id"])
        stamp = run["environment"]["cluster"]  # the stored environment says which node
        assert (
            stamp["node_id"] == r["node_id"]
            and stamp["labels"]["leanbench.hardware"] == r["target"]
        )
        assert run["spec"]["model"]["source"] == str(sweep_files["model"])  # the sweep's spec
        results = store.variant_results(r["run_id"])
        assert [x.variant for x in results] == ["fp32"] and all(x.ok for x in results)
        spans.setdefault(r["node_id"], []).append(_span(store, r["run_id"]))
    assert max(len(v) for v in spans.values()) == 2  # kind-a's one node ran both of its runs
    for node_spans in spans.values():  # two runs never overlap on one node
        ordered = sorted(node_spans)
        assert all(a[1] <= b[0] for a, b in zip(ordered, ordered[1:], strict=False))
    # One baseline everywhere: the same bundle, the same fp32 answers on both machine kinds.
    for dataset in ("reviews", "opinions"):
        pair = [r for r in out["runs"] if Path(r["dataset"]).stem == dataset]
        bundles = {
            store.get_run(r["run_id"])["environment"]["cluster"]["baseline_bundle"] for r in pair
        }
        assert len(bundles) == 1
        preds = [np.asarray(store.variant_results(r["run_id"])[0].predictions) for r in pair]
        assert (preds[0] == preds[1]).all()

    # Compare's machine pivot: the same variants side by side on each machine kind.
    docs = [store.run_document(r["run_id"]) for r in out["runs"]]
    frame = machines.machine_frame(docs, 1)
    assert machines.machines(frame) == ["kind-a", "kind-b"]
    pivot = machines.machine_pivot(frame, "throughput")
    assert len(pivot) == 2 and pivot[["kind-a", "kind-b"]].notna().all().all()
    assert not machines.machine_ranking(frame, "throughput").empty

    # Re-submitted once more: nothing runs again.
    count = len(store.list_runs(limit=1000))
    again = run_sweep(sweep, store)
    assert again["sweep_id"] == out["sweep_id"] == sid and again["status"] == "done"
    assert [r["run_id"] for r in again["runs"]] == [r["run_id"] for r in out["runs"]]
    assert len(store.list_runs(limit=1000)) == count


def test_a_target_no_node_offers_fails_at_once(ray_cluster, sweep_files, store_url):
    store = Store(store_url)
    sweep = tiny_sweep(sweep_files, targets=("kind-a", "kind-z"))
    start = time.monotonic()
    with pytest.raises(UserError) as exc:
        run_sweep(sweep, store)
    assert time.monotonic() - start < 30
    assert "'kind-z'" in str(exc.value) and "kind-a (1 node)" in str(exc.value)
    sid, _ = plan(sweep)
    assert store.get_sweep(sid) is None  # nothing was started


def test_a_node_killed_mid_run_is_retried_on_another_of_its_kind(
    ray_cluster, sweep_files, store_url
):
    """Kills one of the two kind-b nodes (the last test to use the cluster)."""
    store = Store(store_url)
    sweep = tiny_sweep(sweep_files, targets=("kind-b",), retries=2)
    sid, _ = plan(sweep)
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(out=run_sweep(sweep, store)))
    thread.start()
    killed = None
    deadline = time.monotonic() + 150
    while killed is None and time.monotonic() < deadline and thread.is_alive():
        rows = store.sweep_runs_for(sid) if store.get_sweep(sid) else []
        row = rows[0] if rows else {}
        if row.get("status") == "running" and row.get("run_id"):
            if store.variant_results(row["run_id"]):  # its fp32 is stored: kill it now
                killed = (row["node_id"], row["run_id"])
                ray_cluster.remove(row["node_id"])
        time.sleep(0.2)
    thread.join(180)
    assert killed is not None, "the run never got to its first stored result"
    assert not thread.is_alive()
    out = box["out"]
    (run,) = out["runs"]
    assert out["status"] == "done" and run["status"] == "done" and run["attempts"] == 2
    lost, retried = run["history"]
    assert lost["node_id"] == killed[0] and lost["status"] == "lost"
    assert "Error" in lost["reason"]  # NodeDiedError or WorkerCrashedError, with the node
    assert retried["node_id"] != killed[0] and retried["status"] == "done"
    old = store.get_run(killed[1])
    assert old["status"] == "failed" and "lost mid-run" in old["message"]
    assert [r.variant for r in store.variant_results(killed[1])][:1] == ["fp32"]  # kept
    new = store.get_run(run["run_id"])
    assert new["environment"]["cluster"]["node_id"] == retried["node_id"]
    assert new["environment"]["cluster"]["labels"]["leanbench.hardware"] == "kind-b"
    assert len(store.variant_results(run["run_id"])) == 2

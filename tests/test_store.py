"""The SQLite store: a round trip, and two writer processes at once losing nothing."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from lib.errors import UserError
from lib.store import Store

N_PER_WRITER = 25


def check_round_trip(store: Store) -> None:
    spec = {"name": "round trip", "variants": ["fp32", "int8"], "measure": {"batch_sizes": [1]}}
    run_id = store.create_run(spec)
    assert store.get_run(run_id)["status"] == "queued"
    env = {"cpu_model": "AMD EPYC", "cpu_flags": ["AVX2"], "threads": 2}
    store.update_run(run_id, status="running", environment=env, hardware="AMD EPYC (2 threads)")
    store.add_event(run_id, "variant:fp32", "fp32: measuring", 0.5)
    result = {
        "variant": "fp32",
        "status": "ok",
        "accuracy": 0.9,
        "accuracy_ci": [0.8256, 0.9448],
        "p_value_vs_baseline": 1.0,
        "latency_ms": {"1": {"p50": 3.2, "p99": 4.1, "cv": 0.05, "unstable": False}},
        "energy_j_per_1k": 12.5,
        "energy_method": "estimated (codecarbon ...)",
        "predictions": [0, 1, 1],
    }
    store.add_result(run_id, 0, result)
    store.add_result(run_id, 1, {"variant": "int8", "status": "failed", "error": "boom"})
    store.update_run(run_id, status="done", message="1 of 2 variants measured", progress=1.0)

    run = store.get_run(run_id)
    assert run["status"] == "done" and run["finished_at"] is not None
    assert run["environment"] == env and run["spec"] == spec
    assert store.results_for(run_id) == [
        result,
        {"variant": "int8", "status": "failed", "error": "boom"},
    ]
    events = store.events_for(run_id)
    assert [e["message"] for e in events] == ["fp32: measuring"]
    doc = store.run_document(run_id)
    assert doc["results"][0]["accuracy_ci"] == [0.8256, 0.9448]
    assert "predictions" not in doc["results"][0]
    assert store.run_document(run_id, with_predictions=True)["results"][0]["predictions"] == [
        0,
        1,
        1,
    ]
    assert run_id in [r["id"] for r in store.list_runs()]


def writer(url: str, run_id: str, tag: str, n: int) -> None:
    store = Store(url)
    for i in range(n):
        store.add_result(run_id, i, {"variant": f"{tag}-{i}", "status": "ok", "i": i})
        store.add_event(run_id, tag, f"{tag} {i}", i / n)
    store.engine.dispose()


def check_concurrent_writers(url: str) -> None:
    store = Store(url)
    run_id = store.create_run({"name": "concurrent"})
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=writer, args=(url, run_id, tag, N_PER_WRITER)) for tag in ("a", "b")
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    variants = [r["variant"] for r in store.results_for(run_id)]
    assert len(variants) == 2 * N_PER_WRITER
    assert set(variants) == {f"{t}-{i}" for t in "ab" for i in range(N_PER_WRITER)}
    assert len(store.events_for(run_id, limit=1000)) == 2 * N_PER_WRITER


def test_sqlite_round_trip(tmp_path):
    check_round_trip(Store(f"sqlite:///{tmp_path / 'lb.db'}"))


def test_default_store_is_sqlite_in_the_data_folder(isolated_home):
    store = Store()
    assert store.url.startswith("sqlite:///") and str(isolated_home) in store.url


def test_sqlite_two_writer_processes_lose_nothing(tmp_path):
    check_concurrent_writers(f"sqlite:///{tmp_path / 'shared.db'}")


def test_bad_store_urls_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="Bad store URL"):
        Store("nosuchdialect://x")
    with pytest.raises(UserError, match="Cannot open the store"):
        Store(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")


def test_a_result_is_updated_in_place_and_the_others_stay(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    run_id = store.create_run({"variants": ["fp32", "int8"]}, status="done")
    fp32 = {"variant": "fp32", "status": "ok", "accuracy": 0.9}
    int8 = {"variant": "int8", "status": "ok", "accuracy": 0.88, "load_test": {"slo_ms": 50.0}}
    store.add_result(run_id, 0, fp32)
    store.add_result(run_id, 1, int8)
    other = store.create_run({"variants": ["int8"]}, status="done")
    store.add_result(other, 0, dict(int8))

    new = store.update_result(run_id, "int8", {"load_test": {"slo_ms": 100.0}})
    assert new == {**int8, "load_test": {"slo_ms": 100.0}}
    assert store.results_for(run_id) == [fp32, new]  # position kept, fp32 untouched
    assert store.results_for(other) == [int8]  # another run's result untouched
    store.update_result(run_id, "fp32", {"load_test": {"slo_ms": 20.0}})
    assert store.results_for(run_id)[0] == {**fp32, "load_test": {"slo_ms": 20.0}}
    with pytest.raises(UserError, match="no result for variant 'half'"):
        store.update_result(run_id, "half", {"load_test": {}})

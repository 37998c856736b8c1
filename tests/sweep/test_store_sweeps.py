"""The store's sweep tables: a sweep row, its planned runs, idempotent keys across sweeps;
on SQLite always, on PostgreSQL when LEANBENCH_TEST_PG_URL is set."""

from __future__ import annotations

import os
import uuid

import pytest

from lib.store import Store

PG_URL = os.environ.get("LEANBENCH_TEST_PG_URL")


def check_sweep_tables(store: Store) -> None:
    sid = uuid.uuid4().hex[:12]
    key = uuid.uuid4().hex
    assert store.open_sweep(sid, {"models": ["m"]}, name="n", address="auto", driver="h:1")
    planned = [
        {"position": 0, "key": key, "model": "m", "dataset": "d", "target": "c7i"},
        {"position": 1, "key": key + "2", "model": "m", "dataset": "d", "target": "l4"},
    ]
    store.add_sweep_runs(sid, planned)
    store.add_sweep_runs(sid, planned)  # again: nothing added twice
    assert [r["target"] for r in store.sweep_runs_for(sid)] == ["c7i", "l4"]
    assert store.sweep_counts(sid) == {"pending": 2, "running": 0, "done": 0, "failed": 0}
    store.update_sweep_run(sid, key, status="done", run_id="r1", node_id="n1", history=[{"a": 1}])
    assert store.sweep_counts(sid)["done"] == 1
    done = store.done_run_for_key(key)
    assert done["run_id"] == "r1" and done["sweep_id"] == sid and done["history"] == [{"a": 1}]
    assert store.done_run_for_key(key + "2") is None
    assert not store.open_sweep(sid, {}, driver="h:2")  # re-submitted: found
    store.update_sweep(sid, status="done", message="2 of 2")
    row = store.get_sweep(sid)
    assert row["status"] == "done" and row["finished_at"] is not None and row["driver"] == "h:2"
    assert sid in [s["id"] for s in store.list_sweeps()]
    with pytest.raises(ValueError):
        store.update_sweep_run(sid, key, status="nonsense")


def test_sweep_tables_sqlite():
    check_sweep_tables(Store())


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="set LEANBENCH_TEST_PG_URL to a PostgreSQL database")
def test_sweep_tables_postgres():
    check_sweep_tables(Store(PG_URL))

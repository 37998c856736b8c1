"""The same store against a real PostgreSQL server (``LEANBENCH_TEST_PG_URL``; .ci/run starts one).

Runs written by "another machine" (another process with its own engine) appear beside local ones.
"""

from __future__ import annotations

import os

import pytest

from lib.store import Store
from tests.test_store import check_concurrent_writers, check_round_trip

PG_URL = os.environ.get("LEANBENCH_TEST_PG_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="set LEANBENCH_TEST_PG_URL to a PostgreSQL database"),
]


def test_postgres_round_trip():
    store = Store(PG_URL)
    assert store.engine.dialect.name == "postgresql"
    check_round_trip(store)


def test_postgres_two_writer_processes_lose_nothing():
    check_concurrent_writers(PG_URL)


def test_runs_from_two_machines_are_listed_side_by_side():
    laptop, gpu_server = Store(PG_URL), Store(PG_URL)  # two engines, as two hosts would have
    a = laptop.create_run({"name": "laptop"}, status="done")
    laptop.update_run(a, host="laptop", hardware="Apple M2")
    b = gpu_server.create_run({"name": "gpu"}, status="done")
    gpu_server.update_run(b, host="gpu-box", hardware="NVIDIA H100")
    listed = {r["id"]: r for r in laptop.list_runs(limit=1000)}
    assert listed[a]["hardware"] == "Apple M2" and listed[b]["hardware"] == "NVIDIA H100"

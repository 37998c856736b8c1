"""A real Ray cluster on this machine for the sweep tests, and the tiny model and data they run.

The cluster (once per test session, started when a test first asks for it): a head that runs
nothing (no CPUs), one worker node labelled ``leanbench.hardware=kind-a`` and two labelled
``kind-b``, each with its own data folder (``LEANBENCH_HOME``) as separate machines would have,
so nothing is shared between them but what the sweep ships. The node-kill test kills a kind-b
node last. Skipped, not failed, when Ray cannot start here.
"""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lib.spec import AdaptSpec, DatasetSpec, MeasureSpec
from lib.sweep.spec import LABEL_KEY, SweepSpec

PG_URL = os.environ.get("LEANBENCH_TEST_PG_URL")


@dataclass
class LocalCluster:
    cluster: Any  # ray.cluster_utils.Cluster
    address: str
    homes: dict[str, Path]  # node id -> its data folder
    nodes: dict[str, Any] = field(default_factory=dict)  # node id -> ray Node (for remove_node)

    def add(self, kind: str, home: Path):
        node = self.cluster.add_node(num_cpus=1, labels={LABEL_KEY: kind}, env_vars=_env(home))
        self.cluster.wait_for_nodes()
        self.homes[node.node_id] = home
        self.nodes[node.node_id] = node
        return node

    def remove(self, node_id: str) -> None:
        node = self.nodes.pop(node_id)
        self.cluster.remove_node(node, allow_graceful=False)


def _env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {"LEANBENCH_HOME": str(home), "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory):
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    root = tmp_path_factory.mktemp("ray-nodes")
    try:
        cluster = Cluster(
            initialize_head=True,
            head_node_args={
                "num_cpus": 0,
                "include_dashboard": False,
                "env_vars": _env(root / "head"),
            },
        )
        handle = LocalCluster(cluster, cluster.address, {})
        handle.add("kind-a", root / "node-a")
        handle.add("kind-b", root / "node-b1")
        handle.add("kind-b", root / "node-b2")  # a twin: where a run goes when its node dies
        ray.init(address=cluster.address, logging_level=logging.WARNING, log_to_driver=False)
    except Exception as exc:  # noqa: BLE001 - no Ray here: the cluster tests are skipped
        pytest.skip(f"Ray cannot start a local cluster here: {type(exc).__name__}: {exc}")
    yield handle
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture(scope="session")
def sweep_files(tmp_path_factory, tiny_model_dir):
    """The tiny model and two small labelled CSV files (enough eval examples to be a run)."""
    folder = tmp_path_factory.mktemp("sweep-data")
    rng = random.Random(0)
    good = ["great", "wonderful", "superb", "loved", "delightful"]
    bad = ["awful", "boring", "terrible", "hated", "dull"]
    files = {}
    for name, n in (("reviews", 300), ("opinions", 260)):
        rows = ["review,sentiment"]
        for i in range(n):
            label = "pos" if i % 2 else "neg"
            words = rng.sample(good if label == "pos" else bad, 3)
            rows.append(f'"the film was {" and ".join(words)}",{label}')
        path = folder / f"{name}.csv"
        path.write_text("\n".join(rows) + "\n")
        files[name] = path
    return {"model": tiny_model_dir, **files}


def tiny_sweep(files, datasets=("reviews",), variants=("fp32", "int8"), targets=("kind-a",), **kw):
    """A sweep that takes seconds per run: tiny model, 60 train and 50 eval examples, one batch
    size, a few timing repeats."""
    return SweepSpec(
        models=[str(files["model"])],
        datasets=[
            DatasetSpec(str(files[d]), "review", "sentiment", train_limit=60, eval_limit=50, seed=0)
            for d in datasets
        ],
        variants=list(variants),
        targets=list(targets),
        adapt=AdaptSpec(epochs=1.0, max_length=16, batch_size=16),
        measure=MeasureSpec(
            batch_sizes=[1], seq_len=16, warmup=1, min_repeats=3, min_seconds=0.05, paired_rounds=0
        ),
        **kw,
    )


@pytest.fixture
def store_url(tmp_path):
    """The shared store: PostgreSQL where one is given (CI), else a SQLite file every local
    node can write to."""
    return PG_URL or f"sqlite:///{tmp_path / 'sweep.db'}"

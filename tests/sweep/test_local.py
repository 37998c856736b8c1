"""With no cluster address, ``python -m lib sweep`` starts Ray on this machine, labels its one
node with the sweep's machine kind and runs the matrix there (one run at a time: the node's one
slot, as tested on the cluster)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib.store import Store

pytestmark = pytest.mark.ray
ROOT = Path(__file__).resolve().parents[2]


def test_sweep_without_an_address_runs_here(sweep_files, store_url, tmp_path, isolated_home):
    pytest.importorskip("ray")
    out_file = tmp_path / "out.json"
    command = [
        sys.executable, "-m", "lib", "sweep", "--model", str(sweep_files["model"]),
        "--dataset", str(sweep_files["reviews"]),
        "--text-column", "review", "--label-column", "sentiment", "--variants", "fp32",
        "--train-limit", "60", "--eval-limit", "50", "--batch-sizes", "1", "--seq-len", "16",
        "--min-repeats", "3", "--min-seconds", "0.05", "--warmup", "1", "--paired-rounds", "0",
        "--targets", "this-laptop", "--store", store_url, "--out", str(out_file), "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "LEANBENCH_HOME": str(isolated_home), "HF_HUB_OFFLINE": "1"}
    env.pop("RAY_ADDRESS", None)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 and "Cannot reach the Ray cluster" in done.stderr:
        pytest.skip(f"Ray cannot start here: {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(out_file.read_text())
    assert out["status"] == "done" and [r["status"] for r in out["runs"]] == ["done"]
    (r,) = out["runs"]
    cluster = Store(store_url).get_run(r["run_id"])["environment"]["cluster"]
    assert cluster["labels"]["leanbench.hardware"] == "this-laptop"  # the one node, labelled
    assert cluster["node_id"] == r["node_id"] and r["node_ip"]

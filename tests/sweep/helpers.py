"""Synthetic sweep run documents: a run as the store gives it back, stamped by a sweep node."""

from __future__ import annotations

from tests.helpers.results import result


def sweep_doc(run_id: str, target: str, speeds: dict[str, float], host: str = "", cpus: float = 8,
              model: str = "minilm-l6", dataset: str = "rotten-tomatoes", date: str = "2026-12-01",
              device: str = "cpu", gpu: str = "") -> dict:  # fmt: skip
    """A run of ``speeds`` ({variant: p50 ms at batch 1 and 32}) on a ``target`` node."""
    env = {
        "cpu_model": "AMD EPYC 9B14",
        "threads": int(cpus),
        "device": device,
        "date": date,
        "hostname": host or f"{target}-host",
        "cluster": {
            "target": target,
            "node_id": f"node-{target}-{run_id}",
            "node_ip": "10.0.0.1",
            "hostname": host or f"{target}-host",
            "node_cpus": cpus,
            "labels": {"leanbench.hardware": target},
        },
    }
    if gpu:
        env["gpu_name"] = gpu
    rows = [result(v, 0.8, p50, p50 * 10, 90.0, device=device) for v, p50 in speeds.items()]
    return {
        "run_id": run_id,
        "name": f"{model} on {dataset} @ {target}",
        "spec": {"model": {"source": model}, "dataset": {"source": dataset}},
        "environment": env,
        "baseline": {},
        "results": rows,
    }

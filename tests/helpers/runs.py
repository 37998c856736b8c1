"""Synthetic run documents across hardware, for compare, demo, report and page tests."""

from __future__ import annotations

CPU_ENV = {
    "device": "cpu",
    "cpu_model": "AMD EPYC 9B14",
    "threads": 2,
    "date": "2025-11-20T10:00:00+00:00",
}


GPU_ENV = {"device": "cuda", "gpu_name": "NVIDIA H100 80GB HBM3", "date": "2025-11-21T08:00:00"}


def result(variant, precision, acc, p50_1, p50_32, size, p=None, status="ok") -> dict:
    """A result row shaped like the runner's."""
    if status != "ok":
        return {"variant": variant, "status": "failed", "error": "no kernel for this"}
    return {
        "variant": variant,
        "status": "ok",
        "error": None,
        "precision": precision,
        "runtime": "eager",
        "accuracy": acc,
        "accuracy_ci": [acc - 0.02, acc + 0.02],
        "p_value_vs_baseline": p,
        "significant_vs_baseline": p is not None and p < 0.05,
        "macro_f1": acc - 0.01,
        "agreement": 0.98,
        "n_eval": 1000,
        "latency_ms": {
            "1": {"p50": p50_1, "p90": p50_1 * 1.1, "p99": p50_1 * 1.3, "n": 50},
            "32": {"p50": p50_32, "p90": p50_32 * 1.1, "p99": p50_32 * 1.2},
        },
        "throughput_per_s": {"1": 1000 / p50_1, "32": 32000 / p50_32},
        "size_mb": size,
        "params": 22_700_000,
        "peak_memory_mb": 300.0,
        "flops_per_item": 2.9e9,
        "num_layers": 6,
    }


def make_doc(run_id="r1", name="", env=None, dataset="rotten-tomatoes", results=None) -> dict:
    return {
        "run_id": run_id,
        "name": name,
        "status": "done",
        "created_at": "2025-11-20T10:00:00+00:00",
        "spec": {
            "model": {"source": "minilm-l6"},
            "dataset": {"source": dataset, "eval_limit": 1000},
            "variants": ["fp32", "half", "int8", "prune50", "fp16"],
            "measure": {"batch_sizes": [1, 32], "seq_len": 128, "device": "cpu"},
        },
        "environment": env or CPU_ENV,
        "baseline": {},
        "results": results
        if results is not None
        else [
            result("fp32", "fp32", 0.86, 25, 400, 90.0),
            result("half", "bf16", 0.858, 14, 220, 45.0, p=0.7),
            result("int8", "int8", 0.852, 13, 210, 23.0, p=0.3),
            result("prune50", "fp32", 0.80, 20, 300, 90.0, p=0.001),
            result("fp16", "fp16", 0, 0, 0, 0, status="failed"),
        ],
    }


def cost_result(variant: str, precision: str, accuracy: float, t1: float, t32: float) -> dict:
    """A result row with what the cost table reads: accuracy, latency, throughput, size, FLOPs."""
    return {
        "variant": variant,
        "status": "ok",
        "accuracy": accuracy,
        "macro_f1": accuracy - 0.01,
        "latency_ms": {
            "1": {"p50": 1000 / t1, "p90": 1100 / t1},
            "32": {"p50": 32000 / t32, "p90": 35000 / t32},
        },
        "throughput_per_s": {"1": t1, "32": t32},
        "size_mb": 90.0 if precision == "fp32" else 23.0,
        "params": 22_700_000,
        "precision": precision,
        "runtime": "eager",
        "flops_per_item": 2.9e9,
        "num_layers": 6,
    }

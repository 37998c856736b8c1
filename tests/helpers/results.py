"""Synthetic variant results (the keys the runner writes) for frame, chart and page tests."""

from __future__ import annotations


def lat(p50: float, n: int = 20) -> dict:
    return {
        "p50": p50,
        "p90": p50 * 1.2,
        "p99": p50 * 1.5,
        "mean": p50 * 1.05,
        "std": 0.1,
        "cv": 0.02,
        "n": n,
    }


def result(variant: str, acc: float, p50_1: float, p50_32: float, size: float, **extra) -> dict:
    return {
        "variant": variant,
        "status": "ok",
        "error": None,
        "steps": [variant],
        "runtime": "eager",
        "precision": {"fp32": "fp32", "half": "bf16", "int8": "int8"}.get(variant, "fp32"),
        "device": "cpu",
        "threads": 2,
        "accuracy": acc,
        "macro_f1": acc - 0.01,
        "agreement": 1.0 if variant == "fp32" else 0.97,
        "n_eval": 1000,
        "latency_ms": {"1": lat(p50_1), "32": lat(p50_32)},
        "throughput_per_s": {"1": 1000 / p50_1, "32": 32000 / p50_32},
        "size_mb": size,
        "params": 22_700_000,
        "peak_memory_mb": 900.0,
        "build_seconds": 0.5,
        "notes": {},
        "predictions": [0, 1, 1],
        **extra,
    }


def sample() -> list[dict]:
    return [
        result("fp32", 0.812, 10.0, 160.0, 90.0),
        result("half", 0.810, 8.0, 100.0, 45.0),
        result("int8", 0.808, 6.0, 80.0, 23.0, notes={"int8_backend": "torch.ao dynamic"}),
        {"variant": "int8@ort", "status": "failed", "error": "onnx export failed"},
    ]

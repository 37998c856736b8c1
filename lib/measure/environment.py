"""The environment that produced a measurement: hardware, versions, settings, code commit."""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import os
import platform
import socket
import subprocess
from pathlib import Path

from lib.paths import REPO_ROOT

# CPU flags that decide whether int8 and bf16 have fast kernels.
FLAGS = {
    "avx512_vnni": "AVX512-VNNI",
    "avx_vnni": "AVX-VNNI",
    "amx_int8": "AMX-INT8",
    "amx_bf16": "AMX-BF16",
    "avx512_bf16": "AVX512-BF16",
    "avx512f": "AVX512F",
    "avx2": "AVX2",
}
_PACKAGES = ("torch", "transformers", "onnxruntime", "torchao", "codecarbon", "streamlit", "numpy")


def cpu_model_and_flags() -> tuple[str, list[str]]:
    model, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and value.strip():
                model = value.strip()
            elif key == "flags":
                flags = set(value.split())
                break
    elif platform.system() == "Darwin":
        try:
            model = (
                subprocess.run(
                    ["sysctl", "-n", "machdep.cpu.brand_string"],
                    capture_output=True,
                    text=True,
                    timeout=5,
                ).stdout.strip()
                or model
            )
        except OSError:
            pass
    return model, [label for flag, label in FLAGS.items() if flag in flags]


def gpu_info() -> dict:
    import torch

    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info = {
            "gpu_name": props.name,
            "gpu_memory_gb": round(props.total_memory / 2**30, 1),
            "gpu_count": torch.cuda.device_count(),
            "cuda": torch.version.cuda,
        }
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
            )
            info["gpu_driver"] = out.stdout.strip().splitlines()[0] if out.stdout.strip() else None
        except (OSError, subprocess.SubprocessError):
            info["gpu_driver"] = None
        return info
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return {"gpu_name": "Apple MPS"}
    return {}


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=REPO_ROOT,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            found[name] = md.version(name)
        except md.PackageNotFoundError:
            found[name] = None
    return found


def capture(device: str = "cpu", threads: int | None = None) -> dict:
    """Everything a reader needs to know where a number came from."""
    cpu, flags = cpu_model_and_flags()
    env = {
        "cpu_model": cpu,
        "cpu_flags": flags,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "threads": threads,
        "device": device,
        "hostname": socket.gethostname(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        **versions(),
    }
    env.update(gpu_info() if device in ("cuda", "mps") else {})
    return env


# What a trained or calibrated build records of the machine it ran on (``built_on``): enough to
# name it and price an hour of it (``lib.cost.payback``), nothing that identifies a person.
MACHINE_KEYS = ("device", "cpu_model", "cpu_flags", "cores", "threads", "gpu_name", "gpu_count")


def machine_facts(env: dict) -> dict:
    """The ``MACHINE_KEYS`` of an environment (``capture``), plus when: ``built_at``."""
    facts = {k: env[k] for k in MACHINE_KEYS if env.get(k) is not None}
    facts["built_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return facts


def hardware_label(env: dict) -> str:
    """A short name for the hardware a run measured on."""
    if env.get("gpu_name") and env.get("device") in ("cuda", "mps"):
        return env["gpu_name"]
    return f"{env.get('cpu_model', 'CPU')} ({env.get('threads') or env.get('cores')} threads)"

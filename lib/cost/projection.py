"""Throughput on hardware you don't have: measured where a run exists, projected otherwise.

The projection model (``docs/cost.md``) for a GPU at batch ``b``::

    latency(b) = max(floor, flops_per_item * b / (peak[precision] * efficiency[precision]),
                     weight_bytes / memory_bandwidth)
    throughput(b) = b / latency(b)

- ``flops_per_item`` is counted by ``lib.measure.flops.count_flops`` when a variant is measured
  (it is in the results); this module never imports torch.
- ``peak`` comes from ``data/hardware_peaks.csv``.
- ``efficiency`` (fraction of peak eager PyTorch reaches on BERT-sized encoders) and ``floor``
  (the kernel-launch-bound latency of a small batch, about ``floor_s_per_layer`` per encoder
  layer) are fitted to the H200 measurements in ``data/gpu_reference_h200.json`` by
  ``calibrate()``; ``DEFAULT_CALIBRATION`` holds its result and a test checks they agree.

For CPU targets there is no peak table: the local CPU measurement is scaled by
``target vCPUs / local threads`` (one replica per group of threads; latency unchanged).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lib.errors import UserError
from lib.format import num_or_none
from lib.paths import REPO_DATA
from lib.schema import load_runs

REFERENCE_FILE = REPO_DATA / "gpu_reference_h200.json"
# Peak of the H200 the reference was measured on (data/hardware_peaks.csv, "H200 SXM").
H200_PEAKS_TFLOPS = {"fp32": 66.9, "tf32": 494.5, "fp16": 989.5, "bf16": 989.5}
# Encoder layers of the reference models (their names say so; needed for the per-layer floor).
REFERENCE_LAYERS = {
    "minilm-l6-h384": 6,
    "distilbert-like-l6-h768": 6,
    "bert-base": 12,
    "bert-large": 24,
}
# Batch sizes a projection considers: the best one within the latency target wins.
DEFAULT_BATCHES = (1, 8, 16, 32, 64, 128, 256)
BYTES_PER_PARAM = {"fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2, "int8": 1}
PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "int8")


# --- hardware names ----------------------------------------------------------------------------

# Order matters: the first match wins (a100 before a10, h100 variants before plain h100).
_GPU_KEYS = (
    ("h200", r"h200"),
    ("h100 nvl", r"h100.*nvl"),
    ("h100 pcie", r"h100.*pcie"),
    ("h100", r"h100"),
    ("a100", r"a100"),
    ("a10g", r"a10g"),
    ("a10", r"\ba10\b"),
    ("l40s", r"l40s"),
    ("l4", r"\bl4\b"),
    ("t4", r"\bt4\b"),
    ("v100", r"v100"),
    ("rtx 4090", r"4090"),
    ("rtx 6000 ada", r"6000 ada"),
    ("inferentia2", r"inferentia ?2"),
    ("inferentia", r"inferentia"),
)


def _plain(name: str) -> str:
    s = str(name or "").lower()
    s = re.sub(r"\((r|tm)\)", " ", s)
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return " ".join(s.split())


def hardware_key(name: str) -> str:
    """Normalise a GPU name so a run's "NVIDIA H100 80GB HBM3" matches catalogue "H100 SXM5".

    H100 PCIe and NVL stay distinct from SXM (different peaks); A100 40/80 GB are one key.
    Unknown names come back lower-cased and stripped of punctuation.
    """
    plain = _plain(name)
    for key, pattern in _GPU_KEYS:
        if re.search(pattern, plain):
            return key
    return plain


def cpu_matches(cpu_model: str, cpu_match: str) -> bool:
    """Does a run's CPU model contain one of the catalogue row's ``cpu_match`` tokens (``a|b``)?"""
    plain = _plain(cpu_model).replace(" ", "")
    tokens = [_plain(t).replace(" ", "") for t in str(cpu_match or "").split("|")]
    return any(t and t in plain for t in tokens)


# --- measurements from results files -----------------------------------------------------------


@dataclass
class Measurement:
    """One variant measured on one machine (a result row plus its run's environment)."""

    variant: str
    precision: str
    hardware_name: str  # GPU name for GPU runs, CPU model for CPU runs
    device: str  # "cpu", "cuda" or "mps"
    threads: int | None
    throughput_per_s: dict[int, float]
    latency_ms: dict[int, float]  # p90 where the run has it (a latency target is about tails)
    accuracy: float | None = None
    macro_f1: float | None = None
    flops_per_item: float | None = None
    params: int | None = None
    num_layers: int | None = None
    energy_j_per_1k: float | None = None
    energy_method: str | None = None
    run_id: str | None = None
    runtime: str | None = None  # the result's runtime (eager, ort, compile)
    load_test: dict[str, Any] | None = None  # the result's load test (lib.serving), if any
    # Where a sweep measured it (lib.sweep): the node's machine kind label, host and CPU count.
    machine: str | None = None
    host: str | None = None
    node_cpus: float | None = None

    @property
    def is_gpu(self) -> bool:
        return not self.device.startswith("cpu")  # cuda, cuda:0, mps


def measurements_from_results(results: dict | list | str | Path) -> list[Measurement]:
    """Read one results.json (dict, RunDocument or path) or a list of them; failed variants are
    skipped."""
    out: list[Measurement] = []
    for run in load_runs(results):
        env = run.environment
        device = str(env.get("device") or "cpu")
        is_gpu = not device.startswith("cpu")
        hardware = (env.get("gpu_name") if is_gpu else env.get("cpu_model")) or "unknown"
        threads = env.get("threads") or env.get("cores")
        found = env.get("cluster")
        cluster: dict[str, Any] = found if isinstance(found, dict) else {}
        for row in run.results:
            if not row.ok:
                continue
            tput = {int(b): v for b, v in row.throughput_per_s.items() if v}
            lat = {}
            for b, stats in row.latency_ms.items():
                # p90 where the run has it (a latency target is about tails), else the median
                value = stats.p90 if stats.has("p90") else stats.p50
                if value is not None:
                    lat[int(b)] = value
            out.append(
                Measurement(
                    variant=str(row.variant),
                    precision=str(row.precision or "fp32"),
                    hardware_name=str(hardware),
                    device=device,
                    threads=int(threads) if threads else None,
                    throughput_per_s=tput,
                    latency_ms=lat,
                    accuracy=row.accuracy,
                    macro_f1=row.macro_f1,
                    flops_per_item=row.flops_per_item,
                    params=int(row.params) if row.params else None,
                    num_layers=int(row.num_layers) if row.num_layers else None,
                    energy_j_per_1k=row.energy_j_per_1k,
                    energy_method=row.energy_method,
                    run_id=run.run_id,
                    runtime=str(row.get("runtime")) if row.get("runtime") else None,
                    load_test=row.get("load_test")
                    if isinstance(row.get("load_test"), dict)
                    else None,
                    machine=str(cluster["target"]) if cluster.get("target") else None,
                    host=str(cluster.get("hostname") or cluster.get("node_ip") or "") or None,
                    node_cpus=num_or_none(cluster.get("node_cpus")),
                )
            )
    return out


def pick_batch(
    throughput: dict[int, float], latency_ms: dict[int, float], latency_target_ms: float | None
) -> tuple[int, float, float | None, bool]:
    """The batch with the best throughput whose latency meets the target.

    Returns ``(batch, throughput, latency_ms, meets_target)``. When no batch meets the target the
    smallest batch is returned with ``meets_target=False`` (the caller says so).
    """
    usable = {b: t for b, t in throughput.items() if t and t > 0}
    if not usable:
        raise UserError("No measured throughput (zero or missing) to cost.")
    if latency_target_ms is not None:
        within = {
            b: t for b, t in usable.items() if latency_ms.get(b, math.inf) <= latency_target_ms
        }
        if not within:
            b = min(usable)
            return b, usable[b], latency_ms.get(b), False
        usable = within
    b = max(usable, key=usable.__getitem__)
    return b, usable[b], latency_ms.get(b), True


# --- calibration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """Efficiency per precision and the small-batch floor, fitted by ``calibrate()``."""

    efficiency: dict[str, float]
    floor_s_per_layer: float  # launch-bound latency per encoder layer (eager PyTorch)
    floor_s_default: float  # used when the layer count is unknown
    source: str = "data/gpu_reference_h200.json (NVIDIA H200, torch 2.11 eager, seq 128)"

    def efficiency_for(self, compute_precision: str) -> float:
        return self.efficiency[compute_precision]

    def floor_s(self, n_layers: int | None) -> float:
        return self.floor_s_per_layer * n_layers if n_layers else self.floor_s_default


# Result of calibrate() on data/gpu_reference_h200.json; tests/cost/test_projection.py re-runs the fit
# and checks these constants still match it.
DEFAULT_CALIBRATION = Calibration(
    efficiency={"fp32": 0.66, "tf32": 0.40, "fp16": 0.38, "bf16": 0.40},
    floor_s_per_layer=0.0008,
    floor_s_default=0.005,
)


def load_reference(path: str | Path = REFERENCE_FILE) -> pd.DataFrame:
    """The H200 GPU rows as a DataFrame, with the layer count of each model."""
    rows = json.loads(Path(path).read_text())["rows"]
    df = pd.DataFrame(rows)
    df["n_layers"] = df["model"].map(REFERENCE_LAYERS)
    return df


def _predict_s(df: pd.DataFrame, efficiency: dict[str, float], floors: np.ndarray) -> np.ndarray:
    peak = df["dtype"].map(H200_PEAKS_TFLOPS).to_numpy(dtype=float) * 1e12
    eff = df["dtype"].map(efficiency).to_numpy(dtype=float)
    compute = df["gflop_per_pass"].to_numpy(dtype=float) * 1e9 / (peak * eff)
    return np.maximum(floors, compute)


def calibrate(
    reference: pd.DataFrame | None = None, batches: Iterable[int] = (64, 256)
) -> Calibration:
    """Fit efficiency per precision and the floors to the H200 rows at ``batches``.

    Grid search minimising the mean absolute log error (symmetric for over/under-estimates):
    first the per-layer floor jointly with the efficiencies, then the default floor (layers
    unknown) with those efficiencies fixed. Grids of 0.01 in efficiency, 0.05 ms in floor.
    """
    df = reference if reference is not None else load_reference()
    df = df[df["batch"].isin(list(batches))].reset_index(drop=True)
    measured = df["median_s"].to_numpy(dtype=float)
    flops = df["gflop_per_pass"].to_numpy(dtype=float) * 1e9
    peak = df["dtype"].map(H200_PEAKS_TFLOPS).to_numpy(dtype=float) * 1e12
    layers = df["n_layers"].to_numpy(dtype=float)
    dtypes = sorted(df["dtype"].unique())
    eff_grid = np.round(np.arange(0.10, 1.001, 0.01), 2)
    # compute[e, r]: compute-bound latency of row r at efficiency eff_grid[e]
    compute = flops[None, :] / (peak[None, :] * eff_grid[:, None])

    def log_errors(floors: np.ndarray) -> np.ndarray:
        return np.abs(np.log(np.maximum(floors[None, :], compute) / measured[None, :]))

    best = None
    for per_layer in np.round(np.arange(0.0, 0.00151, 0.00005), 5):
        errs = log_errors(per_layer * layers)
        effs, total = {}, 0.0
        for dt in dtypes:
            per_eff = errs[:, (df["dtype"] == dt).to_numpy()].sum(axis=1)
            i = int(np.argmin(per_eff))
            effs[dt], total = float(eff_grid[i]), total + float(per_eff[i])
        if best is None or total < best[0] - 1e-12:
            best = (total, float(per_layer), effs)
    assert best is not None  # the grid of per-layer floors is never empty
    _, per_layer, effs = best
    default_errs = [
        (
            float(np.abs(np.log(_predict_s(df, effs, np.full(len(df), f)) / measured)).mean()),
            float(f),
        )
        for f in np.round(np.arange(0.0, 0.0151, 0.0005), 4)
    ]
    floor_default = min(default_errs)[1]
    return Calibration(efficiency=effs, floor_s_per_layer=per_layer, floor_s_default=floor_default)


def projection_error(
    calibration: Calibration = DEFAULT_CALIBRATION, reference: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Projected vs measured H200 latency for every reference row (all batches).

    ``rel_error`` = projected / measured - 1 (positive: the projection is too slow).
    """
    df = (reference if reference is not None else load_reference()).copy()
    floors = df["n_layers"].map(lambda n: calibration.floor_s(n)).to_numpy(dtype=float)
    df["projected_s"] = _predict_s(df, calibration.efficiency, floors)
    df["rel_error"] = df["projected_s"] / df["median_s"] - 1
    return df[["model", "dtype", "batch", "gflop_per_pass", "median_s", "projected_s", "rel_error"]]


def projection_error_summary(
    calibration: Calibration = DEFAULT_CALIBRATION, reference: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per dtype and batch: median and max |relative error| over the four reference models."""
    err = projection_error(calibration, reference)
    err["abs_error"] = err["rel_error"].abs()
    out = err.groupby(["dtype", "batch"])["abs_error"].agg(["median", "max"]).reset_index()
    return out.rename(columns={"median": "median_abs_error", "max": "max_abs_error"})


# --- projecting ---------------------------------------------------------------------------------


@dataclass
class Projection:
    """A projected throughput with every assumption that produced it (shown on hover)."""

    hardware: str
    precision: str  # the variant's precision
    compute_precision: str  # whose peak was used
    batch_size: int
    throughput_per_s: float
    latency_ms: float
    meets_latency_target: bool
    peak_tflops: float | None = None
    efficiency: float | None = None
    floor_ms: float | None = None
    flops_per_item: float | None = None
    replicas: int = 1
    assumptions: list[str] = field(default_factory=list)
    throughput_source: str = "projected"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return "; ".join(self.assumptions)


def compute_precision_for(precision: str) -> tuple[str, str | None]:
    """Which peak a precision runs at on a GPU, with a note when it is not the obvious one."""
    if precision == "int8":
        # Eager int8 (torch.ao dynamic, torchao) is no faster than fp16 on GPUs in the H200
        # reference (gpu_reference_h200_compile_int8.csv), so the int8 peak would flatter it.
        return (
            "fp16",
            "int8 projected at the fp16 peak and efficiency (eager int8 kernels are no faster than fp16 on GPUs)",
        )
    if precision not in PRECISIONS:
        raise UserError(f"Unknown precision '{precision}': use one of {', '.join(PRECISIONS)}.")
    return precision, None


def peak_tflops(peaks_row: dict | pd.Series, compute_precision: str) -> float:
    """Peak TFLOP/s of an accelerator for a precision; UserError when the table has none."""
    column = {"int8": "int8_tops"}.get(compute_precision, f"{compute_precision}_tflops")
    value = num_or_none(peaks_row.get(column))
    if not value or value <= 0:
        name = peaks_row.get("accelerator_model", "this accelerator")
        raise UserError(
            f"No {compute_precision} peak for {name} in the hardware table: not projected."
        )
    return value


def project_latency_s(
    flops_per_batch: float,
    peak_tflops_value: float,
    efficiency: float,
    floor_s: float,
    weight_bytes: float = 0.0,
    mem_bw_gb_s: float | None = None,
) -> float:
    """max(floor, compute time at efficiency x peak, time to read the weights once)."""
    if peak_tflops_value <= 0 or efficiency <= 0:
        raise UserError("Peak and efficiency must be positive to project a latency.")
    compute = flops_per_batch / (peak_tflops_value * 1e12 * efficiency)
    memory = weight_bytes / (mem_bw_gb_s * 1e9) if mem_bw_gb_s else 0.0
    return max(floor_s, compute, memory)


def project_gpu(
    flops_per_item: float | None,
    precision: str,
    peaks_row: dict | pd.Series,
    *,
    n_layers: int | None = None,
    params: int | None = None,
    latency_target_ms: float | None = None,
    replicas: int = 1,
    batch_sizes: Iterable[int] = DEFAULT_BATCHES,
    calibration: Calibration = DEFAULT_CALIBRATION,
) -> Projection:
    """Project throughput on ``replicas`` GPUs of one model (one model copy per GPU)."""
    if not flops_per_item or flops_per_item <= 0:
        raise UserError("No FLOPs per inference in the results: throughput cannot be projected.")
    name = str(peaks_row.get("accelerator_model", "GPU"))
    compute_precision, note = compute_precision_for(precision)
    peak = peak_tflops(peaks_row, compute_precision)
    eff = calibration.efficiency_for(compute_precision)
    floor = calibration.floor_s(n_layers)
    bw = num_or_none(peaks_row.get("mem_bw_gb_s"))
    weight_bytes = (params or 0) * BYTES_PER_PARAM.get(compute_precision, 4)
    tput, lat = {}, {}
    for b in batch_sizes:
        seconds = project_latency_s(flops_per_item * b, peak, eff, floor, weight_bytes, bw)
        tput[b], lat[b] = b / seconds, seconds * 1e3
    batch, best, latency, meets = pick_batch(tput, lat, latency_target_ms)
    assert latency is not None  # lat has a latency for every batch in tput
    assumptions = [
        f"{name}: {compute_precision} peak {peak:g} TFLOP/s x efficiency {eff:.2f}",
        f"{flops_per_item / 1e9:.3g} GFLOP per inference",
        f"latency floor {floor * 1e3:.1f} ms"
        + (
            f" ({n_layers} layers x {calibration.floor_s_per_layer * 1e3:.2f} ms)"
            if n_layers
            else " (layer count unknown)"
        ),
        f"batch {batch}, {latency:.1f} ms per batch",
        f"calibrated on {calibration.source}",
    ]
    if replicas > 1:
        assumptions.append(f"x{replicas} GPUs, one model copy each")
    if note:
        assumptions.append(note)
    if not meets:
        assumptions.append(f"no batch size meets the {latency_target_ms:g} ms latency target")
    return Projection(
        hardware=name,
        precision=precision,
        compute_precision=compute_precision,
        batch_size=batch,
        throughput_per_s=best * replicas,
        latency_ms=latency,
        meets_latency_target=meets,
        peak_tflops=peak,
        efficiency=eff,
        floor_ms=floor * 1e3,
        flops_per_item=flops_per_item,
        replicas=replicas,
        assumptions=assumptions,
    )


def project_cpu(
    measurement: Measurement,
    target_vcpus: float,
    target_name: str,
    *,
    latency_target_ms: float | None = None,
    same_cpu: bool = False,
) -> Projection:
    """Scale a CPU measurement to a machine with ``target_vcpus`` threads.

    Assumes throughput grows with the number of model replicas that fit (vCPUs / threads the
    run used) and per-request latency stays as measured; a different CPU model is ignored
    (instruction sets matter: VNNI/AMX speed up int8 and bf16), which is why it says projected.
    """
    threads = measurement.threads or 1
    batch, tput, latency, meets = pick_batch(
        measurement.throughput_per_s, measurement.latency_ms, latency_target_ms
    )
    scale = target_vcpus / threads
    cpu_note = (
        "same CPU model"
        if same_cpu
        else f"CPU model differs (measured on {measurement.hardware_name})"
    )
    assumptions = [
        f"local measurement {tput:.1f}/s at batch {batch} on {threads} threads x {scale:g} "
        f"({target_vcpus:g} vCPUs / {threads} threads)",
        cpu_note,
    ]
    if not meets:
        assumptions.append(f"no batch size meets the {latency_target_ms:g} ms latency target")
    return Projection(
        hardware=target_name,
        precision=measurement.precision,
        compute_precision=measurement.precision,
        batch_size=batch,
        throughput_per_s=tput * scale,
        latency_ms=latency if latency is not None else float("nan"),
        meets_latency_target=meets,
        flops_per_item=measurement.flops_per_item,
        replicas=max(1, int(scale)),
        assumptions=assumptions,
    )

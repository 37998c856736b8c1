"""How close a CPU result came to what the hardware allows: achieved GFLOP/s against the peak
of the cores it ran on, for the precision it computed in (the compute roof of a roofline).

Achieved: ``flops_per_item x batch / p50 latency`` (``flops_per_item`` is counted by
``lib.measure.flops`` at the run's sequence length, padded positions included, as the dense
kernels compute them). For int8 these are integer operations (a multiply-add is 2), GOP/s.

Peak: ``cores x clock x operations per cycle per core`` for the best units the CPU flags
(``lib.measure.environment.FLAGS``, recorded in every run's environment) say it has for that
precision. Operations per cycle per core, and where they come from:

- **fp32, FMA**: a 512-bit FMA does 16 lanes x 2 flops; Intel server cores with AVX512F issue two
  a cycle (two FMA units): **64**. AVX2 (256-bit): 2 units x 8 lanes x 2 = **32**. AMD Zen 4 runs
  512-bit instructions on 256-bit datapaths (AMD, "Software Optimization Guide for the AMD Zen4
  Microarchitecture", 2023): **32** for an AMD CPU with AVX512F. (Intel 64 and IA-32
  Architectures Optimization Reference Manual, chapters on Skylake-SP / Ice Lake / Sapphire
  Rapids: two 512-bit FMA ports on Xeon Gold/Platinum; some Silver/Bronze parts have one.)
- **bf16**: AVX512-BF16's ``vdpbf16ps`` does 16 lanes x 2 bf16 products: 2x fp32, **128**
  (AMD Zen 4: **64**). AMX-BF16 (Sapphire Rapids and later): ``tdpbf16ps`` is 16x16x32 = 8,192
  multiply-adds per tile op, one every 16 cycles: **1,024** flop/cycle/core (Intel, "Intel
  Advanced Matrix Extensions" overview and the Optimization Reference Manual, chapter 20).
  Without bf16 units, bf16 is converted to fp32 and computed there: the fp32 peak.
- **int8**: AVX512-VNNI's ``vpdpbusd`` does 64 u8 x s8 multiply-adds per 512-bit instruction,
  two a cycle: 4x the fp32 lanes, **256** ops (AMD Zen 4: **128**); AVX-VNNI (256-bit): **128**;
  AMX-INT8 ``tdpbssd`` 16x16x64 per 16 cycles: **2,048**. AVX2 without VNNI needs
  ``vpmaddubsw`` + ``vpmaddwd`` for 32 multiply-adds: **64** (2x fp32; an assumption, it depends
  on the port mix).
- **fp16** on a CPU is computed as fp32 here (no AVX512-FP16 flag is recorded): the fp32 peak.

On a CPU with AMX, ``peak_gflops`` is the AMX roof and ``vector_peak_gflops`` the AVX-512 roof;
torch's dynamic int8 (fbgemm) uses the vector units only, OpenVINO and ONNX Runtime can use AMX.

The clock is what ``/proc/cpuinfo`` reports (``cpu MHz``, the highest over the cores; on a VM
usually the nominal clock, and turbo can run higher, so the share may be overstated), else an
assumed 2.0 GHz, labelled as such. Cores are the run's threads, at most the physical cores (two
hyper-threads share one core's FMA units). Every assumption is listed in the result's
``roofline["assumptions"]``.

``for_result`` gives a result's ``roofline`` dict (the runner adds it to every CPU result);
``roofline_frame`` gives the Results page its table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ASSUMED_CLOCK_GHZ = 2.0
CPUINFO = Path("/proc/cpuinfo")

# Operations per cycle per core: (units label, ops) by precision, best first; the first whose
# flags are all present applies. Flags are lib.measure.environment.FLAGS labels.
_INTEL: dict[str, list[tuple[str, tuple[str, ...], int]]] = {
    "fp32": [("AVX512F FMA", ("AVX512F",), 64), ("AVX2 FMA", ("AVX2",), 32)],
    "bf16": [
        ("AMX-BF16", ("AMX-BF16",), 1024),
        ("AVX512-BF16", ("AVX512-BF16",), 128),
        ("AVX512F FMA (bf16 computed as fp32)", ("AVX512F",), 64),
        ("AVX2 FMA (bf16 computed as fp32)", ("AVX2",), 32),
    ],
    "int8": [
        ("AMX-INT8", ("AMX-INT8",), 2048),
        ("AVX512-VNNI", ("AVX512-VNNI",), 256),
        ("AVX-VNNI", ("AVX-VNNI",), 128),
        ("AVX2 (vpmaddubsw, no VNNI)", ("AVX2",), 64),
    ],
}
# AMD Zen 4: 512-bit instructions on 256-bit datapaths (half Intel's per-cycle rate).
_AMD_AVX512 = {"AVX512F FMA": 32, "AVX512-BF16": 64, "AVX512-VNNI": 128}
_FALLBACK = ("SSE (assumed: no AVX2 flag)", 16)
_AMX = ("AMX-BF16", "AMX-INT8")


def precision_of(precision: str | None) -> str:
    """The peak table a result's precision reads: fp32, bf16 or int8 (fp16 reads fp32)."""
    p = (precision or "fp32").lower()
    if p in ("bf16", "bfloat16"):
        return "bf16"
    if p in ("int8", "i8", "u8"):
        return "int8"
    return "fp32"


def ops_per_cycle(
    precision: str, flags: Iterable[str], cpu_model: str = "", *, vector_only: bool = False
) -> tuple[str, int]:
    """``(units, operations per cycle per core)`` for ``precision`` on a CPU with ``flags``."""
    have = set(flags)
    amd = "amd" in (cpu_model or "").lower()
    for units, needs, ops in _INTEL[precision_of(precision)]:
        if vector_only and units in _AMX:
            continue
        if set(needs) <= have:
            base = units.split(" (")[0]
            if amd and base in _AMD_AVX512:
                return f"{units}, AMD Zen 4 double-pumped", _AMD_AVX512[base]
            return units, ops
    return _FALLBACK


def cpu_clock_ghz(cpuinfo: Path = CPUINFO) -> tuple[float, str]:
    """``(GHz, where it came from)``: the highest ``cpu MHz`` in /proc/cpuinfo, else assumed."""
    try:
        mhz = [
            float(line.split(":", 1)[1])
            for line in cpuinfo.read_text(errors="replace").splitlines()
            if line.lower().startswith("cpu mhz")
        ]
    except (OSError, ValueError):
        mhz = []
    if mhz and max(mhz) > 0:
        return round(max(mhz) / 1000, 3), "/proc/cpuinfo cpu MHz"
    return ASSUMED_CLOCK_GHZ, f"assumed {ASSUMED_CLOCK_GHZ} GHz (no clock in /proc/cpuinfo)"


def physical_cores(cpuinfo: Path = CPUINFO) -> int | None:
    """Distinct (physical id, core id) pairs in /proc/cpuinfo, or None when it does not say."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return None
    cores, physical = set(), "0"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "physical id":
            physical = value.strip()
        elif key == "core id":
            cores.add((physical, value.strip()))
    return len(cores) or None


def peak_gflops(
    precision: str,
    flags: Iterable[str],
    cores: int,
    clock_ghz: float,
    cpu_model: str = "",
    *,
    vector_only: bool = False,
) -> tuple[float, str]:
    """``(peak GFLOP/s or GOP/s, units)`` of ``cores`` cores at ``clock_ghz``."""
    units, ops = ops_per_cycle(precision, flags, cpu_model, vector_only=vector_only)
    return cores * clock_ghz * ops, units


def machine() -> dict[str, Any]:
    """What the peak needs from this machine, read now: clock and physical cores."""
    clock, source = cpu_clock_ghz()
    return {"clock_ghz": clock, "clock_source": source, "physical_cores": physical_cores()}


def _sig(value: float, digits: int = 4) -> float:
    """``value`` to ``digits`` significant digits (a tiny share stays above 0)."""
    return float(f"{value:.{digits}g}")


def _p50(entry: Any) -> float | None:
    value = entry.get("p50") if isinstance(entry, Mapping) else entry
    return float(value) if isinstance(value, int | float) and value > 0 else None


def for_result(
    result: Mapping[str, Any],
    env: Mapping[str, Any],
    hardware: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The ``roofline`` of one CPU result, or None (not a CPU result, failed, no FLOP count).

    ``{"precision", "peak_gflops", "units", "cores", "clock_ghz", "achieved_gflops": {batch: x},
    "share": {batch: fraction of peak}, "assumptions": [...]}``, plus ``vector_peak_gflops`` and
    ``vector_share`` on a CPU with AMX. ``hardware`` is ``machine()`` (clock, physical cores);
    read from this machine when not given.
    """
    if result.get("status", "ok") != "ok":
        return None
    if (result.get("device") or env.get("device") or "cpu") != "cpu":
        return None
    flops = result.get("flops_per_item")
    latency = result.get("latency_ms") or {}
    if not isinstance(flops, int | float) or flops <= 0 or not latency:
        return None
    hw = dict(hardware) if hardware is not None else machine()
    flags = list(env.get("cpu_flags") or [])
    cpu = str(env.get("cpu_model") or "")
    threads = int(result.get("threads") or env.get("threads") or env.get("cores") or 1)
    limit = hw.get("physical_cores") or env.get("usable_cores") or env.get("cores") or threads
    cores = max(1, min(threads, int(limit)))
    clock = float(hw.get("clock_ghz") or ASSUMED_CLOCK_GHZ)
    precision = precision_of(result.get("precision"))
    peak, units = peak_gflops(precision, flags, cores, clock, cpu)
    achieved, share = {}, {}
    for batch, entry in latency.items():
        p50 = _p50(entry)
        try:
            size = int(batch)
        except (TypeError, ValueError):
            continue
        if p50 is None:
            continue
        gflops = flops * size / (p50 / 1000) / 1e9
        achieved[str(batch)] = _sig(gflops, 6)
        share[str(batch)] = _sig(gflops / peak) if peak else None
    if not achieved:
        return None
    assumptions = [
        f"{units}: {peak / (cores * clock):g} {'ops' if precision == 'int8' else 'flop'} per "
        f"cycle per core (lib/measure/roofline.py lists the sources)",
        f"clock {clock:g} GHz from {hw.get('clock_source') or 'an assumption'}",
        f"{cores} core(s): the run's {threads} thread(s), at most the physical cores",
        "FLOPs counted at the run's sequence length, padded positions included",
    ]
    if str(result.get("precision") or "").lower() == "fp16":
        assumptions.append("fp16 on a CPU counted against the fp32 peak")
    if precision == "int8":
        assumptions.append(
            "int8 variants also run float parts (attention scores, softmax, LayerNorm): the int8 "
            "roof is an upper bound they cannot fully reach"
        )
    out: dict[str, Any] = {
        "precision": precision,
        "peak_gflops": round(peak, 1),
        "units": units,
        "cores": cores,
        "clock_ghz": clock,
        "achieved_gflops": achieved,
        "share": share,
        "assumptions": assumptions,
    }
    if units in _AMX:
        vector, vector_units = peak_gflops(precision, flags, cores, clock, cpu, vector_only=True)
        out["vector_peak_gflops"] = round(vector, 1)
        out["vector_units"] = vector_units
        out["vector_share"] = {b: _sig(g / vector) for b, g in achieved.items()}
    return out


def roofline_frame(results: Iterable[Mapping[str, Any]], env: Mapping[str, Any] | None = None):
    """One row per (variant, batch size) with a roofline, for the Results page.

    Columns: ``variant``, ``batch``, ``precision``, ``p50_ms``, ``achieved_gflops``,
    ``peak_gflops``, ``share`` (fraction of peak), ``units``, ``vector_peak_gflops``,
    ``vector_share`` (None without AMX). A result without ``roofline`` gets one computed from
    ``env`` (the run's environment) when given, with this machine's clock.
    """
    import pandas as pd

    columns = [
        "variant",
        "batch",
        "precision",
        "p50_ms",
        "achieved_gflops",
        "peak_gflops",
        "share",
        "units",
        "vector_peak_gflops",
        "vector_share",
    ]
    rows = []
    for r in results:
        r = r.to_dict() if hasattr(r, "to_dict") else r
        roof = r.get("roofline")
        if not roof and env is not None:
            roof = for_result(r, env)
        if not roof:
            continue
        for batch, gflops in (roof.get("achieved_gflops") or {}).items():
            rows.append(
                {
                    "variant": r.get("variant"),
                    "batch": int(batch),
                    "precision": roof.get("precision"),
                    "p50_ms": _p50((r.get("latency_ms") or {}).get(batch)),
                    "achieved_gflops": gflops,
                    "peak_gflops": roof.get("peak_gflops"),
                    "share": (roof.get("share") or {}).get(batch),
                    "units": roof.get("units"),
                    "vector_peak_gflops": roof.get("vector_peak_gflops"),
                    "vector_share": (roof.get("vector_share") or {}).get(batch),
                }
            )
    return pd.DataFrame(rows, columns=columns)

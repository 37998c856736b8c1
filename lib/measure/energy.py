"""Energy per 1,000 inferences, and how it was obtained: measured from counters or estimated.

A separate pass from the latency pass (the tracker's sampling thread must not disturb the
timings): ``measure_energy`` runs a predictor call in a loop for at least ``min_seconds`` under
codecarbon's ``OfflineEmissionsTracker`` and divides the energy by the inferences done.

Why the offline tracker: the online one looks the location up over the network and, without
network, silently falls back to a default region (Quebec, ~90x less carbon per kWh than the USA).
The offline tracker takes the country the user chose and codecarbon's bundled energy-mix table,
and never opens a connection; neither does this module (no API output, no Electricity Maps token,
no CSV file: nothing is written to the working folder).

How codecarbon 3.3 obtains each component (read from ``tracker._hardware`` after ``start``):

- CPU ``intel_rapl`` (Linux powercap, also AMD Zen on recent kernels) or ``windows_emi``: energy
  counters of the CPU package, **measured** (whole package: run on a quiet machine).
- CPU ``intel_power_gadget`` / Apple ``powermetrics``: measured by the vendor tool.
- CPU ``cpu_load``: **estimated** = TDP x load. With ``tracking_mode="process"`` (our default)
  the load is this process's CPU time, so the estimate is ``TDP / threads`` per busy thread.
  When the CPU model is not in codecarbon's TDP table the TDP is 4 W per hardware thread.
- CPU ``constant``: **estimated** as half the TDP, whatever the work.
- GPU via NVML (or AMD SMI): the board's energy counter, **measured**.
- RAM: always **estimated** by codecarbon's model (5 W per estimated DIMM, at least 10 W on x86;
  in process mode the DIMMs are estimated from this process's memory, so usually 10 W).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from lib.errors import UserError

DEFAULT_COUNTRY = "USA"
DEFAULT_SECONDS = 5.0
TRACKING_MODE = "process"

# Anything that could make codecarbon talk to a server or write a file, forced off whatever the
# user's ~/.codecarbon.config or CODECARBON_* variables say. The carbon intensity is also forced
# (from the bundled table), so no Electricity Maps token found in a config file is ever used.
_NO_NETWORK: dict[str, Any] = {
    "output_methods": [],
    "api_endpoint": None,
    "api_key": None,
    "emissions_endpoint": None,
    "electricitymaps_api_token": None,
    "allow_multiple_runs": True,  # no lock file in the temp folder; runs are queued by us
}


def carbon_intensity(country: str = DEFAULT_COUNTRY) -> dict[str, Any]:
    """Carbon intensity of a country's electricity from codecarbon's bundled table (offline).

    Returns ``{"country": "USA", "country_name": ..., "g_per_kwh": ..., "year": ...}``; a
    UserError for a code the table lacks (codecarbon itself would only log it and go on).
    """
    from codecarbon.input import DataSource

    code = (country or "").strip().upper()
    table = DataSource().get_global_energy_mix_data()
    if code not in table:
        raise UserError(
            f"Unknown country code '{country}' for the carbon intensity: use a 3-letter ISO code "
            "such as USA, FRA, DEU, GBR, IND."
        )
    row = table[code]
    return {
        "country": code,
        "country_name": row.get("country_name"),
        "g_per_kwh": float(row["carbon_intensity"]),
        "year": row.get("year"),
    }


def measure_energy(
    fn: Callable[[], Any],
    n_items_per_call: int,
    min_seconds: float = DEFAULT_SECONDS,
    country: str = DEFAULT_COUNTRY,
    *,
    device: str = "cpu",
    sync: Callable[[], None] | None = None,
    min_calls: int = 3,
    tracking_mode: str = TRACKING_MODE,
    measure_power_secs: float = 1.0,
) -> dict[str, Any]:
    """Energy per 1,000 inferences of ``fn`` (one call = ``n_items_per_call`` inferences).

    Calls ``fn`` until both ``min_calls`` and ``min_seconds`` are reached inside one tracker
    window; ``sync`` (e.g. ``torch.cuda.synchronize``) is called after each call so the GPU work
    is inside the window. On ``device="cpu"`` a GPU's energy is reported in ``details`` but not
    counted (the variant did not use it).

    Returns ``energy_j_per_1k`` (None when codecarbon failed), ``energy_method`` (starts with
    ``measured`` or ``estimated``), ``energy_measured`` (bool), ``carbon_intensity_g_per_kwh``,
    ``co2_g_per_1k`` and ``details`` (joules per component, seconds, calls, tracker overhead,
    the codecarbon modes seen).
    """
    if n_items_per_call <= 0:
        raise ValueError("n_items_per_call must be above 0")
    intensity = carbon_intensity(country)
    tracker = make_tracker(intensity["country"], tracking_mode, measure_power_secs)

    t0 = time.perf_counter()
    tracker.start()
    start_s = time.perf_counter() - t0
    components = describe_hardware(tracker)

    calls = 0
    begin = time.perf_counter()
    try:
        while calls < min_calls or time.perf_counter() - begin < min_seconds:
            fn()
            if sync:
                sync()
            calls += 1
    finally:
        work_s = time.perf_counter() - begin
        t1 = time.perf_counter()
        tracker.stop()
        stop_s = time.perf_counter() - t1

    items = calls * n_items_per_call
    data = getattr(tracker, "final_emissions_data", None)
    details: dict[str, Any] = {
        "seconds": work_s,
        "calls": calls,
        "inferences": items,
        "tracking_mode": tracking_mode,
        "country": intensity["country"],
        "country_name": intensity["country_name"],
        "components": components,
        "tracker_start_s": start_s,
        "tracker_stop_s": stop_s,
        "codecarbon": _codecarbon_version(),
    }
    method, measured = energy_method(components, device)
    if data is None:
        return {
            "energy_j_per_1k": None,
            "energy_method": "unavailable (codecarbon's tracker failed; see the worker log)",
            "energy_measured": False,
            "carbon_intensity_g_per_kwh": intensity["g_per_kwh"],
            "co2_g_per_1k": None,
            "details": details,
        }

    joules = {k: float(getattr(data, f"{k}_energy", 0.0) or 0.0) * 3.6e6 for k in _PARTS}
    counted = [k for k in _PARTS if k != "gpu" or device in ("cuda", "mps")]
    total_j = sum(joules[k] for k in counted)
    per_1k = total_j / items * 1000
    details.update({f"{k}_j": joules[k] for k in _PARTS})
    details.update({f"{k}_power_w": float(getattr(data, f"{k}_power", 0.0) or 0.0) for k in _PARTS})
    details.update(
        counted=counted,
        total_j=total_j,
        duration_s=float(data.duration),
    )
    return {
        "energy_j_per_1k": per_1k,
        "energy_method": method,
        "energy_measured": measured,
        "carbon_intensity_g_per_kwh": intensity["g_per_kwh"],
        "co2_g_per_1k": per_1k / 3.6e6 * intensity["g_per_kwh"],
        "details": details,
    }


_PARTS = ("cpu", "gpu", "ram")


def make_tracker(country: str, tracking_mode: str = TRACKING_MODE, measure_power_secs=1.0):
    """An offline tracker that writes nothing, sends nothing and logs only errors."""
    intensity = carbon_intensity(country)
    if tracking_mode not in ("process", "machine"):
        raise ValueError("tracking_mode must be 'process' or 'machine'")
    _quiet()
    from codecarbon import OfflineEmissionsTracker

    return OfflineEmissionsTracker(
        country_iso_code=country,
        measure_power_secs=measure_power_secs,
        tracking_mode=tracking_mode,
        log_level="error",
        project_name="leanbench",
        force_carbon_intensity_g_co2e_kwh=intensity["g_per_kwh"],
        **_NO_NETWORK,
    )


def describe_hardware(tracker) -> list[dict[str, Any]]:
    """What codecarbon set up, one dict per component: kind, mode, measured, power figures."""
    out = []
    for hw in getattr(tracker, "_hardware", None) or []:
        kind = type(hw).__name__
        if kind == "CPU":
            mode = getattr(hw, "_mode", "unknown")
            out.append(
                {
                    "kind": "cpu",
                    "mode": mode,
                    "measured": mode in _MEASURED_CPU_MODES,
                    "tdp_w": getattr(hw, "_tdp", None),
                    "generic_tdp": bool(getattr(hw, "_is_generic_tdp", False)),
                    "threads": getattr(hw, "_cpu_count", None),
                    "tracking_mode": getattr(hw, "_tracking_mode", None),
                    "model": getattr(hw, "_model", None),
                }
            )
        elif kind == "GPU":
            devices = getattr(getattr(hw, "devices", None), "devices", []) or []
            amd = any("AMD" in type(d).__name__ for d in devices)
            out.append(
                {
                    "kind": "gpu",
                    "mode": "amdsmi" if amd else "nvml",
                    "measured": True,
                    "count": getattr(hw, "num_gpus", len(devices)),
                }
            )
        elif kind == "AppleSiliconChip":
            part = str(getattr(hw, "chip_part", "CPU")).lower()
            out.append(
                {
                    "kind": "gpu" if part == "gpu" else "cpu",
                    "mode": "powermetrics",
                    "measured": True,
                }
            )
        elif kind == "RAM":
            out.append(
                {
                    "kind": "ram",
                    "mode": "forced" if getattr(hw, "_force_ram_power", None) else "model",
                    "measured": False,
                    "power_w": _ram_power_w(hw),
                    "tracking_mode": getattr(hw, "_tracking_mode", None),
                }
            )
        elif kind == "Raspberry":
            out.append({"kind": "cpu", "mode": "raspberry_pmic", "measured": True})
        else:
            out.append({"kind": kind.lower(), "mode": "unknown", "measured": False})
    return out


_MEASURED_CPU_MODES = {
    "intel_rapl": "RAPL",
    "windows_emi": "RAPL via Windows EMI",
    "intel_power_gadget": "Intel Power Gadget",
    "apple_powermetrics": "powermetrics",
    "powermetrics": "powermetrics",
    "raspberry_pmic": "Raspberry Pi PMIC",
}


def energy_method(components: list[dict[str, Any]], device: str = "cpu") -> tuple[str, bool]:
    """The ``energy_method`` text and whether the component that did the work was measured.

    The deciding component is the GPU on ``cuda``/``mps`` and the CPU otherwise; the rest (RAM
    always, the host CPU on a GPU run) is named as measured or estimated beside it.
    """
    by_kind = {c["kind"]: c for c in components}
    cpu, gpu, ram = by_kind.get("cpu"), by_kind.get("gpu"), by_kind.get("ram")
    ram_text = (
        f"RAM estimated at {ram['power_w']:.0f} W"
        if ram and ram.get("power_w") is not None
        else "RAM estimated"
    )
    if device in ("cuda", "mps") and gpu and gpu.get("measured"):
        label = {"nvml": "NVML", "amdsmi": "AMD SMI", "powermetrics": "powermetrics"}.get(
            gpu["mode"], gpu["mode"]
        )
        host = _cpu_text(cpu) if cpu else "host CPU not tracked"
        return f"measured ({label} GPU energy counter; host {host}; {ram_text})", True
    if cpu is None:
        return "unavailable (codecarbon found no CPU to track)", False
    if cpu.get("measured"):
        label = _MEASURED_CPU_MODES.get(cpu["mode"], cpu["mode"])
        return f"measured ({label} CPU package energy counters; {ram_text})", True
    return f"estimated (codecarbon {_cpu_text(cpu)}; {ram_text}; no energy counters here)", False


def _cpu_text(cpu: dict[str, Any]) -> str:
    mode = cpu.get("mode")
    if cpu.get("measured"):
        label = _MEASURED_CPU_MODES.get(mode, mode) if isinstance(mode, str) else mode
        return f"CPU measured ({label})"
    tdp, threads = cpu.get("tdp_w"), cpu.get("threads")
    if tdp and threads and _is_per_thread_default(tdp, threads):
        source = f"{tdp / threads:g} W per thread x {threads} threads (CPU model not in its table)"
    elif cpu.get("generic_tdp"):
        source = f"generic {tdp} W TDP"
    else:
        source = f"{tdp} W TDP from its CPU table"
    if mode == "cpu_load":
        scope = "this process's CPU time" if cpu.get("tracking_mode") == "process" else "CPU load"
        return f"CPU power model: {source}, scaled by {scope}"
    if mode == "constant":
        return f"constant CPU power model: half of {source}"
    return f"CPU {mode} model: {source}"


def _is_per_thread_default(tdp: float, threads: int) -> bool:
    from codecarbon.core.cpu import DEFAULT_POWER_PER_CORE

    return abs(float(tdp) - threads * DEFAULT_POWER_PER_CORE) < 1e-9


def _ram_power_w(ram) -> float | None:
    try:
        return float(ram.total_power().W)
    except Exception:  # noqa: BLE001 - a description must never fail the measurement
        return None


def _quiet() -> None:
    # codecarbon logs INFO/WARNING lines before its log_level takes effect: keep them out.
    logging.getLogger("codecarbon").setLevel(logging.ERROR)


def _codecarbon_version() -> str | None:
    try:
        import importlib.metadata as md

        return md.version("codecarbon")
    except Exception:  # noqa: BLE001
        return None

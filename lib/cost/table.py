"""The cost table: one row per variant x hardware option, each carrying the inputs that produced
it, with the break-even of owned hardware against each cloud option (time and sensitivity
scenarios are in ``lib.cost.scenarios``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from lib.cost.catalog import Catalog, load_catalog
from lib.cost.formulas import (
    PRICINGS,
    CostAssumptions,
    OwnedHourly,
    breakeven_months,
    carbon_intensity_g_per_kwh,
    energy_kwh_per_million_estimated,
    energy_kwh_per_million_measured,
    fleet_utilisation,
    instances_for_goodput,
    instances_needed,
    monthly_usd,
    owned_hourly,
    peak_qps,
    usd_per_million,
    usd_per_million_from_goodput,
)
from lib.cost.goodput import PEAK_LABEL, Goodput, goodput_on
from lib.cost.hardware import HardwareOption, Throughput, hardware_options, throughput_on
from lib.cost.measured import measured_on
from lib.cost.projection import Measurement, measurements_from_results
from lib.cost.servable import Servability, gpu_servability
from lib.errors import UserError

MONEY_COLUMNS = [f"usd_per_million_{p}" for p in PRICINGS[1:]] + [
    f"monthly_usd_{p}" for p in PRICINGS[1:]
]


def _variant_runs(measurements: list[Measurement]) -> dict[str, list[Measurement]]:
    out: dict[str, list[Measurement]] = {}
    for m in measurements:
        out.setdefault(m.variant, []).append(m)
    return out


def _equivalent_runs(
    variant: str,
    runs: list[Measurement],
    option: HardwareOption,
    by_variant: dict[str, list[Measurement]],
) -> tuple[list[Measurement], Servability]:
    """The runs an accelerator row is priced from: the variant's own, or, for a CPU-only
    variant (int8, int8@ort) never measured on a GPU, its GPU-servable equivalent's (measured in
    these results, else projected from this variant's FLOPs as that chain)."""
    if not option.accelerator_model or any(m.is_gpu for m in runs):
        return runs, Servability(True)
    serv = gpu_servability(variant, runs[0].runtime)
    if serv.servable or serv.equivalent is None:
        return runs, serv
    measured = by_variant.get(serv.equivalent)
    if measured and any(m.is_gpu for m in measured):
        return measured, serv
    if measured:
        # Measured on CPUs only, where half is bfloat16; on a GPU it is float16.
        return [replace(m, precision="fp16") for m in measured], serv
    # Not in the results: the same model as the equivalent chain, so this variant's FLOPs,
    # layers and parameters, at half precision (int8 keeps its name: projection.py prices it
    # at the fp16 peak already, and says so).
    return [
        replace(m, precision=m.precision if m.precision in ("int8", "fp16") else "fp16")
        for m in runs
    ], serv


def cost_row(
    variant: str,
    runs: list[Measurement],
    option: HardwareOption,
    a: CostAssumptions,
    catalog: Catalog,
    intensity: float,
    by_variant: dict[str, list[Measurement]] | None = None,
) -> dict[str, Any]:
    """One row of the cost table; rows that cannot be costed carry a note and NaN numbers.

    ``by_variant``: every variant's runs, where a CPU-only variant's GPU-servable equivalent
    is looked up.
    """
    first = runs[0]
    accuracy = next((m.accuracy for m in runs if m.accuracy is not None), None)
    macro_f1 = next((m.macro_f1 for m in runs if m.macro_f1 is not None), None)
    nan = float("nan")
    row: dict[str, Any] = {
        "variant": variant,
        "precision": first.precision,
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "option": option.name,
        "option_kind": option.kind,
        "provider": option.provider,
        "region": option.region,
        "accelerator": option.accelerator_model or "",
        "accelerator_count": option.accelerator_count,
        "vcpus": option.vcpus,
        "utilisation": a.utilisation,
        "requests_per_day": a.requests_per_day,
        "peak_to_average": a.peak_to_average,
        "latency_target_ms": a.latency_target_ms,
        "price_source": option.price_source,
        "price_date": option.price_date,
        "price_estimate": option.price_estimate,
        "country": a.country,
        "carbon_g_per_kwh": intensity,
        "note": "",
        # cost from goodput (a load test) or from peak throughput: see docs/cost.md
        "basis": "peak",
        "basis_label": PEAK_LABEL,
        "applicable": True,
        "reason": "",
        "priced_as": "",
        "peak_qps": peak_qps(a.requests_per_day, a.peak_to_average),
        "goodput_qps": nan,
        "goodput_per_replica_qps": nan,
        "replicas": nan,
        "goodput_source": "",
        "goodput_assumptions": "",
        "slo_ms": nan,
        "slo_percentile": nan,
        "offline_qps": nan,
        "speed_ratio": nan,
        "physical_cores": nan,
        "threads_per_core": nan,
        "cores_assumption": "",
        "usd_per_million_peak": nan,
        "monthly_usd_peak": nan,
        "instances_needed_peak": nan,
        "cost_ratio_vs_peak": nan,
    }
    cost_runs, serv = _equivalent_runs(variant, runs, option, by_variant or {})
    if not serv.servable:
        row["priced_as"] = serv.equivalent or ""
    try:
        # A sweep's measurement on this machine kind first (lib.cost.measured), else as before.
        t = measured_on(option, cost_runs, a.latency_target_ms) or throughput_on(
            option, cost_runs, a, catalog
        )
    except UserError as exc:
        row.update(
            throughput_source="unavailable",
            throughput_per_s=nan,
            usd_per_million=nan,
            monthly_usd=nan,
            hourly_usd=option.hourly.get("on_demand", nan),
            note=str(exc),
        )
        if not serv.servable:
            row.update(
                applicable=False,
                reason=serv.reason,
                priced_as="",
                note=f"{serv.reason}; its GPU-servable equivalent {serv.equivalent} could not "
                f"be priced either: {exc}",
            )
        return row
    assumptions = t.assumptions
    if not serv.servable:
        measured = cost_runs is not runs and cost_runs[0].variant == serv.equivalent
        assumptions = (
            f"{serv.priced_as_note()} ("
            + ("measured in these results" if measured else "projected from this variant's FLOPs")
            + f"; {serv.reason}); {assumptions}"
        )
    row.update(
        throughput_per_s=t.throughput_per_s,
        batch_size=t.batch_size,
        latency_ms=t.latency_ms,
        meets_latency_target=t.meets_latency_target,
        throughput_source=t.source,
        throughput_assumptions=assumptions,
        projection=t.projection,
    )
    if not option.accelerator_model and option.vcpus:
        row["cores_assumption"] = _vcpu_assumption(option, t, cost_runs)
    notes = [serv.priced_as_note()] if not serv.servable else []
    if not t.meets_latency_target:
        notes.append(
            f"no batch size meets the {a.latency_target_ms:g} ms latency target; costed at batch {t.batch_size}"
        )
    n_peak = instances_needed(a.requests_per_day, a.peak_to_average, t.throughput_per_s)
    g: Goodput | None = None
    try:
        g = goodput_on(option, cost_runs, catalog)
    except UserError as exc:
        notes.append(f"costed from peak throughput: goodput not projected ({exc})")
    oh = None
    if option.kind != "cloud":
        if option.capex_usd is None or option.idle_w is None or option.max_w is None:
            raise UserError(
                f"{option.name}: owned hardware needs a purchase price and power figures."
            )
        oh = owned_hourly(option.capex_usd, option.idle_w, option.max_w, a)
    # The peak figure: the old cost, from a fixed-shape batch's throughput x utilisation.
    _price(row, option, oh, n_peak, lambda h: usd_per_million(h, t.throughput_per_s, a.utilisation))
    row["instances_needed"] = n_peak
    row["fleet_utilisation"] = fleet_utilisation(a.requests_per_day, n_peak, t.throughput_per_s)
    row.update(
        usd_per_million_peak=row["usd_per_million"],
        monthly_usd_peak=row["monthly_usd"],
        instances_needed_peak=n_peak,
    )
    if g is not None:
        _apply_goodput(row, option, oh, g, a, notes)
    row["note"] = "; ".join(notes)
    pue = a.cloud_pue if option.kind == "cloud" else a.pue
    m = t.measurement
    if t.source == "measured" and m is not None and m.energy_j_per_1k:
        row["energy_kwh_per_million"] = energy_kwh_per_million_measured(m.energy_j_per_1k, pue)
        row["energy_source"] = f"measured ({m.energy_method or 'codecarbon'}) x PUE {pue:g}"
    elif option.idle_w is not None and option.max_w is not None:
        row["energy_kwh_per_million"] = energy_kwh_per_million_estimated(
            option.idle_w, option.max_w, t.throughput_per_s, a.utilisation, pue
        )
        row["energy_source"] = (
            f"estimated: board power {option.idle_w:.0f}-{option.max_w:.0f} W at utilisation {a.utilisation:g} x PUE {pue:g}"
        )
    else:
        row["energy_kwh_per_million"], row["energy_source"] = nan, "unavailable: no power figures"
    row["carbon_kg_per_million"] = row["energy_kwh_per_million"] * intensity / 1000
    return row


def _vcpu_assumption(option: HardwareOption, t: Throughput, runs: list[Measurement]) -> str:
    """How the peak figure counts a CPU option's vCPUs: as cores, as it always has."""
    if t.source == "measured":
        return f"{option.vcpus:g} vCPUs: measured on the whole instance"
    base = t.measurement or next((m for m in runs if not m.is_gpu), None)
    threads = base.threads if base is not None and base.threads else 1
    return (
        f"{option.vcpus:g} vCPUs counted as cores (peak figure): "
        f"x{(option.vcpus or 0) / threads:g} the {threads}-thread run"
    )


def _price(
    row: dict[str, Any],
    option: HardwareOption,
    oh: OwnedHourly | None,
    n: int,
    per_million: Callable[[float], float],
) -> None:
    """$/h, $ per 1M and the monthly bill of ``n`` instances, for each pricing (cloud) or owned."""
    nan = float("nan")
    if oh is None:
        for pricing in PRICINGS:
            hourly = option.hourly.get(pricing)
            suffix = "" if pricing == "on_demand" else f"_{pricing}"
            row[f"hourly_usd{suffix}"] = hourly if hourly is not None else nan
            row[f"usd_per_million{suffix}"] = per_million(hourly) if hourly else nan
            row[f"monthly_usd{suffix}"] = monthly_usd(hourly, n) if hourly else nan
        return
    row.update(
        hourly_usd=oh.total,
        usd_per_million=per_million(oh.total),
        monthly_usd=monthly_usd(oh.total, n),
        capex_usd=oh.capex_usd * n,
        owned_capex_per_h=oh.capex_per_h,
        owned_power_per_h=oh.power_per_h,
        owned_colocation_per_h=oh.colocation_per_h,
        owned_operations_per_h=oh.operations_per_h,
        owned_running_monthly_usd=monthly_usd(oh.running, n),
    )


def _apply_goodput(
    row: dict[str, Any],
    option: HardwareOption,
    oh: OwnedHourly | None,
    g: Goodput,
    a: CostAssumptions,
    notes: list[str],
) -> None:
    """Re-cost a row from goodput: no utilisation, fleet = ceil(peak QPS / goodput)."""
    row.update(
        basis="goodput",
        basis_label=f"goodput at p{g.percentile:g} <= {g.slo_ms:g} ms, {g.source}",
        goodput_qps=g.qps,
        goodput_per_replica_qps=g.per_replica_qps,
        replicas=g.replicas,
        goodput_source=g.source,
        goodput_assumptions=g.assumptions,
        slo_ms=g.slo_ms,
        slo_percentile=g.percentile,
        offline_qps=g.offline_qps if g.offline_qps is not None else float("nan"),
        speed_ratio=g.speed_ratio if g.speed_ratio is not None else float("nan"),
    )
    if g.physical_cores is not None:
        row.update(
            physical_cores=g.physical_cores,
            threads_per_core=g.threads_per_core,
            cores_assumption=g.cores_assumption,
        )
    if not g.qps > 0:
        nan = float("nan")
        notes.append(
            f"no offered rate met p{g.percentile:g} <= {g.slo_ms:g} ms on this hardware "
            "(goodput 0): not servable at that SLO"
        )
        for col in [c for c in row if c.startswith(("usd_per_million", "monthly_usd"))]:
            if not col.endswith("_peak"):
                row[col] = nan
        row.update(instances_needed=pd.NA, fleet_utilisation=nan, capex_usd=nan)
        if oh is not None:
            row["owned_running_monthly_usd"] = nan
        return
    n = instances_for_goodput(a.requests_per_day, a.peak_to_average, g.qps)
    _price(row, option, oh, n, lambda h: usd_per_million_from_goodput(h, g.qps))
    row["instances_needed"] = n
    row["fleet_utilisation"] = fleet_utilisation(a.requests_per_day, n, g.qps)
    peak = row["usd_per_million_peak"]
    row["cost_ratio_vs_peak"] = row["usd_per_million"] / peak if peak and peak > 0 else float("nan")


def _add_breakeven(df: pd.DataFrame) -> pd.DataFrame:
    """Owned rows: break-even vs the cheapest cloud option (on-demand) for the same variant,
    and vs that instance's committed and spot prices."""
    for col in (
        "breakeven_vs",
        "breakeven_months",
        *[f"breakeven_months_{p}" for p in PRICINGS[1:]],
    ):
        df[col] = "" if col == "breakeven_vs" else float("nan")
    for _, group in df.groupby("variant"):
        cloud = group[(group["option_kind"] == "cloud") & group["monthly_usd"].notna()]
        if cloud.empty:
            continue
        best = cloud.loc[cloud["monthly_usd"].idxmin()]
        owned = group[(group["option_kind"] == "owned") & group["monthly_usd"].notna()]
        for i, r in owned.iterrows():
            df.at[i, "breakeven_vs"] = best["option"]
            for pricing in PRICINGS:
                suffix = "" if pricing == "on_demand" else f"_{pricing}"
                cloud_monthly = best.get(f"monthly_usd{suffix}", float("nan"))
                months = (
                    float("nan")
                    if pd.isna(cloud_monthly)
                    else breakeven_months(
                        r["capex_usd"], cloud_monthly, r["owned_running_monthly_usd"]
                    )
                )
                df.at[i, f"breakeven_months{suffix}"] = months
    return df


def cost_table(
    results: dict | list | str | Path | list[Measurement],
    catalog: Catalog | None = None,
    assumptions: CostAssumptions | None = None,
) -> pd.DataFrame:
    """One row per variant x hardware option, each carrying the inputs that produced it.

    ``results``: a results.json (dict or path), a list of them (e.g. a local run and a run on a
    GPU server: each GPU's measurement is then preferred over projection), or Measurements.
    """
    a = assumptions or CostAssumptions()
    catalog = catalog or load_catalog()
    if isinstance(results, list) and results and isinstance(results[0], Measurement):
        measurements = results
    else:
        measurements = measurements_from_results(results)
    measurements = [m for m in measurements if any(v > 0 for v in m.throughput_per_s.values())]
    if not measurements:
        raise UserError(
            "No variant in the results has a measured throughput above zero: nothing to cost."
        )
    intensity = carbon_intensity_g_per_kwh(a.country)
    options = hardware_options(catalog)
    by_variant = _variant_runs(measurements)
    rows = [
        cost_row(variant, runs, option, a, catalog, intensity, by_variant)
        for variant, runs in by_variant.items()
        for option in options
    ]
    df = pd.DataFrame(rows)
    for col in (
        "hourly_usd",
        "usd_per_million",
        "monthly_usd",
        "capex_usd",
        "owned_running_monthly_usd",
        *MONEY_COLUMNS,
    ):
        if col not in df:
            df[col] = float("nan")
    for col in ("batch_size", "instances_needed", "instances_needed_peak", "accelerator_count"):
        if col in df:
            df[col] = df[col].astype("Int64")  # whole numbers, missing where not costed
    return _add_breakeven(df)


def table_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN -> null, infinite break-even -> "never"."""
    out = []
    for rec in table.to_dict(orient="records"):
        clean = {}
        for k, v in rec.items():
            if v is pd.NA or v is None or (isinstance(v, float) and math.isnan(v)):
                v = None
            elif isinstance(v, float) and math.isinf(v):
                v = "never"
            elif hasattr(v, "item") and not isinstance(v, dict | list | str):
                v = v.item()
            clean[k] = v
        out.append(clean)
    return out

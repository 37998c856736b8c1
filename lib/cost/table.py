"""The cost table: one row per variant x hardware option, each carrying the inputs that produced
it, with break-even of owned hardware, cumulative costs over time and the sensitivity of it all
to utilisation and volume.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from lib.cost.catalog import Catalog, load_catalog
from lib.cost.formulas import (
    PRICINGS,
    CostAssumptions,
    breakeven_months,
    carbon_intensity_g_per_kwh,
    energy_kwh_per_million_estimated,
    energy_kwh_per_million_measured,
    fleet_utilisation,
    instances_needed,
    monthly_usd,
    owned_hourly,
    usd_per_million,
)
from lib.cost.hardware import HardwareOption, hardware_options, throughput_on
from lib.cost.projection import Measurement, measurements_from_results
from lib.errors import UserError
from lib.format import format_months

MONEY_COLUMNS = [f"usd_per_million_{p}" for p in PRICINGS[1:]] + [
    f"monthly_usd_{p}" for p in PRICINGS[1:]
]


def _variant_runs(measurements: list[Measurement]) -> dict[str, list[Measurement]]:
    out: dict[str, list[Measurement]] = {}
    for m in measurements:
        out.setdefault(m.variant, []).append(m)
    return out


def cost_row(
    variant: str,
    runs: list[Measurement],
    option: HardwareOption,
    a: CostAssumptions,
    catalog: Catalog,
    intensity: float,
) -> dict[str, Any]:
    """One row of the cost table; rows that cannot be costed carry a note and NaN numbers."""
    first = runs[0]
    accuracy = next((m.accuracy for m in runs if m.accuracy is not None), None)
    macro_f1 = next((m.macro_f1 for m in runs if m.macro_f1 is not None), None)
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
    }
    nan = float("nan")
    try:
        t = throughput_on(option, runs, a, catalog)
    except UserError as exc:
        row.update(
            throughput_source="unavailable",
            throughput_per_s=nan,
            usd_per_million=nan,
            monthly_usd=nan,
            hourly_usd=option.hourly.get("on_demand", nan),
            note=str(exc),
        )
        return row
    row.update(
        throughput_per_s=t.throughput_per_s,
        batch_size=t.batch_size,
        latency_ms=t.latency_ms,
        meets_latency_target=t.meets_latency_target,
        throughput_source=t.source,
        throughput_assumptions=t.assumptions,
        projection=t.projection,
    )
    n = instances_needed(a.requests_per_day, a.peak_to_average, t.throughput_per_s)
    row["instances_needed"] = n
    row["fleet_utilisation"] = fleet_utilisation(a.requests_per_day, n, t.throughput_per_s)
    if not t.meets_latency_target:
        row["note"] = (
            f"no batch size meets the {a.latency_target_ms:g} ms latency target; costed at batch {t.batch_size}"
        )
    pue = a.cloud_pue if option.kind == "cloud" else a.pue
    if option.kind == "cloud":
        for pricing in PRICINGS:
            hourly = option.hourly.get(pricing)
            suffix = "" if pricing == "on_demand" else f"_{pricing}"
            row[f"hourly_usd{suffix}"] = hourly if hourly is not None else nan
            row[f"usd_per_million{suffix}"] = (
                usd_per_million(hourly, t.throughput_per_s, a.utilisation) if hourly else nan
            )
            row[f"monthly_usd{suffix}"] = monthly_usd(hourly, n) if hourly else nan
    else:
        if option.capex_usd is None or option.idle_w is None or option.max_w is None:
            raise UserError(
                f"{option.name}: owned hardware needs a purchase price and power figures."
            )
        oh = owned_hourly(option.capex_usd, option.idle_w, option.max_w, a)
        row.update(
            hourly_usd=oh.total,
            usd_per_million=usd_per_million(oh.total, t.throughput_per_s, a.utilisation),
            monthly_usd=monthly_usd(oh.total, n),
            capex_usd=oh.capex_usd * n,
            owned_capex_per_h=oh.capex_per_h,
            owned_power_per_h=oh.power_per_h,
            owned_colocation_per_h=oh.colocation_per_h,
            owned_operations_per_h=oh.operations_per_h,
            owned_running_monthly_usd=monthly_usd(oh.running, n),
        )
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
    rows = [
        cost_row(variant, runs, option, a, catalog, intensity)
        for variant, runs in _variant_runs(measurements).items()
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
    for col in ("batch_size", "instances_needed", "accelerator_count"):
        if col in df:
            df[col] = df[col].astype("Int64")  # whole numbers, missing where not costed
    return _add_breakeven(df)


def breakeven_table(table: pd.DataFrame, variant: str, owned_option: str) -> pd.DataFrame:
    """Break-even of one owned option against every cloud option and pricing, same variant."""
    rows = table[(table["variant"] == variant)]
    owned = rows[rows["option"] == owned_option]
    if owned.empty or owned.iloc[0]["option_kind"] != "owned":
        raise UserError(f"'{owned_option}' is not an owned option in the table.")
    o = owned.iloc[0]
    out = []
    for _, c in rows[(rows["option_kind"] == "cloud") & rows["monthly_usd"].notna()].iterrows():
        for pricing in PRICINGS:
            suffix = "" if pricing == "on_demand" else f"_{pricing}"
            cloud_monthly = c.get(f"monthly_usd{suffix}")
            if pd.isna(cloud_monthly):
                continue
            months = breakeven_months(o["capex_usd"], cloud_monthly, o["owned_running_monthly_usd"])
            out.append(
                {
                    "cloud_option": c["option"],
                    "pricing": pricing,
                    "cloud_monthly_usd": cloud_monthly,
                    "owned_capex_usd": o["capex_usd"],
                    "owned_running_monthly_usd": o["owned_running_monthly_usd"],
                    "breakeven_months": months,
                    "breakeven": format_months(months),
                    "throughput_source": c["throughput_source"],
                }
            )
    return pd.DataFrame(out)


def cumulative_costs(
    table: pd.DataFrame,
    variant: str,
    owned_option: str,
    cloud_options: list[str] | None = None,
    months: int = 60,
) -> pd.DataFrame:
    """Cumulative cost per month: owned = capex + running x m; cloud = monthly x m (on-demand)."""
    rows = table[table["variant"] == variant]
    owned = rows[rows["option"] == owned_option]
    if owned.empty:
        raise UserError(f"'{owned_option}' is not in the table for variant '{variant}'.")
    o = owned.iloc[0]
    clouds = rows[(rows["option_kind"] == "cloud") & rows["monthly_usd"].notna()]
    if cloud_options:
        clouds = clouds[clouds["option"].isin(cloud_options)]
    out = []
    for m in range(months + 1):
        out.append(
            {
                "month": m,
                "option": o["option"],
                "kind": "owned",
                "cumulative_usd": o["capex_usd"] + o["owned_running_monthly_usd"] * m,
                "monthly_usd": o["owned_running_monthly_usd"],
                "capex_usd": o["capex_usd"],
            }
        )
        for _, c in clouds.iterrows():
            out.append(
                {
                    "month": m,
                    "option": c["option"],
                    "kind": "cloud",
                    "cumulative_usd": c["monthly_usd"] * m,
                    "monthly_usd": c["monthly_usd"],
                    "capex_usd": 0.0,
                }
            )
    return pd.DataFrame(out)


def sensitivity_table(
    results: dict | list | str | Path,
    catalog: Catalog | None = None,
    assumptions: CostAssumptions | None = None,
    utilisations: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0),
    volumes: tuple[float, ...] = (1e4, 1e5, 1e6, 1e7, 1e8),
    variant: str | None = None,
    options: list[str] | None = None,
) -> pd.DataFrame:
    """The cost table recomputed over a range of utilisations and of daily volumes.

    ``axis`` says which one varied ("utilisation" or "requests_per_day"); the other stays at the
    assumption's value.
    """
    a = assumptions or CostAssumptions()
    catalog = catalog or load_catalog()
    measurements = (
        measurements_from_results(results)
        if not (isinstance(results, list) and results and isinstance(results[0], Measurement))
        else results
    )
    if variant:
        measurements = [m for m in measurements if m.variant == variant]
        if not measurements:
            raise UserError(f"No variant named '{variant}' in the results.")
    frames = []
    for axis, values in (("utilisation", utilisations), ("requests_per_day", volumes)):
        for v in values:
            t = cost_table(measurements, catalog, _with(a, **{axis: v}))
            t["axis"] = axis
            frames.append(t)
    df = pd.concat(frames, ignore_index=True)
    if options:
        df = df[df["option"].isin(options)]
    keep = [
        "axis",
        "utilisation",
        "requests_per_day",
        "variant",
        "option",
        "option_kind",
        "throughput_source",
        "throughput_per_s",
        "hourly_usd",
        "usd_per_million",
        "instances_needed",
        "monthly_usd",
        "breakeven_months",
    ]
    return df[keep].reset_index(drop=True)


def _with(a: CostAssumptions, **changes: Any) -> CostAssumptions:
    return CostAssumptions(**(a.to_dict() | changes))


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

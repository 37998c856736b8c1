"""The cost model: measured (or projected) throughput -> $ per 1M inferences, monthly cost,
break-even of owned hardware, energy and carbon. Pure functions; see ``docs/cost.md``.

Formulas (reference README):

- cloud $/1M = hourly / (throughput/s x 3600 x utilisation) x 1e6
- owned $/h  = capex / amortisation hours (or an annuity when financed)
               + power_kW(u) x PUE x $/kWh + colocation $/kW/month x max kW / 730
               + operations share x capex per year / 8760,
  with power_kW(u) = idle + u x (max - idle)
- break-even months = capex / (cloud monthly - owned running monthly); never when <= 0.
"""

from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from lib.cost.catalog import Catalog, load_catalog
from lib.cost.projection import (
    Measurement,
    Projection,
    cpu_matches,
    hardware_key,
    measurements_from_results,
    pick_batch,
    project_cpu,
    project_gpu,
)
from lib.errors import UserError
from lib.format import format_months, num_or_none

HOURS_PER_MONTH = 730.0  # 8760 / 12
HOURS_PER_YEAR = 8760.0
SECONDS_PER_DAY = 86400.0
PRICINGS = ("on_demand", "commit_1y", "commit_3y", "spot")
# Estimates for power we have no figures for (documented in docs/cost.md):
IDLE_SHARE_OF_TDP = 0.15  # a GPU idles at roughly 10-20% of its board power
CPU_W_PER_VCPU = (1.5, 5.0)  # (idle, max) W per vCPU of a cloud instance's host CPUs


@dataclass
class CostAssumptions:
    """Everything the user can change, with defaults and where they come from."""

    utilisation: float = 0.5  # share of an instance's throughput used on average
    requests_per_day: float = 1_000_000
    peak_to_average: float = 3.0  # busiest hour vs the daily average
    latency_target_ms: float | None = 100.0  # per batch, p90 where measured
    amortisation_years: float = 4.0  # reference README: 4 (3-6); hyperscalers 5-6
    financing_rate: float = 0.0  # yearly interest; 0 = bought with cash
    pue: float = 1.58  # owned hardware: Uptime Institute 2023 industry average
    cloud_pue: float = 1.1  # hyperscale data centres (for cloud energy estimates)
    electricity_usd_per_kwh: float = 0.08  # US industrial, EIA 2024-2025
    colocation_usd_per_kw_month: float = 184.0  # CBRE North America H2 2024
    operations_share: float = 0.10  # of capex per year: support, spares, staff (estimate)
    country: str = "USA"  # for carbon intensity (codecarbon's per-country data)

    def __post_init__(self) -> None:
        check_utilisation(self.utilisation)
        if self.requests_per_day is None or not self.requests_per_day >= 0:
            raise UserError("Requests per day must be 0 or more.")
        if not self.peak_to_average >= 1:
            raise UserError("Peak-to-average ratio must be 1 or more.")
        if self.latency_target_ms is not None and not self.latency_target_ms > 0:
            raise UserError("Latency target must be above 0 ms (or left empty for none).")
        if not self.amortisation_years > 0:
            raise UserError("Amortisation period must be more than 0 years.")
        if not 0 <= self.financing_rate < 1:
            raise UserError("Financing rate must be between 0 and 1 (e.g. 0.07 for 7%).")
        if not (self.pue >= 1 and self.cloud_pue >= 1):
            raise UserError("PUE must be 1.0 or more.")
        for label, v in (
            ("Electricity price", self.electricity_usd_per_kwh),
            ("Colocation price", self.colocation_usd_per_kw_month),
            ("Operations share", self.operations_share),
        ):
            if not v >= 0:
                raise UserError(f"{label} must be 0 or more.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- the formulas -------------------------------------------------------------------------------


def check_utilisation(utilisation: float) -> float:
    if utilisation is None or not 0 < utilisation <= 1:
        raise UserError(
            f"Utilisation must be above 0 and at most 1 (got {utilisation}); "
            "e.g. 0.5 means the machine is busy half the time."
        )
    return utilisation


def check_throughput(throughput_per_s: float | None) -> float:
    if throughput_per_s is None or not throughput_per_s > 0 or math.isinf(throughput_per_s):
        raise UserError(
            f"Throughput must be a positive number of inferences per second (got {throughput_per_s}): "
            "the variant has no usable measurement."
        )
    return throughput_per_s


def usd_per_million(hourly_usd: float, throughput_per_s: float, utilisation: float) -> float:
    """$ per 1M inferences = hourly / (throughput x 3600 x utilisation) x 1e6."""
    check_throughput(throughput_per_s)
    check_utilisation(utilisation)
    return hourly_usd / (throughput_per_s * 3600 * utilisation) * 1e6


def instances_needed(
    requests_per_day: float, peak_to_average: float, throughput_per_s: float
) -> int:
    """Machines to serve the busiest hour, each at its best throughput within the latency target.

    At least one: a service is always on.
    """
    check_throughput(throughput_per_s)
    peak_rps = requests_per_day / SECONDS_PER_DAY * peak_to_average
    return max(1, math.ceil(peak_rps / throughput_per_s - 1e-9))


def monthly_usd(hourly_usd: float, instances: int) -> float:
    """A fleet running all month (730 h)."""
    return hourly_usd * instances * HOURS_PER_MONTH


def fleet_utilisation(requests_per_day: float, instances: int, throughput_per_s: float) -> float:
    """Average share of the fleet's capacity the volume uses."""
    return requests_per_day / SECONDS_PER_DAY / (instances * throughput_per_s)


def power_kw(idle_w: float, max_w: float, utilisation: float) -> float:
    """power(u) = idle + u x (max - idle), in kW."""
    return (idle_w + utilisation * (max_w - idle_w)) / 1000


def capex_per_hour(capex_usd: float, years: float, financing_rate: float = 0.0) -> float:
    """Straight-line over the amortisation period, or a monthly annuity when financed."""
    months = years * 12
    if financing_rate <= 0:
        return capex_usd / (years * HOURS_PER_YEAR)
    r = financing_rate / 12
    payment = capex_usd * r / (1 - (1 + r) ** -months)
    return payment / HOURS_PER_MONTH


@dataclass
class OwnedHourly:
    """Owned $/h and its parts (shown on hover)."""

    capex_usd: float
    capex_per_h: float
    power_per_h: float
    colocation_per_h: float
    operations_per_h: float

    @property
    def total(self) -> float:
        return self.capex_per_h + self.power_per_h + self.colocation_per_h + self.operations_per_h

    @property
    def running(self) -> float:
        """What it costs per hour once bought (break-even compares this with the cloud)."""
        return self.power_per_h + self.colocation_per_h + self.operations_per_h


def owned_hourly(capex_usd: float, idle_w: float, max_w: float, a: CostAssumptions) -> OwnedHourly:
    """Owned $/h at the assumed utilisation. Colocation is billed on provisioned (max) kW."""
    if not capex_usd > 0:
        raise UserError("Purchase price must be above 0.")
    return OwnedHourly(
        capex_usd=capex_usd,
        capex_per_h=capex_per_hour(capex_usd, a.amortisation_years, a.financing_rate),
        power_per_h=power_kw(idle_w, max_w, a.utilisation) * a.pue * a.electricity_usd_per_kwh,
        colocation_per_h=max_w / 1000 * a.colocation_usd_per_kw_month / HOURS_PER_MONTH,
        operations_per_h=a.operations_share * capex_usd / HOURS_PER_YEAR,
    )


def breakeven_months(capex_usd: float, cloud_monthly: float, owned_running_monthly: float) -> float:
    """Months until buying pays back; ``math.inf`` ("never") when the cloud is not dearer to run."""
    saving = cloud_monthly - owned_running_monthly
    return capex_usd / saving if saving > 0 else math.inf


def energy_kwh_per_million_estimated(
    idle_w: float, max_w: float, throughput_per_s: float, utilisation: float, pue: float
) -> float:
    """Board power at the utilisation x the time 1M inferences take at that utilisation x PUE."""
    hours = 1e6 / (check_throughput(throughput_per_s) * 3600 * check_utilisation(utilisation))
    return power_kw(idle_w, max_w, utilisation) * hours * pue


def energy_kwh_per_million_measured(energy_j_per_1k: float, pue: float) -> float:
    """J per 1k inferences -> kWh per 1M (x1000 / 3.6e6), times the facility's PUE."""
    return energy_j_per_1k * 1000 / 3.6e6 * pue


@cache
def _energy_mix() -> dict[str, Any]:
    """codecarbon's bundled per-country energy mix (no network): gCO2/kWh per ISO-3 code."""
    spec = importlib.util.find_spec("codecarbon")
    if spec is None or spec.origin is None:
        raise UserError("codecarbon is not installed: carbon intensity is unavailable.")
    path = Path(spec.origin).parent / "data" / "private_infra" / "global_energy_mix.json"
    return json.loads(path.read_text())


def carbon_intensity_g_per_kwh(country: str) -> float:
    """Carbon intensity of a country's grid (ISO-3 code like 'USA' or a name like 'France')."""
    mix = _energy_mix()
    key = str(country or "").strip()
    if key.upper() in mix:
        return float(mix[key.upper()]["carbon_intensity"])
    for entry in mix.values():
        if str(entry.get("country_name", "")).lower() == key.lower():
            return float(entry["carbon_intensity"])
    raise UserError(
        f"Unknown country '{country}' for carbon intensity: use an ISO-3 code like USA, DEU, FRA."
    )


def countries() -> list[tuple[str, str]]:
    """(ISO-3 code, name) pairs for a select box."""
    return sorted((k, v.get("country_name", k)) for k, v in _energy_mix().items())


# --- hardware options ---------------------------------------------------------------------------


@dataclass
class HardwareOption:
    """A place to run a variant: a cloud instance or owned hardware, with its prices and power."""

    name: str
    kind: str  # "cloud" or "owned"
    hourly: dict[str, float | None]  # pricing -> $/h (cloud only)
    capex_usd: float | None
    idle_w: float | None
    max_w: float | None
    vcpus: float | None
    accelerator_model: str | None
    accelerator_count: int
    cpu_match: str | None
    provider: str
    region: str
    price_source: str
    price_date: str
    price_estimate: str


def _text(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def hardware_options(catalog: Catalog) -> list[HardwareOption]:
    """Cloud instances, then owned cards (with their server share) and CPU servers."""
    peaks = catalog.peaks.set_index("accelerator_model")
    options = []
    for _, r in catalog.cloud.iterrows():
        od = float(r["on_demand_usd_per_hour"])
        hourly = {"on_demand": od}
        for pricing in PRICINGS[1:]:
            m = num_or_none(r[f"{pricing}_multiplier"])
            hourly[pricing] = od * m if m else None
        model = _text(r["accelerator_model"]) or None
        count = int(num_or_none(r["accelerator_count"]) or 0)
        vcpus = float(r["vcpus"])
        idle_w, max_w = vcpus * CPU_W_PER_VCPU[0], vcpus * CPU_W_PER_VCPU[1]
        if model:
            tdp = num_or_none(peaks.loc[model, "tdp_w"]) if model in peaks.index else None
            idle_w, max_w = (
                (idle_w + count * IDLE_SHARE_OF_TDP * tdp, max_w + count * tdp)
                if tdp
                else (None, None)
            )
        options.append(
            HardwareOption(
                name=r["instance"],
                kind="cloud",
                hourly=hourly,
                capex_usd=None,
                idle_w=idle_w,
                max_w=max_w,
                vcpus=vcpus,
                accelerator_model=model,
                accelerator_count=count,
                cpu_match=_text(r["cpu_match"]) or None,
                provider=r["provider"],
                region=_text(r["region"]),
                price_source=r["price_source"],
                price_date=r["price_date"].isoformat(),
                price_estimate=_text(r["estimate"]),
            )
        )
    hosts = catalog.hardware.set_index("name")
    for _, r in catalog.hardware.iterrows():
        if r["kind"] == "server":
            continue  # a chassis is part of an accelerator option, not an option of its own
        capex, idle_w, max_w = float(r["purchase_usd"]), float(r["idle_w"]), float(r["max_w"])
        source, dates, estimate = r["price_source"], [r["price_date"]], _text(r["estimate"])
        host = _text(r["host"])
        if host:  # a card needs a server: add its share of the chassis price and power
            h, share = hosts.loc[host], float(r["per_host"])
            capex += float(h["purchase_usd"]) / share
            idle_w += float(h["idle_w"]) / share
            max_w += float(h["max_w"]) / share
            source += f" + 1/{share:g} of {host} ({h['price_source']})"
            dates.append(h["price_date"])
            estimate = "; ".join(x for x in (estimate, f"{host}: {_text(h['estimate'])}") if x)
        is_card = r["kind"] == "accelerator"
        options.append(
            HardwareOption(
                name=f"{r['name']} (owned)",
                kind="owned",
                hourly={},
                capex_usd=capex,
                idle_w=idle_w,
                max_w=max_w,
                vcpus=num_or_none(r["vcpus"]),
                accelerator_model=_text(r["accelerator_model"]) if is_card else None,
                accelerator_count=1 if is_card else 0,
                cpu_match=_text(r["cpu_match"]) or None,
                provider="owned",
                region="",
                price_source=source,
                price_date=min(dates).isoformat(),
                price_estimate=estimate,
            )
        )
    return options


# --- throughput per option ----------------------------------------------------------------------


@dataclass
class Throughput:
    """Throughput for one variant on one option, measured or projected, with its story."""

    throughput_per_s: float
    batch_size: int
    latency_ms: float | None
    meets_latency_target: bool
    source: str  # "measured" or "projected"
    assumptions: str
    projection: dict[str, Any] | None = None
    measurement: Measurement | None = None


def _from_projection(p: Projection) -> Throughput:
    return Throughput(
        throughput_per_s=p.throughput_per_s,
        batch_size=p.batch_size,
        latency_ms=p.latency_ms,
        meets_latency_target=p.meets_latency_target,
        source="projected",
        assumptions=p.summary(),
        projection=p.to_dict(),
    )


def throughput_on(
    option: HardwareOption, runs: list[Measurement], a: CostAssumptions, catalog: Catalog
) -> Throughput:
    """Measured where a run on that hardware exists, else projected. UserError when neither."""
    cpus = [m for m in runs if not m.is_gpu and m.throughput_per_s]
    gpus = [m for m in runs if m.is_gpu and m.throughput_per_s]
    target = a.latency_target_ms
    if option.accelerator_model:
        key = hardware_key(option.accelerator_model)
        same = [m for m in gpus if hardware_key(m.hardware_name) == key]
        if same:
            m = max(same, key=lambda x: max(x.throughput_per_s.values()))
            b, tput, lat, meets = pick_batch(m.throughput_per_s, m.latency_ms, target)
            n = max(option.accelerator_count, 1)
            note = f"measured on {m.hardware_name} (run {m.run_id}) at batch {b}"
            if n > 1:
                note += f"; x{n} GPUs, one model copy each"
            return Throughput(
                tput * n, b, lat, meets, "measured" if n == 1 else "projected", note, measurement=m
            )
        flops = next((m.flops_per_item for m in runs if m.flops_per_item), None)
        ref = next((m for m in runs if m.flops_per_item), runs[0])
        peaks = catalog.peaks.set_index("accelerator_model")
        if option.accelerator_model not in peaks.index:
            raise UserError(f"{option.accelerator_model} is not in the hardware peaks table.")
        p = project_gpu(
            flops,
            ref.precision,
            peaks.loc[option.accelerator_model].to_dict()
            | {"accelerator_model": option.accelerator_model},
            n_layers=ref.num_layers,
            params=ref.params,
            latency_target_ms=target,
            replicas=max(option.accelerator_count, 1),
        )
        return _from_projection(p)
    if not option.vcpus:
        raise UserError(f"{option.name} has no vCPU count: CPU throughput cannot be projected.")
    if not cpus:
        raise UserError("No CPU measurement of this variant to scale to a CPU machine.")
    same_cpu = [
        m for m in cpus if option.cpu_match and cpu_matches(m.hardware_name, option.cpu_match)
    ]
    base = same_cpu[0] if same_cpu else cpus[0]
    if same_cpu and base.threads == option.vcpus:
        b, tput, lat, meets = pick_batch(base.throughput_per_s, base.latency_ms, target)
        return Throughput(
            tput,
            b,
            lat,
            meets,
            "measured",
            f"measured on {base.hardware_name}, {base.threads} threads (run {base.run_id})",
            measurement=base,
        )
    p = project_cpu(
        base, option.vcpus, option.name, latency_target_ms=target, same_cpu=bool(same_cpu)
    )
    t = _from_projection(p)
    t.measurement = base if same_cpu else None
    return t


# --- the table ----------------------------------------------------------------------------------

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

"""The cost arithmetic: $ per 1M inferences, fleets, owning hardware, break-even, energy and
carbon, and the assumptions they take. Pure functions; see ``docs/cost.md``.

Formulas (reference README):

- cloud $/1M = hourly / (throughput/s x 3600 x utilisation) x 1e6
- owned $/h  = capex / amortisation hours (or an annuity when financed)
               + power_kW(u) x PUE x $/kWh + colocation $/kW/month x max kW / 730
               + operations share x capex per year / 8760,
  with power_kW(u) = idle + u x (max - idle)
- break-even months = capex / (cloud monthly - owned running monthly); never when <= 0.

Where a load test measured goodput (the highest Poisson rate whose p99 meets the SLO), no
utilisation is guessed: $/1M = hourly / (goodput x 3600) x 1e6, and the fleet for a volume is
ceil(peak QPS / goodput per instance), peak QPS = requests/day / 86400 x peak-to-average.
"""

from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lib.errors import UserError

HOURS_PER_MONTH = 730.0  # 8760 / 12
HOURS_PER_YEAR = 8760.0
SECONDS_PER_DAY = 86400.0
PRICINGS = ("on_demand", "commit_1y", "commit_3y", "spot")


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


def peak_qps(requests_per_day: float, peak_to_average: float) -> float:
    """The busiest hour's arrival rate: requests/day / 86400 x peak-to-average."""
    return requests_per_day / SECONDS_PER_DAY * peak_to_average


def check_goodput(goodput_qps: float | None) -> float:
    if goodput_qps is None or not goodput_qps > 0 or math.isinf(goodput_qps):
        raise UserError(
            f"Goodput must be a positive number of queries per second (got {goodput_qps}): "
            "no offered rate met the latency SLO."
        )
    return goodput_qps


def usd_per_million_from_goodput(hourly_usd: float, goodput_qps: float) -> float:
    """$ per 1M requests served within the SLO = hourly / (goodput x 3600) x 1e6.

    No utilisation: goodput already is the rate a machine sustains with its queue in check.
    """
    return hourly_usd / (check_goodput(goodput_qps) * 3600) * 1e6


def instances_for_goodput(
    requests_per_day: float, peak_to_average: float, goodput_qps: float
) -> int:
    """ceil(peak QPS / goodput per instance), at least one."""
    rate = peak_qps(requests_per_day, peak_to_average)
    return max(1, math.ceil(rate / check_goodput(goodput_qps) - 1e-9))


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

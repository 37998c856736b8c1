"""What the cost table says over time and under other assumptions: buying vs renting one
variant (break-even per option), cumulative cost month by month, and the sensitivity of $ per
1M to utilisation and volume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from lib.cost.catalog import Catalog, load_catalog
from lib.cost.formulas import PRICINGS, CostAssumptions, breakeven_months
from lib.cost.projection import Measurement, measurements_from_results
from lib.cost.table import cost_table
from lib.errors import UserError
from lib.format import format_months


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

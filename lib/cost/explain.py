"""Every number on the Cost page traced to its inputs: the cost table for people (units in the
headers, each row's inputs beside its result), each row's story (the formulas filled in with the
values used), the break-even grid and the captions that state where prices come from.
"""

from __future__ import annotations

import pandas as pd

from lib.cost.answer import PRICING_LABEL, SUFFIX, pricing_text, projected, usd
from lib.cost.catalog import Catalog, catalog_date_range
from lib.cost.formulas import (
    HOURS_PER_MONTH,
    HOURS_PER_YEAR,
    PRICINGS,
    SECONDS_PER_DAY,
    CostAssumptions,
)
from lib.cost.scenarios import breakeven_table
from lib.format import MISSING, format_months, is_missing


def usd_h(x: float | None) -> str:
    """An hourly rate: four decimals, so the $ per 1M can be recomputed from it."""
    return MISSING if is_missing(x) else f"${x:,.4f}"


def catalogue_caption(catalog: Catalog, edited: bool) -> str:
    """How many prices are in effect, how old they are and whether the user changed them."""
    oldest, newest = catalog_date_range(catalog)
    changed = " (uploaded and/or edited in this session)" if edited else ""
    return (
        f"Prices: {len(catalog.cloud)} cloud instances and {len(catalog.hardware)} hardware items, "
        f"dated {oldest:%Y-%m-%d} to {newest:%Y-%m-%d}{changed}; sources and dates in the "
        "catalogue at the bottom of the page and in each row below."
    )


def display_table(table: pd.DataFrame, pricing: str) -> pd.DataFrame:
    """The cost table for people: units in the headers, every row's inputs beside its result."""
    sfx = SUFFIX[pricing]
    rows = []
    for _, r in table.iterrows():
        owned = r["option_kind"] == "owned"
        months = r.get(f"breakeven_months{sfx}")
        breakeven = (
            f"{format_months(months)} vs {r['breakeven_vs']}"
            if owned and not is_missing(months) and r.get("breakeven_vs")
            else ""
        )
        all_prices = (
            " / ".join(
                usd(r.get(f"usd_per_million{SUFFIX[p]}"))
                if not is_missing(r.get(f"usd_per_million{SUFFIX[p]}"))
                else MISSING
                for p in PRICINGS
            )
            if not owned
            else ""
        )
        energy = r.get("energy_kwh_per_million")
        rows.append(
            {
                "Variant": r["variant"],
                "Hardware": r["option"],
                "Throughput source": r["throughput_source"],
                "$ per 1M": r.get(f"usd_per_million{sfx}"),
                "Basis": r.get("basis_label") or "",
                "Goodput (QPS)": r.get("goodput_qps"),
                "$ per 1M at peak throughput (offline)": r.get("usd_per_million_peak"),
                "x peak": r.get("cost_ratio_vs_peak"),
                "Monthly $": r.get(f"monthly_usd{sfx}"),
                "Instances": r.get("instances_needed"),
                "Break-even": breakeven,
                "Throughput (inf/s)": r.get("throughput_per_s"),
                "Batch": r.get("batch_size"),
                "$ per hour": r.get(f"hourly_usd{sfx}"),
                "Purchase $": r.get("capex_usd") if owned else None,
                "Accuracy (%)": r["accuracy"] * 100 if not is_missing(r["accuracy"]) else None,
                "Energy (Wh per 1M)": energy * 1000 if not is_missing(energy) else None,
                "CO₂ (g per 1M)": r["carbon_kg_per_million"] * 1000
                if not is_missing(r.get("carbon_kg_per_million"))
                else None,
                "Energy source": str(r.get("energy_source") or "").split(":")[0],
                "$ per 1M: on-demand / 1y / 3y / spot": all_prices,
                "Throughput assumptions": r.get("throughput_assumptions") or r.get("note") or "",
                "Price source": r["price_source"],
                "Price date": r["price_date"],
                "Price estimates": r.get("price_estimate") or "",
                "Cores": r.get("cores_assumption") or "",
                "Note": r.get("note") or "",
            }
        )
    out = pd.DataFrame(rows)
    # Numeric columns stay numbers (the page formats them) and a missing value stays empty
    # instead of showing as "None".
    numeric = (
        "$ per 1M",
        "Goodput (QPS)",
        "$ per 1M at peak throughput (offline)",
        "x peak",
        "Monthly $",
        "Instances",
        "Throughput (inf/s)",
        "Batch",
        "$ per hour",
    )
    for col in ("Purchase $", "Accuracy (%)", "Energy (Wh per 1M)", "CO₂ (g per 1M)", *numeric):
        out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def download_csv(table: pd.DataFrame) -> str:
    """The full cost table as CSV, every input column (the projection details left out)."""
    return table.drop(columns=["projection"], errors="ignore").to_csv(index=False)


def row_story(
    r: pd.Series, pricing: str, a: CostAssumptions, cloud_monthly: float | None = None
) -> str:
    """Markdown that fills each formula in with the values this row used."""
    sfx = SUFFIX[pricing]
    if r["throughput_source"] == "unavailable":
        if not r.get("applicable", True):
            return f"Not applicable: {r['reason']}. {r['note']}"
        return f"Not costed: {r['note']}"
    tput, u = r["throughput_per_s"], a.utilisation
    goodput = r.get("goodput_qps") if r.get("basis") == "goodput" else None
    lines = [
        f"**Throughput** {tput:,.1f} inferences/s at batch {r['batch_size']}, "
        f"**{r['throughput_source']}**: {r['throughput_assumptions']}."
    ]
    if goodput is not None:
        lines.append(
            f"**Goodput** {goodput:,.1f} QPS at p{r['slo_percentile']:g} <= {r['slo_ms']:g} ms, "
            f"**{r['goodput_source']}**: {r['goodput_assumptions']}."
            + (f" Cores: {r['cores_assumption']}." if r.get("cores_assumption") else "")
        )
        if not goodput > 0:
            return "\n\n".join(lines + [f"Not costed at that SLO: {r['note']}."])
    if r["option_kind"] == "cloud":
        hourly = r.get(f"hourly_usd{sfx}")
        if is_missing(hourly):
            return "\n\n".join(lines + [f"No {pricing_text(pricing)} price for this instance."])
        others = ", ".join(
            f"{pricing_text(p)} {usd_h(r[f'hourly_usd{SUFFIX[p]}'])}/h"
            for p in PRICINGS
            if p != pricing and not is_missing(r.get(f"hourly_usd{SUFFIX[p]}"))
        )
        lines.append(
            f"**Price** {usd_h(hourly)}/h {pricing_text(pricing)} ({others}); "
            f"source: {r['price_source']}, dated {r['price_date']}"
            + (f"; estimated: {r['price_estimate']}" if r.get("price_estimate") else "")
            + "."
        )
    else:
        hourly = r["hourly_usd"]
        n = int(r["instances_needed"])
        capex = r["capex_usd"] / n
        financing = f"annuity at {a.financing_rate:.1%}" if a.financing_rate else "straight line"
        lines.append(
            f"**Owned $/h** {usd_h(hourly)} = capex {usd(capex)} over {a.amortisation_years:g} years "
            f"({financing}) {usd_h(r['owned_capex_per_h'])} + power x PUE {a.pue:g} x "
            f"{usd(a.electricity_usd_per_kwh)}/kWh {usd_h(r['owned_power_per_h'])} + colocation "
            f"{usd(a.colocation_usd_per_kw_month)}/kW/month {usd_h(r['owned_colocation_per_h'])} + "
            f"operations {a.operations_share:.0%} of capex a year "
            f"({capex:,.0f} x {a.operations_share:g} / {HOURS_PER_YEAR:,.0f} h) "
            f"{usd_h(r['owned_operations_per_h'])}; price source: {r['price_source']}, dated "
            f"{r['price_date']}"
            + (f"; estimated: {r['price_estimate']}" if r.get("price_estimate") else "")
            + "."
        )
    per_m = r.get(f"usd_per_million{sfx}") if r["option_kind"] == "cloud" else r["usd_per_million"]
    capacity = tput if goodput is None else goodput
    if goodput is None:
        lines.append(
            f"**$ per 1M** = {usd_h(hourly)}/h / ({tput:,.1f}/s x 3600 x utilisation {u:g}) x 1e6 "
            f"= **{usd(per_m)}**{projected(r)}."
        )
    else:
        ratio = r.get("cost_ratio_vs_peak")  # the same at every pricing: the hourly cancels
        lines.append(
            f"**$ per 1M** = {usd_h(hourly)}/h / ({goodput:,.1f} QPS x 3600) x 1e6 = "
            f"**{usd(per_m)}**{projected(r)}, no utilisation guessed"
            + (
                f"; from peak throughput (offline) x utilisation {u:g} it would be "
                f"{usd(per_m / ratio)} (goodput costs {ratio:.2f}x that)"
                if not is_missing(ratio) and ratio > 0
                else ""
            )
            + "."
        )
    n = int(r["instances_needed"])
    peak = a.requests_per_day / SECONDS_PER_DAY * a.peak_to_average
    unit = "/s" if goodput is None else " QPS goodput"
    lines.append(
        f"**Instances** = ceil({a.requests_per_day:,.0f}/day / {SECONDS_PER_DAY:,.0f} s x peak "
        f"{a.peak_to_average:g} = {peak:,.1f}/s ÷ {capacity:,.1f}{unit}) = **{n}** (at least one; the "
        f"fleet is {r['fleet_utilisation']:.1%} busy on average). **Monthly** = {n} x "
        f"{usd_h(hourly)}/h x {HOURS_PER_MONTH:g} h = **{usd(n * hourly * HOURS_PER_MONTH)}**."
    )
    if r["option_kind"] == "owned":
        months = r.get(f"breakeven_months{sfx}")
        if not is_missing(months) and r.get("breakeven_vs"):
            lines.append(
                f"**Break-even** vs {r['breakeven_vs']} (the chosen instance cheapest to rent "
                f"on-demand) at {pricing_text(pricing)} prices = purchase {usd(r['capex_usd'])} / "
                f"(cloud {usd(cloud_monthly)}/month - owned running "
                f"{usd(r['owned_running_monthly_usd'])}/month) = **{format_months(months)}**; "
                "every other chosen instance is in the break-even table above."
            )
    if not is_missing(r.get("energy_kwh_per_million")):
        lines.append(
            f"**Energy** {r['energy_kwh_per_million'] * 1000:,.1f} Wh per 1M ({r['energy_source']}); "
            f"**CO₂** x {r['carbon_g_per_kwh']:g} g/kWh ({r['country']}) = "
            f"{r['carbon_kg_per_million'] * 1000:,.1f} g per 1M."
        )
    if r.get("note"):
        lines.append(f"Note: {r['note']}.")
    return "\n\n".join(lines)


def row_stories(
    table: pd.DataFrame, variant: str, pricing: str, a: CostAssumptions
) -> list[tuple[str, str]]:
    """(title, story) for each of the variant's rows: "g6.xlarge: $0.41 per 1M (projected)" and
    the markdown of ``row_story``, with the monthly cloud bill break-even is measured against."""
    sfx = SUFFIX[pricing]
    rows = table[table["variant"] == variant]
    out = []
    for _, r in rows.iterrows():
        per_m = r.get(f"usd_per_million{sfx}")
        title = (
            f"{r['option']}: {usd(per_m)} per 1M ({r['throughput_source']})"
            if not is_missing(per_m)
            else f"{r['option']}: not costed"
        )
        vs = rows[rows["option"] == r.get("breakeven_vs")]
        cloud_monthly = (
            vs.iloc[0][f"monthly_usd{sfx}"] if r.get("breakeven_vs") and len(vs) else None
        )
        out.append((title, row_story(r, pricing, a, cloud_monthly)))
    return out


def breakeven_grid(table: pd.DataFrame, variant: str, owned: str) -> tuple[pd.DataFrame, str]:
    """When buying ``owned`` pays back against every chosen cloud option, at every pricing: the
    grid (cloud option x pricing, "12.5 months" / "never") and the formula it comes from.

    An empty grid when there is no cloud option to compare with."""
    be = breakeven_table(table, variant, owned)
    if be.empty:
        return pd.DataFrame(), ""
    o = be.iloc[0]
    grid = be.pivot_table(
        index="cloud_option", columns="pricing", values="breakeven", aggfunc="first"
    )
    grid = grid.reindex(columns=[p for p in PRICINGS if p in grid.columns]).fillna(MISSING)
    grid.columns = [PRICING_LABEL[c] for c in grid.columns]
    caption = (
        f"Break-even months = purchase {usd(o['owned_capex_usd'])} ÷ (cloud monthly − owned "
        f"running {usd(o['owned_running_monthly_usd'])}/month), for the same volume; never = "
        "renting costs no more than running the hardware you bought."
    )
    return grid.rename_axis("Against renting"), caption


def cumulative_caption(pricing: str) -> str:
    return (
        f"Owned: purchase + running cost; cloud at {pricing_text(pricing)} prices. "
        "Diamonds mark the month buying pays back."
    )


def sensitivity_caption(variant: str, a: CostAssumptions) -> str:
    return (
        f"Sensitivity for {variant}, on-demand prices; the other assumption held at its value "
        f"(utilisation {a.utilisation:g}, {a.requests_per_day:,.0f} requests/day). "
        "Dotted: projected."
    )

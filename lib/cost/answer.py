"""The Cost page's answer: which runs and hardware to cost, the variant to show first, and the
one sentence a product manager reads ("int8 costs $0.41 per 1M requests on ..., and an L4 bought
for ... pays back in ...").

Plain functions over the cost table (``lib.cost.table.cost_table``); the page only draws them.
"""

from __future__ import annotations

import math

import pandas as pd

from lib.cost.catalog import Catalog
from lib.cost.formulas import PRICINGS
from lib.cost.hardware import hardware_options
from lib.cost.scenarios import breakeven_table
from lib.format import fmt_usd, format_months, is_missing
from lib.schema import Status

# Preselected for a first-time user: a T4 and a CPU instance to rent, the L4 to rent and to buy.
DEFAULT_OPTIONS = ("g4dn.xlarge", "c7i.2xlarge", "g6.xlarge", "L4 (owned)")
PRICING_LABEL = {
    "on_demand": "On-demand",
    "commit_1y": "1-year commitment",
    "commit_3y": "3-year commitment",
    "spot": "Spot",
}
SHORT_PRICING = {
    "on_demand": "On-demand",
    "commit_1y": "1-year",
    "commit_3y": "3-year",
    "spot": "Spot",
}
# The cost table's column suffix for each pricing: usd_per_million, usd_per_million_commit_1y...
SUFFIX = {p: "" if p == "on_demand" else f"_{p}" for p in PRICINGS}

usd = fmt_usd  # one money format across Compare, Cost and the report


def pricing_text(pricing: str) -> str:
    """A pricing as it reads in a sentence: "on-demand", "1-year", "3-year", "spot"."""
    return {"on_demand": "on-demand", "commit_1y": "1-year", "commit_3y": "3-year"}.get(
        pricing, pricing
    )


def projected(row: pd.Series) -> str:
    """How a figure was got, for every place it is shown: " (projected)" or " (measured)"."""
    source = row.get("throughput_source")
    return f" ({source})" if source in ("projected", "measured") else ""


# ------------------------------------------------------------------ what to cost
def runs_in_order(runs: list[dict]) -> list[dict]:
    """Stored runs for the picker: finished ones first (newest first), then the rest."""
    done = [r for r in runs if r["status"] == Status.DONE]
    return done + [r for r in runs if r["status"] != Status.DONE]


def machine(run: dict) -> str:
    """Where a run measured: a sweep node's machine kind, else its GPU, else its CPU model
    and thread count."""
    env = run.get("environment") or {}
    cluster = env.get("cluster")
    if isinstance(cluster, dict) and cluster.get("target"):
        return f"{cluster['target']} node"
    if str(env.get("device") or "cpu") != "cpu":
        return str(env.get("gpu_name") or run.get("hardware") or "gpu")
    return f"{env.get('cpu_model') or run.get('hardware') or 'cpu'} x{env.get('threads')}"


def elsewhere(run: dict, others: list[dict]) -> list[str]:
    """Newest done run of the same model on each other machine: measured there, not projected."""
    model = ((run.get("spec") or {}).get("model") or {}).get("source")
    seen, out = {machine(run)}, []
    for r in others:  # newest first
        same_model = ((r.get("spec") or {}).get("model") or {}).get("source") == model
        if r["status"] == Status.DONE and same_model and machine(r) not in seen:
            seen.add(machine(r))
            out.append(r["id"])
    return out


def has_results(doc: dict) -> bool:
    """True when a run document holds at least one measured variant."""
    return any(r.get("status", Status.OK) == Status.OK for r in doc.get("results") or [])


def option_names(catalog: Catalog) -> list[str]:
    return [o.name for o in hardware_options(catalog)]


def default_options(names: list[str], chosen: list[str] | None = None) -> list[str]:
    """The options to preselect: the user's earlier choice (those still in the catalogue), else
    ``DEFAULT_OPTIONS``, else the first three."""
    if chosen is not None:
        return [o for o in chosen if o in names]
    return [o for o in DEFAULT_OPTIONS if o in names] or names[:3]


def describe_options(catalog: Catalog) -> dict[str, str]:
    """Option name -> a short label for the picker: provider, accelerator or vCPUs, price."""
    out = {}
    for o in hardware_options(catalog):
        if o.kind == "cloud":
            what = (
                f"{o.accelerator_count} x {o.accelerator_model}"
                if o.accelerator_count > 1
                else (o.accelerator_model or f"{o.vcpus:g} vCPU")
            )
            out[o.name] = f"{o.name} · {o.provider} · {what} · {usd(o.hourly['on_demand'])}/h"
        else:
            out[o.name] = f"{o.name} · buy for {usd(o.capex_usd)}"
    return out


def only_options(catalog: Catalog, options: list[str]) -> Catalog:
    """The catalogue cut to the chosen options (and the server chassis their cards sit in).

    Cheaper to cost, and break-even is then against the cloud options the user chose."""
    hw = catalog.hardware
    owned = {o.removesuffix(" (owned)") for o in options if o.endswith(" (owned)")}
    chosen = hw["name"].isin(owned)
    hosts = set(hw.loc[chosen, "host"]) - {""}
    return Catalog(
        cloud=catalog.cloud[catalog.cloud["instance"].isin(options)].reset_index(drop=True),
        hardware=hw[chosen | hw["name"].isin(hosts)].reset_index(drop=True),
        peaks=catalog.peaks,
    )


def split_owned(table: pd.DataFrame, options: list[str]) -> tuple[list[str], list[str]]:
    """The chosen options as (hardware to buy, cloud instances), in the order chosen."""
    owned_names = set(table.loc[table["option_kind"] == "owned", "option"])
    return [o for o in options if o in owned_names], [o for o in options if o not in owned_names]


def variants(table: pd.DataFrame) -> list[str]:
    """The table's variants, in run order."""
    return list(dict.fromkeys(table["variant"]))


# ------------------------------------------------------------------ the answer
def default_variant(table: pd.DataFrame, pricing: str) -> str:
    """The cheapest variant (on any chosen option) within 1 point of the best accuracy."""
    col = f"usd_per_million{SUFFIX[pricing]}"
    costed = table.dropna(subset=[col])
    if costed.empty:
        return str(table["variant"].iloc[0])
    acc = costed.groupby("variant", sort=False)["accuracy"].max()
    good = acc[acc >= acc.max() - 0.01].index if acc.notna().any() else acc.index
    cheapest = costed[costed["variant"].isin(good)].groupby("variant", sort=False)[col].min()
    return str(cheapest.idxmin())


def answer(
    table: pd.DataFrame, variant: str, pricing: str, options: list[str], requests_per_day: float
) -> str:
    """One sentence for a product manager: the variant's $ per 1M on each chosen option and
    when buying pays back."""
    sfx = SUFFIX[pricing]
    col = f"usd_per_million{sfx}"
    rows = table[table["variant"] == variant].drop_duplicates("option").set_index("option")
    order = [o for o in options if o in rows.index] or list(rows.index)
    costed = [o for o in order if not is_missing(rows.loc[o, col])]
    if not costed:
        return f"None of the chosen hardware could cost **{variant}** at {pricing_text(pricing)} prices."
    cloud = [o for o in costed if rows.loc[o, "option_kind"] == "cloud"]
    owned = [o for o in costed if rows.loc[o, "option_kind"] == "owned"]
    prices = [f"{usd(rows.loc[o, col])} on {o}{projected(rows.loc[o])}" for o in cloud]
    text = f"**{variant}** costs "
    if prices:
        text += prices[0].replace(" on ", " per 1M requests on ", 1)
        if len(prices) > 1:
            text += " vs " + _join(prices[1:])
    for o in owned[:1]:
        r = rows.loc[o]
        n = int(r["instances_needed"]) if not is_missing(r["instances_needed"]) else 1
        unit = r["capex_usd"] / n
        name = o.removesuffix(" (owned)")
        bought = (
            f"{'an' if name[:1].upper() in 'AEFHILMNORSX' else 'a'} {name} bought for {usd(unit)}"
        )
        if n > 1:
            bought = f"{n} x {name} bought for {usd(unit)} each"
        if "+ 1/" in str(r.get("price_source", "")):
            bought += " (with its share of a server)"
        own = f"{bought} costs {usd(r[col])} per 1M{projected(r)}"
        if not prices:
            text = f"**{variant}**: {own}"
            continue
        months, vs = r.get(f"breakeven_months{sfx}"), r.get("breakeven_vs")
        if is_missing(months) or not vs:
            text += f"; {own}"
        elif math.isinf(months):
            text += f"; {own} and never pays back against {vs}, the cheapest to rent"
            later = _soonest_payback(table, variant, o, pricing)
            if later:
                text += f" (it pays back in {later[1]} against {later[0]})"
        else:
            text += f"; {own} and pays back in {format_months(months)} against {vs}"
    volume = f"{requests_per_day:,.0f} requests/day"
    return text + f" — {pricing_text(pricing)} prices, {volume}."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _soonest_payback(
    table: pd.DataFrame, variant: str, owned: str, pricing: str
) -> tuple[str, str] | None:
    be = breakeven_table(table, variant, owned)
    if be.empty:
        return None
    be = be[(be["pricing"] == pricing) & be["breakeven_months"].map(math.isfinite)]
    if be.empty:
        return None
    best = be.loc[be["breakeven_months"].idxmin()]
    return str(best["cloud_option"]), format_months(best["breakeven_months"])


def priced(table: pd.DataFrame, pricing: str) -> pd.DataFrame:
    """The table with cloud rows' on-demand columns replaced by ``pricing`` (owned rows as is),
    so the cumulative chart and break-even follow the pricing selector."""
    if pricing == "on_demand":
        return table
    out = table.copy()
    cloud = out["option_kind"] == "cloud"
    for base in ("hourly_usd", "usd_per_million", "monthly_usd"):
        out.loc[cloud, base] = out.loc[cloud, f"{base}{SUFFIX[pricing]}"]
    return out


def chart_months(amortisation_years: float) -> int:
    """How far the cumulative cost chart reaches: five years, or the amortisation if longer."""
    return int(max(60, math.ceil(amortisation_years * 12)))

"""Cost: what each variant costs per 1M requests on cloud instances and on hardware you buy.

A thin page: it gathers the input (a stored run or an uploaded results.json, the assumptions, the
price catalogue with the user's edits), calls ``lib.cost.model`` / ``lib.cost.charts`` and draws the
answer. Every number on it can be traced to its inputs: the table carries them, and each row's
story (one click away) fills the formulas in with the values used.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run pages/cost.py` on its own
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from lib.cost.catalog import (  # noqa: E402
    Catalog,
    catalog_date_range,
    load_catalog,
    load_user_catalog,
    staleness_warning,
)
from lib.cost.model import (  # noqa: E402
    HOURS_PER_MONTH,
    HOURS_PER_YEAR,
    PRICINGS,
    SECONDS_PER_DAY,
    CostAssumptions,
    breakeven_table,
    cost_table,
    countries,
    format_months,
    hardware_options,
    sensitivity_table,
)
from lib.errors import UserError  # noqa: E402
from lib.format import fmt_usd  # noqa: E402
from pages._common import get_store, guarded, run_label  # noqa: E402

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
SUFFIX = {p: "" if p == "on_demand" else f"_{p}" for p in PRICINGS}
EMPTY_MESSAGE = (
    "No benchmark runs yet. Run a benchmark first (the Run page, or `python -m lib run`), then "
    "come back to see what each variant costs, or upload a results.json written by the CLI below."
)
DEMO_PAGE = ROOT / "pages" / "demo.py"


# ------------------------------------------------------------------ formatting (plain Python)
usd = fmt_usd  # one money format across Compare, Cost and the report


def usd_h(x: float | None) -> str:
    """An hourly rate: four decimals, so the $ per 1M can be recomputed from it."""
    return "–" if _isnan(x) else f"${x:,.4f}"


def _isnan(x: object) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def projected(row: pd.Series) -> str:
    """How a figure was got, for every place it is shown: " (projected)" or " (measured)"."""
    source = row.get("throughput_source")
    return f" ({source})" if source in ("projected", "measured") else ""


# ------------------------------------------------------------------ the catalogue (plain Python)
def option_names(catalog: Catalog) -> list[str]:
    return [o.name for o in hardware_options(catalog)]


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


# ------------------------------------------------------------------ the answer (plain Python)
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
    costed = [o for o in order if not _isnan(rows.loc[o, col])]
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
        n = int(r["instances_needed"]) if not _isnan(r["instances_needed"]) else 1
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
        if _isnan(months) or not vs:
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


def pricing_text(pricing: str) -> str:
    return {"on_demand": "on-demand", "commit_1y": "1-year", "commit_3y": "3-year"}.get(
        pricing, pricing
    )


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


def machine(run: dict) -> str:
    """Where a run measured: its GPU, else its CPU model and thread count."""
    env = run.get("environment") or {}
    if str(env.get("device") or "cpu") != "cpu":
        return str(env.get("gpu_name") or run.get("hardware") or "gpu")
    return f"{env.get('cpu_model') or run.get('hardware') or 'cpu'} x{env.get('threads')}"


def elsewhere(run: dict, others: list[dict]) -> list[str]:
    """Newest done run of the same model on each other machine: measured there, not projected."""
    model = ((run.get("spec") or {}).get("model") or {}).get("source")
    seen, out = {machine(run)}, []
    for r in others:  # newest first
        same_model = ((r.get("spec") or {}).get("model") or {}).get("source") == model
        if r["status"] == "done" and same_model and machine(r) not in seen:
            seen.add(machine(r))
            out.append(r["id"])
    return out


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


def display_table(table: pd.DataFrame, pricing: str) -> pd.DataFrame:
    """The cost table for people: units in the headers, every row's inputs beside its result."""
    sfx = SUFFIX[pricing]
    rows = []
    for _, r in table.iterrows():
        owned = r["option_kind"] == "owned"
        months = r.get(f"breakeven_months{sfx}")
        breakeven = (
            f"{format_months(months)} vs {r['breakeven_vs']}"
            if owned and not _isnan(months) and r.get("breakeven_vs")
            else ""
        )
        all_prices = (
            " / ".join(
                usd(r.get(f"usd_per_million{SUFFIX[p]}"))
                if not _isnan(r.get(f"usd_per_million{SUFFIX[p]}"))
                else "–"
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
                "Monthly $": r.get(f"monthly_usd{sfx}"),
                "Instances": r.get("instances_needed"),
                "Break-even": breakeven,
                "Throughput (inf/s)": r.get("throughput_per_s"),
                "Batch": r.get("batch_size"),
                "$ per hour": r.get(f"hourly_usd{sfx}"),
                "Purchase $": r.get("capex_usd") if owned else None,
                "Accuracy (%)": r["accuracy"] * 100 if not _isnan(r["accuracy"]) else None,
                "Energy (Wh per 1M)": energy * 1000 if not _isnan(energy) else None,
                "CO₂ (g per 1M)": r["carbon_kg_per_million"] * 1000
                if not _isnan(r.get("carbon_kg_per_million"))
                else None,
                "Energy source": str(r.get("energy_source") or "").split(":")[0],
                "$ per 1M: on-demand / 1y / 3y / spot": all_prices,
                "Throughput assumptions": r.get("throughput_assumptions") or r.get("note") or "",
                "Price source": r["price_source"],
                "Price date": r["price_date"],
                "Price estimates": r.get("price_estimate") or "",
                "Note": r.get("note") or "",
            }
        )
    out = pd.DataFrame(rows)
    for col in ("Purchase $", "Accuracy (%)", "Energy (Wh per 1M)", "CO₂ (g per 1M)"):
        out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def row_story(
    r: pd.Series, pricing: str, a: CostAssumptions, cloud_monthly: float | None = None
) -> str:
    """Markdown that fills each formula in with the values this row used."""
    sfx = SUFFIX[pricing]
    if r["throughput_source"] == "unavailable":
        return f"Not costed: {r['note']}"
    tput, u = r["throughput_per_s"], a.utilisation
    lines = [
        f"**Throughput** {tput:,.1f} inferences/s at batch {r['batch_size']}, "
        f"**{r['throughput_source']}**: {r['throughput_assumptions']}."
    ]
    if r["option_kind"] == "cloud":
        hourly = r.get(f"hourly_usd{sfx}")
        if _isnan(hourly):
            return "\n\n".join(lines + [f"No {pricing_text(pricing)} price for this instance."])
        others = ", ".join(
            f"{pricing_text(p)} {usd_h(r[f'hourly_usd{SUFFIX[p]}'])}/h"
            for p in PRICINGS
            if p != pricing and not _isnan(r.get(f"hourly_usd{SUFFIX[p]}"))
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
    lines.append(
        f"**$ per 1M** = {usd_h(hourly)}/h / ({tput:,.1f}/s x 3600 x utilisation {u:g}) x 1e6 "
        f"= **{usd(per_m)}**{projected(r)}."
    )
    n = int(r["instances_needed"])
    peak = a.requests_per_day / SECONDS_PER_DAY * a.peak_to_average
    lines.append(
        f"**Instances** = ceil({a.requests_per_day:,.0f}/day / {SECONDS_PER_DAY:,.0f} s x peak "
        f"{a.peak_to_average:g} = {peak:,.1f}/s ÷ {tput:,.1f}/s) = **{n}** (at least one; the "
        f"fleet is {r['fleet_utilisation']:.1%} busy on average). **Monthly** = {n} x "
        f"{usd_h(hourly)}/h x {HOURS_PER_MONTH:g} h = **{usd(n * hourly * HOURS_PER_MONTH)}**."
    )
    if r["option_kind"] == "owned":
        months = r.get(f"breakeven_months{sfx}")
        if not _isnan(months) and r.get("breakeven_vs"):
            lines.append(
                f"**Break-even** vs {r['breakeven_vs']} (the chosen instance cheapest to rent "
                f"on-demand) at {pricing_text(pricing)} prices = purchase {usd(r['capex_usd'])} / "
                f"(cloud {usd(cloud_monthly)}/month - owned running "
                f"{usd(r['owned_running_monthly_usd'])}/month) = **{format_months(months)}**; "
                "every other chosen instance is in the break-even table above."
            )
    if not _isnan(r.get("energy_kwh_per_million")):
        lines.append(
            f"**Energy** {r['energy_kwh_per_million'] * 1000:,.1f} Wh per 1M ({r['energy_source']}); "
            f"**CO₂** x {r['carbon_g_per_kwh']:g} g/kWh ({r['country']}) = "
            f"{r['carbon_kg_per_million'] * 1000:,.1f} g per 1M."
        )
    if r.get("note"):
        lines.append(f"Note: {r['note']}.")
    return "\n\n".join(lines)


# ------------------------------------------------------------------ cached computation
@st.cache_data(show_spinner=False)
def _builtin_catalog() -> Catalog:
    return load_catalog()


@st.cache_data(show_spinner="Costing every variant on every option…", max_entries=32)
def _cost(docs_json: str, parts: tuple[pd.DataFrame, ...], assumptions: dict) -> pd.DataFrame:
    return cost_table(json.loads(docs_json), Catalog(*parts), CostAssumptions(**assumptions))


@st.cache_data(show_spinner="Recomputing over utilisation and volume…", max_entries=32)
def _sensitivity(
    docs_json: str,
    parts: tuple[pd.DataFrame, ...],
    assumptions: dict,
    variant: str,
    options: tuple[str, ...],
) -> pd.DataFrame:
    return sensitivity_table(
        json.loads(docs_json),
        Catalog(*parts),
        CostAssumptions(**assumptions),
        variant=variant,
        options=list(options),
    )


# ------------------------------------------------------------------ page sections
def _assumptions() -> CostAssumptions:
    """The sidebar form; a UserError says which value is wrong."""
    d = CostAssumptions()
    defaults = {
        "cost_rpd": float(d.requests_per_day),
        "cost_peak": d.peak_to_average,
        "cost_latency": d.latency_target_ms or 0.0,
        "cost_utilisation": d.utilisation,
        "cost_years": d.amortisation_years,
        "cost_financing": d.financing_rate,
        "cost_pue": d.pue,
        "cost_cloud_pue": d.cloud_pue,
        "cost_kwh": d.electricity_usd_per_kwh,
        "cost_colo": d.colocation_usd_per_kw_month,
        "cost_ops": d.operations_share,
        "cost_country": d.country,
    }
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
    codes = dict(countries())
    with st.sidebar.form("cost_assumptions"):
        st.markdown("**Assumptions**")
        st.number_input(
            "Requests per day", min_value=0.0, step=100_000.0, format="%.0f", key="cost_rpd"
        )
        st.number_input(
            "Peak-to-average ratio",
            step=0.5,
            key="cost_peak",
            help="Busiest hour ÷ daily average: instances are sized for the peak.",
        )
        st.number_input(
            "Latency target (ms per batch)",
            min_value=0.0,
            step=10.0,
            key="cost_latency",
            help="The largest batch that meets it sets the throughput. 0 = no target.",
        )
        st.number_input(
            "Utilisation (0-1)",
            min_value=0.0,
            max_value=1.0,
            step=0.05,
            key="cost_utilisation",
            help="Share of a machine's throughput used on average; 0.5 = busy half the time.",
        )
        st.markdown("**Owning hardware**")
        st.number_input("Amortisation (years)", step=0.5, key="cost_years")
        st.number_input(
            "Financing rate (per year, 0-1)",
            step=0.01,
            format="%.3f",
            key="cost_financing",
            help="0 = bought with cash; 0.07 = a 7% loan paid monthly over the amortisation.",
        )
        st.number_input("PUE (owned)", step=0.05, key="cost_pue", help="Uptime 2023 average 1.58")
        st.number_input("PUE (cloud)", step=0.05, key="cost_cloud_pue")
        st.number_input(
            "Electricity ($ per kWh)", min_value=0.0, step=0.01, format="%.3f", key="cost_kwh"
        )
        st.number_input(
            "Colocation ($ per kW per month)",
            min_value=0.0,
            step=10.0,
            key="cost_colo",
            help="Billed on the hardware's maximum power.",
        )
        st.number_input(
            "Operations (share of capex per year)",
            min_value=0.0,
            step=0.01,
            key="cost_ops",
            help="Support, spares and staff; 0.10 = 10% of the purchase price a year.",
        )
        st.selectbox(
            "Country (carbon intensity)",
            list(codes),
            format_func=lambda c: f"{codes[c]} ({c})",
            key="cost_country",
        )
        st.form_submit_button("Apply", type="primary", width="stretch")
    s = st.session_state
    return CostAssumptions(
        utilisation=s["cost_utilisation"],
        requests_per_day=s["cost_rpd"],
        peak_to_average=s["cost_peak"],
        latency_target_ms=s["cost_latency"] or None,
        amortisation_years=s["cost_years"],
        financing_rate=s["cost_financing"],
        pue=s["cost_pue"],
        cloud_pue=s["cost_cloud_pue"],
        electricity_usd_per_kwh=s["cost_kwh"],
        colocation_usd_per_kw_month=s["cost_colo"],
        operations_share=s["cost_ops"],
        country=s["cost_country"],
    )


def _empty_state() -> None:
    st.info(EMPTY_MESSAGE, icon=":material/info:")
    if DEMO_PAGE.exists():
        try:
            st.page_link(str(DEMO_PAGE.relative_to(ROOT)), label="Load the demo data")
        except Exception:  # noqa: BLE001 - the page is not registered when run on its own
            st.caption("Or load the demo data from the Demo page.")


def _results_docs() -> list[dict] | None:
    """The results to cost: stored runs (one, plus others measured elsewhere) or an upload."""
    store = get_store()
    runs = store.list_runs(limit=200)
    if runs:
        source = st.radio(
            "Results from",
            ["store", "upload"],
            format_func={"store": "a stored run", "upload": "a results.json file"}.get,
            horizontal=True,
            key="cost_source",
        )
    else:
        source = "upload"
        _empty_state()
    if source == "upload":
        up = st.file_uploader(
            "results.json written by `python -m lib run`", type=["json"], key="cost_results_file"
        )
        if up is None:
            return None
        try:
            doc = json.loads(up.getvalue())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{up.name}: not valid JSON ({exc}).") from None
        return doc if isinstance(doc, list) else [doc]

    ordered = [r for r in runs if r["status"] == "done"] + [
        r for r in runs if r["status"] != "done"
    ]
    by_id = {r["id"]: r for r in ordered}
    if st.session_state.get("cost_run") not in by_id:
        st.session_state["cost_run"] = ordered[0]["id"]
    left, right = st.columns([1, 1])
    run_id = left.selectbox(
        "Run", list(by_id), format_func=lambda i: run_label(by_id[i]), key="cost_run"
    )
    run = by_id[run_id]
    others = [r for r in ordered if r["id"] != run_id and r["status"] == "done"]
    extra_default = elsewhere(run, others)
    extra_ids: list[str] = []
    if others:
        key = f"cost_extra_{run_id}"
        if key not in st.session_state:
            st.session_state[key] = extra_default
        extra_ids = right.multiselect(
            "Also count measurements from",
            [r["id"] for r in others],
            format_func=lambda i: run_label(by_id[i]),
            key=key,
            help="A run of the same variants on a GPU server or cloud instance makes that "
            "hardware 'measured' instead of projected. Preselected: the newest run of the same "
            "model on each other machine.",
        )
    docs = [store.run_document(i) for i in [run_id, *extra_ids]]
    if not any(r.get("status", "ok") == "ok" for r in docs[0]["results"]):
        st.warning(
            f"This run has no successful results to cost ({run['status']}). Pick another run.",
            icon=":material/warning:",
        )
        return None
    return docs


def _editor_config(kind: str) -> dict:
    if kind == "cloud":
        return {
            "on_demand_usd_per_hour": st.column_config.NumberColumn(
                "on_demand_usd_per_hour", format="$%.4f", help="$ per hour, on-demand"
            ),
            "price_date": st.column_config.DateColumn("price_date", format="YYYY-MM-DD"),
        }
    return {
        "purchase_usd": st.column_config.NumberColumn("purchase_usd", format="$%.0f"),
        "price_date": st.column_config.DateColumn("price_date", format="YYYY-MM-DD"),
    }


def _catalogue(box) -> Catalog:
    """The catalogue in effect: built-in, or the user's upload, plus their edits (session)."""
    s = st.session_state
    catalog: Catalog = s.get("cost_catalog") or _builtin_catalog()
    version = s.get("cost_catalog_v", 0)

    def commit(new: Catalog) -> None:
        s["cost_catalog"], s["cost_catalog_v"] = new, version + 1

    # A label that stays the same when rows change, so the expander stays open while editing.
    with box.expander(
        "Price catalogue: edit a price, add your own instance or hardware, or upload a file",
        icon=":material/sell:",
    ):
        st.caption(
            "Edit a cell, or add a row at the bottom for your own instance or hardware (same "
            "name replaces). Edits and uploads last for this browser session; the files in "
            "data/ stay as they are. Columns are described in docs/cost.md."
        )
        t_cloud, t_hw, t_peaks, t_up = st.tabs(
            ["Cloud instances", "Hardware you buy", "Accelerator peaks", "Upload a catalogue"]
        )
        with t_up:
            up = st.file_uploader(
                "A catalogue CSV (cloud instances, hardware or peaks: detected from its columns)",
                type=["csv"],
                key="cost_catalog_file",
            )
            if up is not None:
                digest = hashlib.sha256(up.getvalue()).hexdigest()
                if digest != s.get("cost_catalog_upload"):
                    try:
                        new = load_user_catalog(up.getvalue(), catalog, name=up.name)
                    except UserError as exc:
                        st.error(str(exc), icon=":material/warning:")
                    else:
                        s["cost_catalog_upload"] = digest
                        commit(new)
                        st.rerun()
                else:
                    st.success(f"Using {up.name}.", icon=":material/check:")
            if st.button("Back to the built-in catalogue", key="cost_catalog_reset"):
                for k in ("cost_catalog", "cost_catalog_upload"):
                    s.pop(k, None)
                s["cost_catalog_v"] = version + 1
                st.rerun()
        for tab, kind, label in (
            (t_cloud, "cloud", "Edited cloud instances"),
            (t_hw, "hardware", "Edited hardware"),
        ):
            with tab:
                key = f"cost_edit_{kind}_{version}"
                edited = st.data_editor(
                    getattr(catalog, kind),
                    key=key,
                    num_rows="dynamic",
                    hide_index=True,
                    width="stretch",
                    height=280,
                    column_config=_editor_config(kind),
                )
                delta = s.get(key) or {}
                if any(delta.get(k) for k in ("edited_rows", "added_rows", "deleted_rows")):
                    raw = edited.to_csv(index=False).encode()
                    try:
                        new = load_user_catalog(raw, catalog, name=label)
                    except UserError as exc:
                        st.error(
                            f"{exc} The costs use the catalogue before this edit.",
                            icon=":material/warning:",
                        )
                    else:
                        commit(new)
                        st.rerun()
        with t_peaks:
            st.dataframe(catalog.peaks, hide_index=True, width="stretch", height=280)
            st.caption("Peaks are replaced by uploading a hardware_peaks.csv.")
    return catalog


def _pick_options(catalog: Catalog, box) -> list[str]:
    names = option_names(catalog)
    labels = describe_options(catalog)
    key = "cost_options"
    if key in st.session_state:
        st.session_state[key] = [o for o in st.session_state[key] if o in names]
    else:
        st.session_state[key] = [o for o in DEFAULT_OPTIONS if o in names] or names[:3]
    return box.multiselect(
        "Hardware to compare",
        names,
        format_func=lambda o: labels.get(o, o),
        key=key,
        help="Cloud instances (rented by the hour) and hardware you buy (card + its share of a "
        "server). Break-even is against the cheapest chosen cloud option.",
    )


def _breakeven(table: pd.DataFrame, variant: str, owned: str) -> None:
    """When buying pays back against every chosen cloud option, at every pricing."""
    be = breakeven_table(table, variant, owned)
    if be.empty:
        return
    o = be.iloc[0]
    st.markdown(f"**When {owned.removesuffix(' (owned)')} pays back** ({variant})")
    grid = be.pivot_table(
        index="cloud_option", columns="pricing", values="breakeven", aggfunc="first"
    )
    grid = grid.reindex(columns=[p for p in PRICINGS if p in grid.columns]).fillna("–")
    grid.columns = [PRICING_LABEL[c] for c in grid.columns]
    st.dataframe(grid.rename_axis("Against renting"), width="stretch")
    st.caption(
        f"Break-even months = purchase {usd(o['owned_capex_usd'])} ÷ (cloud monthly − owned "
        f"running {usd(o['owned_running_monthly_usd'])}/month), for the same volume; never = "
        "renting costs no more than running the hardware you bought."
    )


def _chart(fig, key: str) -> None:
    guarded(lambda: st.plotly_chart(fig, width="stretch", key=key))


def main() -> None:
    from lib.cost import charts as cost_charts

    st.title("What it costs")
    st.caption(
        "Measured throughput turned into $ per 1M requests, the monthly bill for your volume, and "
        "when buying hardware pays back. Projected = no run on that hardware yet: estimated from "
        "this machine's measurement (open a row below to see how)."
    )
    try:
        a = _assumptions()
    except UserError as exc:
        st.error(f"{exc} Fix it in the sidebar.", icon=":material/warning:")
        return
    docs = _results_docs()
    answer_box = st.container()
    warn_box = st.container()
    controls = st.container()
    results_box = st.container()
    catalogue_box = st.container()
    catalog = _catalogue(catalogue_box)
    oldest, newest = catalog_date_range(catalog)
    changed = (
        " (uploaded and/or edited in this session)" if "cost_catalog" in st.session_state else ""
    )
    stale = staleness_warning(catalog, date.today())
    if stale:
        warn_box.warning(stale, icon=":material/history:")
    warn_box.caption(
        f"Prices: {len(catalog.cloud)} cloud instances and {len(catalog.hardware)} hardware items, "
        f"dated {oldest:%Y-%m-%d} to {newest:%Y-%m-%d}{changed}; sources and dates in the "
        "catalogue at the bottom of the page and in each row below."
    )
    if docs is None:
        return

    with controls:
        c1, c2, c3, c4 = st.columns([2.6, 1, 1.3, 2.5])
        options = _pick_options(catalog, c1)
        if not options:
            st.info("Pick at least one hardware option to cost.", icon=":material/info:")
            return
        docs_json = json.dumps(docs, sort_keys=True, default=str)
        cut = only_options(catalog, options)
        parts = (cut.cloud, cut.hardware, cut.peaks)
        table = _cost(docs_json, parts, a.to_dict())
        with c4:
            pricing = st.segmented_control(
                "Cloud pricing",
                list(PRICINGS),
                format_func=SHORT_PRICING.get,
                default="on_demand",
                required=True,
                key="cost_pricing",
                help="On-demand, 1- or 3-year commitment, or spot (interruptible) prices.",
            )
        pricing = pricing or "on_demand"
        variants = list(dict.fromkeys(table["variant"]))
        if st.session_state.get("cost_variant") not in variants:
            st.session_state["cost_variant"] = default_variant(table, pricing)
        variant = c2.selectbox(
            "Variant",
            variants,
            key="cost_variant",
            help="Preselected: the cheapest variant within 1 point of the best accuracy.",
        )
        owned_names = set(table.loc[table["option_kind"] == "owned", "option"])
        owned = [o for o in options if o in owned_names]
        clouds = [o for o in options if o not in owned_names]
        pick = (
            c3.selectbox("Hardware to buy", owned, key="cost_owned", help="For the break-even.")
            if owned
            else None
        )

    answer_box.markdown(
        "##### " + answer(table, variant, pricing, options, a.requests_per_day),
    )
    with results_box:
        left, right = st.columns(2, gap="medium")
        with left:
            _chart(cost_charts.cost_per_million_chart(table, pricing), "cost_bars")
        with right:
            if pick and clouds:
                months = int(max(60, math.ceil(a.amortisation_years * 12)))
                fig = cost_charts.cumulative_cost_chart(
                    priced(table, pricing), variant, pick, clouds, months
                )
                for t in fig.data:  # short labels ending at their diamond: they don't overlap
                    if t.mode == "markers+text":
                        t.text, t.textposition, t.cliponaxis = (
                            [f"{t.x[0]:.1f} mo"],
                            "top left",
                            False,
                        )
                _chart(fig, "cost_cumulative")
                st.caption(
                    f"Owned: purchase + running cost; cloud at {pricing_text(pricing)} prices. "
                    "Diamonds mark the month buying pays back."
                )
            else:
                st.info(
                    "Choose at least one cloud instance and one piece of hardware to buy to see "
                    "when buying pays back.",
                    icon=":material/info:",
                )
        left, right = st.columns(2, gap="medium")
        with left:
            _chart(cost_charts.accuracy_cost_chart(table, pricing), "cost_pareto")
        with right:
            if pick and clouds:
                _breakeven(table, variant, pick)
        sens = _sensitivity(docs_json, parts, a.to_dict(), variant, tuple(options))
        _chart(cost_charts.sensitivity_chart(sens), "cost_sensitivity")
        st.caption(
            f"Sensitivity for {variant}, on-demand prices; the other assumption held at its value "
            f"(utilisation {a.utilisation:g}, {a.requests_per_day:,.0f} requests/day). "
            "Dotted: projected."
        )

        st.subheader("Every variant on every chosen option")
        shown = display_table(table, pricing)
        money = st.column_config.NumberColumn
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            column_config={
                "$ per 1M": money(
                    format="$%.4f", help="hourly / (throughput x 3600 x utilisation) x 1e6"
                ),
                "Monthly $": money(format="dollar", help="instances x hourly x 730 h"),
                "$ per hour": money(format="$%.4f"),
                "Purchase $": money(format="dollar"),
                "Throughput (inf/s)": money(format="%.1f"),
                "Accuracy (%)": money(format="%.1f"),
                "Energy (Wh per 1M)": money(format="%.1f"),
                "CO₂ (g per 1M)": money(format="%.1f"),
                "Break-even": st.column_config.TextColumn(
                    width="medium", help="Owned rows: months until buying beats renting"
                ),
                "Throughput assumptions": st.column_config.TextColumn(width="large"),
                "Throughput source": st.column_config.TextColumn(
                    help="measured: a stored run on that hardware; projected: estimated from "
                    "this machine's measurement (see the assumptions column)"
                ),
            },
        )
        st.download_button(
            "Download the full table (CSV, every input column)",
            table.drop(columns=["projection"], errors="ignore").to_csv(index=False),
            file_name="leanbench-cost.csv",
            mime="text/csv",
            icon=":material/download:",
        )
        st.markdown(f"**Where each number for {variant} comes from**")
        for _, r in table[table["variant"] == variant].iterrows():
            per_m = r.get(f"usd_per_million{SUFFIX[pricing]}")
            title = (
                f"{r['option']}: {usd(per_m)} per 1M ({r['throughput_source']})"
                if not _isnan(per_m)
                else f"{r['option']}: not costed"
            )
            vs = table[(table["variant"] == variant) & (table["option"] == r.get("breakeven_vs"))]
            cloud_monthly = (
                vs.iloc[0][f"monthly_usd{SUFFIX[pricing]}"]
                if r.get("breakeven_vs") and len(vs)
                else None
            )
            with st.expander(title):
                st.markdown(row_story(r, pricing, a, cloud_monthly))


guarded(main)

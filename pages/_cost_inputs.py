"""The Cost page's inputs: the assumptions form in the sidebar and the price catalogue editor
(edit a price, add an instance or hardware, upload a catalogue). Widgets only: the values are
checked by ``lib.cost.formulas.CostAssumptions`` and ``lib.cost.catalog.load_user_catalog``.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from lib.cost.catalog import Catalog, load_catalog, load_user_catalog
from lib.cost.formulas import CostAssumptions, countries
from lib.errors import UserError
from lib.format import MISSING

# The sidebar's widget keys and the assumption each one sets.
ASSUMPTION_KEYS = {
    "cost_rpd": "requests_per_day",
    "cost_peak": "peak_to_average",
    "cost_latency": "latency_target_ms",
    "cost_utilisation": "utilisation",
    "cost_years": "amortisation_years",
    "cost_financing": "financing_rate",
    "cost_pue": "pue",
    "cost_cloud_pue": "cloud_pue",
    "cost_kwh": "electricity_usd_per_kwh",
    "cost_colo": "colocation_usd_per_kw_month",
    "cost_ops": "operations_share",
    "cost_country": "country",
}


@st.cache_data(show_spinner=False)
def _builtin_catalog() -> Catalog:
    return load_catalog()


def assumptions_form() -> CostAssumptions:
    """The sidebar form; a UserError says which value is wrong."""
    d = CostAssumptions()
    defaults = {key: getattr(d, name) for key, name in ASSUMPTION_KEYS.items()}
    defaults |= {"cost_rpd": float(d.requests_per_day), "cost_latency": d.latency_target_ms or 0.0}
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
    codes = dict(countries())
    number = st.number_input
    with st.sidebar.form("cost_assumptions"):
        st.markdown("**Assumptions**")
        number("Requests per day", min_value=0.0, step=100_000.0, format="%.0f", key="cost_rpd")
        number(
            "Peak-to-average ratio",
            step=0.5,
            key="cost_peak",
            help="Busiest hour ÷ daily average: instances are sized for the peak.",
        )
        number(
            "Latency target (ms per batch)",
            min_value=0.0,
            step=10.0,
            key="cost_latency",
            help="The largest batch that meets it sets the throughput. 0 = no target.",
        )
        number(
            "Utilisation (0-1)",
            min_value=0.0,
            max_value=1.0,
            step=0.05,
            key="cost_utilisation",
            help="Share of a machine's throughput used on average; 0.5 = busy half the time.",
        )
        st.markdown("**Owning hardware**")
        number("Amortisation (years)", step=0.5, key="cost_years")
        number(
            "Financing rate (per year, 0-1)",
            step=0.01,
            format="%.3f",
            key="cost_financing",
            help="0 = bought with cash; 0.07 = a 7% loan paid monthly over the amortisation.",
        )
        number("PUE (owned)", step=0.05, key="cost_pue", help="Uptime 2023 average 1.58")
        number("PUE (cloud)", step=0.05, key="cost_cloud_pue")
        number("Electricity ($ per kWh)", min_value=0.0, step=0.01, format="%.3f", key="cost_kwh")
        number(
            "Colocation ($ per kW per month)",
            min_value=0.0,
            step=10.0,
            key="cost_colo",
            help="Billed on the hardware's maximum power.",
        )
        number(
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
    values = {name: st.session_state[key] for key, name in ASSUMPTION_KEYS.items()}
    return CostAssumptions(**values | {"latency_target_ms": values["latency_target_ms"] or None})


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


def catalogue_editor(box) -> Catalog:
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
                    placeholder=MISSING,
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
            st.dataframe(
                catalog.peaks, hide_index=True, width="stretch", height=280, placeholder=MISSING
            )
            st.caption("Peaks are replaced by uploading a hardware_peaks.csv.")
    return catalog


def basis_section(table, docs: list[dict]) -> None:
    """What the rows are costed on (goodput at the SLO or peak throughput) and how far apart the
    two come out, the rows not priced and why, and goodput with $ per 1M at the SLO; nothing
    when the cost table does not say. (The table above has each row's basis and ratio.)"""
    from lib.serving import charts, frames

    if not frames.has_basis(table):
        return
    summary = frames.basis_summary(table)
    if summary:
        st.caption(summary)
    lines = frames.not_applicable_lines(table)
    if lines:
        with st.expander(f"{len(lines)} row(s) not priced, and why"):
            st.markdown("\n".join(f"- {line}" for line in lines))
    results = (docs[0].get("results") or []) if docs else []  # the run being costed
    if frames.has_load_test(results):
        fig = charts.goodput_chart(frames.goodput_frame(results), table)
        st.plotly_chart(fig, width="stretch", key="cost_goodput")

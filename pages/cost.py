"""Cost: what each variant costs per 1M requests on cloud instances and on hardware you buy.

A thin page: it gathers the input (a stored run or an uploaded results.json, the assumptions, the
price catalogue with the user's edits), calls ``lib.cost`` (``table``, ``answer``, ``explain``,
``charts``) and draws the answer. Every number on it can be traced to its inputs: the table
carries them, and each row's story (one click away) fills the formulas in with the values used.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import streamlit as st

from lib.access.text import safe_frame
from lib.cost import answer as ans
from lib.cost import explain
from lib.cost.catalog import Catalog, staleness_warning
from lib.cost.formulas import PRICINGS, CostAssumptions
from lib.cost.scenarios import sensitivity_table
from lib.cost.table import cost_table
from lib.errors import UserError
from lib.execution.runs import run_label
from lib.format import MISSING
from pages import _cost_inputs as inputs
from pages._payback import payback_section
from pages._ui import DEMO, focus_run, get_store, guarded, link, set_focus_run

HALF_WIDTH_TITLE = 40  # characters a chart title in half the page holds at 1280 px, sidebar open
EMPTY_MESSAGE = (
    "No benchmark runs yet. Run a benchmark first (the Run page, or `python -m lib run`), then "
    "come back to see what each variant costs, or upload a results.json written by the CLI below."
)


# ------------------------------------------------------------------ cached computation
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
        st.info(EMPTY_MESSAGE, icon=":material/info:")
        link(DEMO, "Load the demo data", fallback="Or load the demo data from the Demo page.")
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

    by_id = {r["id"]: r for r in ans.runs_in_order(runs)}
    focus = focus_run()  # the run looked at last, here or on Demo, Results or Compare
    if focus in by_id:
        st.session_state["cost_run"] = focus
    elif st.session_state.get("cost_run") not in by_id:
        st.session_state["cost_run"] = next(iter(by_id))
    # Full width, one under the other: a run's label (title · status · date · machine · id)
    # is long, and a half-width picker cut it off.
    run_id = st.selectbox(
        "Run",
        list(by_id),
        format_func=lambda i: run_label(by_id[i]),
        key="cost_run",
        on_change=lambda: set_focus_run(st.session_state.get("cost_run")),
    )
    run = by_id[run_id]
    others = [r for r in by_id.values() if r["id"] != run_id and r["status"] == "done"]
    extra_ids: list[str] = []
    if others:
        key = f"cost_extra_{run_id}"
        if key not in st.session_state:
            st.session_state[key] = ans.elsewhere(run, others)
        extra_ids = st.multiselect(
            "Also count measurements from",
            [r["id"] for r in others],
            format_func=lambda i: run_label(by_id[i]),
            key=key,
            help="A run of the same variants on a GPU server or cloud instance makes that "
            "hardware 'measured' instead of projected. Preselected: the newest run of the same "
            "model on each other machine.",
        )
    docs = [store.run_document(i) for i in [run_id, *extra_ids]]
    if not ans.has_results(docs[0]):
        st.warning(
            f"This run has no successful results to cost ({run['status']}). Pick another run.",
            icon=":material/warning:",
        )
        return None
    return docs


def _pick_options(catalog: Catalog, box) -> list[str]:
    names = ans.option_names(catalog)
    labels = ans.describe_options(catalog)
    key = "cost_options"
    st.session_state[key] = ans.default_options(names, st.session_state.get(key))
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
    grid, caption = explain.breakeven_grid(table, variant, owned)
    if grid.empty:
        return
    st.markdown(f"**When {owned.removesuffix(' (owned)')} pays back** ({variant})")
    st.dataframe(grid, width="stretch", placeholder=MISSING)
    st.caption(caption)


def _chart(fig, key: str, title: str | None = None) -> None:
    """Draw a chart; ``title`` replaces its title (kept short: half the page is narrow)."""
    if title:
        _retitle(fig, title)
    guarded(lambda: st.plotly_chart(fig, width="stretch", key=key))


def _retitle(fig, title: str) -> None:
    """Replace a chart's title (its bold lines), keeping its style and any subtitle lines."""
    lines = str(fig.layout.title.text or "").split("<br>")
    if any(line.startswith("<b>") for line in lines):  # bold title lines, then the subtitle
        rest = [line for line in lines if not line.startswith("<b>")]
        fig.layout.title.text = "<br>".join([f"<b>{title}</b>", *rest])
    else:  # a plain title: its first line
        fig.layout.title.text = "<br>".join([title, *lines[1:]])


def _fit(title: str, shorter: str) -> str:
    """``title`` when it fits half the page, else ``shorter``."""
    return title if len(title) <= HALF_WIDTH_TITLE else shorter


def _cumulative(table, variant: str, pick: str, clouds: list[str], pricing, a) -> None:
    from lib.cost import charts as cost_charts

    months = ans.chart_months(a.amortisation_years)
    fig = cost_charts.cumulative_cost_chart(
        ans.priced(table, pricing), variant, pick, clouds, months
    )
    for t in fig.data:  # short labels ending at their diamond: they don't overlap
        if t.mode == "markers+text":
            t.text, t.textposition, t.cliponaxis = ([f"{t.x[0]:.1f} mo"], "top left", False)
    name = pick.removesuffix(" (owned)")
    _chart(fig, "cost_cumulative", _fit(f"Buy {name} or rent? ({variant})", f"Buy {name} or rent?"))
    st.caption(explain.cumulative_caption(pricing))


TABLE_CONFIG = {
    "$ per 1M": st.column_config.NumberColumn(
        format="$%.4f",
        help="goodput basis: hourly / (goodput x 3600) x 1e6; "
        "peak basis: hourly / (throughput x 3600 x utilisation) x 1e6",
    ),
    "Goodput (QPS)": st.column_config.NumberColumn(
        format="%.0f", help="requests/s one instance serves within the SLO"
    ),
    "$ per 1M at peak throughput (offline)": st.column_config.NumberColumn(format="$%.4f"),
    "x peak": st.column_config.NumberColumn(
        format="%.2fx", help="goodput-based $ per 1M over the peak-throughput figure"
    ),
    "Monthly $": st.column_config.NumberColumn(format="dollar", help="instances x hourly x 730 h"),
    "$ per hour": st.column_config.NumberColumn(format="$%.4f"),
    "Purchase $": st.column_config.NumberColumn(format="dollar"),
    "Throughput (inf/s)": st.column_config.NumberColumn(format="%.1f"),
    "Accuracy (%)": st.column_config.NumberColumn(format="%.1f%%"),
    "Energy (Wh per 1M)": st.column_config.NumberColumn(format="%.1f"),
    "CO₂ (g per 1M)": st.column_config.NumberColumn(format="%.1f"),
    "Break-even": st.column_config.TextColumn(
        width="medium", help="Owned rows: months until buying beats renting"
    ),
    "Throughput assumptions": st.column_config.TextColumn(width="large"),
    "Throughput source": st.column_config.TextColumn(
        help="measured: a stored run on that hardware; projected: estimated from "
        "this machine's measurement (see the assumptions column)"
    ),
}


def main() -> None:
    from lib.cost import charts as cost_charts

    st.title("What it costs")
    st.caption(
        "Measured throughput turned into $ per 1M requests, the monthly bill for your volume, and "
        "when buying hardware pays back. Projected = no run on that hardware yet: estimated from "
        "this machine's measurement (open a row below to see how)."
    )
    try:
        a = inputs.assumptions_form()
    except UserError as exc:
        st.error(f"{exc} Fix it in the sidebar.", icon=":material/warning:")
        return
    docs = _results_docs()
    answer_box, warn_box, controls, results_box, catalogue_box = (st.container() for _ in range(5))
    catalog = inputs.catalogue_editor(catalogue_box)
    stale = staleness_warning(catalog, date.today())
    if stale:
        warn_box.warning(stale, icon=":material/history:")
    warn_box.caption(explain.catalogue_caption(catalog, "cost_catalog" in st.session_state))
    if docs is None:
        return

    with controls:
        # The hardware on a row of its own (its chips name provider, card and price), then the
        # other three with room for a long variant name and the four pricings.
        options = _pick_options(catalog, st)
        if not options:
            st.info("Pick at least one hardware option to cost.", icon=":material/info:")
            return
        docs_json = json.dumps(docs, sort_keys=True, default=str)
        cut = ans.only_options(catalog, options)
        parts = (cut.cloud, cut.hardware, cut.peaks)
        table = _cost(docs_json, parts, a.to_dict())
        c2, c3, c4 = st.columns([1.4, 1.2, 1.6])
        pricing = c4.segmented_control(
            "Cloud pricing",
            list(PRICINGS),
            format_func=ans.SHORT_PRICING.get,
            default="on_demand",
            required=True,
            key="cost_pricing",
            help="On-demand, 1- or 3-year commitment, or spot (interruptible) prices.",
        )
        pricing = pricing or "on_demand"
        variants = ans.variants(table)
        if st.session_state.get("cost_variant") not in variants:
            st.session_state["cost_variant"] = ans.default_variant(table, pricing)
        variant = c2.selectbox(
            "Variant",
            variants,
            key="cost_variant",
            help="Preselected: the cheapest variant within 1 point of the best accuracy.",
        )
        owned, clouds = ans.split_owned(table, options)
        pick = (
            c3.selectbox("Hardware to buy", owned, key="cost_owned", help="For the break-even.")
            if owned
            else None
        )

    answer_box.markdown("##### " + ans.answer(table, variant, pricing, options, a.requests_per_day))
    payback_section(answer_box, table, docs, variant, pricing, catalog)  # one-off cost (issue 18)
    with results_box:
        left, right = st.columns(2, gap="medium")
        with left:
            _chart(
                cost_charts.cost_per_million_chart(table, pricing),
                "cost_bars",
                f"$ per 1M inferences ({ans.pricing_text(pricing)})",
            )
        with right:
            if pick and clouds:
                _cumulative(table, variant, pick, clouds, pricing, a)
            else:
                st.info(
                    "Choose at least one cloud instance and one piece of hardware to buy to see "
                    "when buying pays back.",
                    icon=":material/info:",
                )
        left, right = st.columns(2, gap="medium")
        with left:
            _chart(
                cost_charts.accuracy_cost_chart(table, pricing),
                "cost_pareto",
                f"Accuracy vs $ per 1M ({ans.pricing_text(pricing)})",
            )
        with right:
            if pick and clouds:
                _breakeven(table, variant, pick)
        sens = _sensitivity(docs_json, parts, a.to_dict(), variant, tuple(options))
        _chart(cost_charts.sensitivity_chart(sens), "cost_sensitivity")
        st.caption(explain.sensitivity_caption(variant, a))

        st.subheader("Every variant on every chosen option")
        shown = explain.display_table(table, pricing)
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            column_config=TABLE_CONFIG,
            placeholder=MISSING,  # a value that does not apply reads "–", never "None"
        )
        inputs.basis_section(ans.priced(table, pricing), docs)
        st.download_button(
            "Download the full table (CSV, every input column)",
            explain.download_csv(safe_frame(table)),  # no formula runs in a spreadsheet
            file_name="leanbench-cost.csv",
            mime="text/csv",
            icon=":material/download:",
        )
        st.markdown(f"**Where each number for {variant} comes from**")
        for title, story in explain.row_stories(table, variant, pricing, a):
            with st.expander(title):
                st.markdown(story)


guarded(main)

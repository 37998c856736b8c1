"""Demo: real results recorded with Leanbench, loaded in one click (no network, no model
download, no benchmarking), told in three screens: the answer, the trade-off, the money.

The first screen is the answer on its own: the version to ship for a stated target, one chart
and the monthly bill before and after. The story is told from the run recorded on a machine
like the visitor's (``lib.demo.pitch``); the other kind of CPU becomes a message, not a
contradiction."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from lib import compare as cmp
from lib.cost.formulas import CostAssumptions
from lib.demo import charts as dch
from lib.demo import pitch as pt
from lib.demo import story as demo
from lib.format import MISSING, fmt_ms
from lib.schema import FINISHED
from pages._curve import show_curve
from pages._ui import COMPARE, COST, RUN, get_store, guarded, link, set_focus_run

ANSWER_SHRINK = 140  # px taken off the plot on the first screen


@st.cache_data(show_spinner=False, max_entries=16)
def _frame(doc_json: str, batch: int, options: tuple[str, ...], per_day: float) -> pd.DataFrame:
    a = CostAssumptions(requests_per_day=per_day)
    return cmp.compare_frame([json.loads(doc_json)], batch, list(options), assumptions=a)


@st.cache_data(show_spinner=False, max_entries=16)
def _pitch(doc_json: str, per_day: float) -> pt.Pitch:
    return pt.pitch(json.loads(doc_json), per_day)


@st.cache_data(show_spinner=False, max_entries=16)
def _payback(doc_json: str, per_day: float) -> tuple[str, str] | None:
    return pt.payback_line(json.loads(doc_json), _pitch(doc_json, per_day))


@st.cache_data(show_spinner=False)
def _here() -> str:
    return pt.this_machine_kind()


def _story_docs(store) -> tuple[list[dict], bool]:
    """The demo runs in the store, else the newest finished run of the user's own."""
    runs = store.list_runs(limit=300)
    demos = [r for r in runs if demo.is_demo(r) and r["status"] in FINISHED]
    if demos:
        return [store.run_document(r["id"]) for r in demos], True
    own = [r for r in runs if r["status"] == "done"]
    return ([store.run_document(own[0]["id"])] if own else []), False


def _top_row(store) -> float:
    """The load button and the volume the money is stated for; returns requests per day."""
    available = demo.demo_available()
    left, mid, right = st.columns([1, 1.1, 2.2], vertical_alignment="bottom")
    clicked = left.button(
        "Load the demo results",
        type="primary",
        icon=":material/play_arrow:",
        disabled=not available,
        key="demo_load",
        help="Copies the bundled results into your store: instant, works offline.",
    )
    per_day = mid.selectbox(
        "Requests a day",
        pt.VOLUMES,
        index=pt.VOLUMES.index(pt.DEFAULT_REQUESTS_PER_DAY),
        format_func=lambda v: f"{pt.volume_text(v)} requests a day",
        key="demo_volume",
        label_visibility="collapsed",
        help="The volume the monthly bills are stated for.",
    )
    right.caption(
        "Real runs recorded with Leanbench; nothing is downloaded or measured."
        if available
        else "No demo results are bundled with this copy (data/demo/ is empty): the story "
        "uses your own newest run."
    )
    if clicked:
        ids = demo.load_demo(store)
        st.toast(f"Loaded {len(ids)} demo run(s).", icon=":material/check_circle:")
    return float(per_day)


# ------------------------------------------------------------------ 1 · the answer
def _answer(doc: dict, doc_json: str, p: pt.Pitch, runs: pt.StoryRuns) -> None:
    if p.variant is None:
        st.warning(p.headline, icon=":material/report:")
    else:
        st.success(f"**Ship {p.variant}.** {p.headline}", icon=":material/verified:")
    left, right = st.columns([1, 1.7])
    with left:
        base_acc = _pct(p.accuracy_base)
        if p.variant is not None:
            st.metric(
                f"Speed vs {p.baseline} at batch {p.speedup_batch}",
                f"{p.speedup:.1f}x faster" if p.speedup else MISSING,
                help="Median time per batch of the original divided by the variant's, both "
                "measured on the machine named below.",
                border=False,
            )
            st.metric(
                "Accuracy",
                _pct(p.accuracy_pick),
                delta=f"{p.delta_pts:+.1f} pts vs {base_acc} ({p.baseline})"
                if p.delta_pts is not None
                else None,
                delta_color="off" if not p.significant else "normal",
                help="On the same held-out examples as the original; the difference is tested "
                "with McNemar's test (significant: p < 0.05).",
                border=False,
            )
        if p.monthly_before is not None and p.monthly_after is not None:
            st.metric(
                f"Monthly bill on {p.option}{' (projected)' if p.projected else ''}",
                pt.dollars(p.monthly_after),
                delta=f"{pt.dollars(p.monthly_after - p.monthly_before)} vs "
                f"{pt.dollars(p.monthly_before)} for {p.baseline}",
                delta_color="inverse",
                help=f"At {pt.volume_text(p.requests_per_day)} requests a day; "
                f"{p.cost_basis or 'cost basis in the Cost page'}. Price: {p.price_source} "
                f"({p.price_date}).",
                border=False,
            )
        st.caption(f"Target: {p.target}. {runs.note}")
    with right:
        df = _frame(doc_json, p.speedup_batch or 1, (), p.requests_per_day)
        fig = cmp.accuracy_latency_chart(df)
        # A shorter plot so the answer fits the first screen; the legend keeps its room.
        fig.update_layout(height=max(300, int(fig.layout.height or 500) - ANSWER_SHRINK))
        st.plotly_chart(fig, width="stretch", key="demo_answer_chart")
    with st.expander("What each version does", icon=":material/menu_book:"):
        st.dataframe(_versions_table(doc), hide_index=True, width="stretch")


def _pct(value: float | None) -> str:
    return MISSING if value is None else f"{value * 100:.1f}%"


def _versions_table(doc: dict) -> pd.DataFrame:
    rows = []
    for r in doc.get("results") or []:
        if not isinstance(r, dict):
            continue
        acc = r.get("accuracy")
        rows.append(
            {
                "Version": r.get("variant"),
                "What it does": demo.explain_variant(str(r.get("variant"))),
                "Accuracy": _pct(acc) if isinstance(acc, int | float) else MISSING,
                "Size": f"{r['size_mb']:.0f} MB"
                if isinstance(r.get("size_mb"), int | float)
                else MISSING,
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ 2 · the trade-off
def _tradeoff(doc_json: str, docs: list[dict], runs: pt.StoryRuns) -> None:
    sizes = pt.batch_sizes(runs.primary)
    batch = st.segmented_control(
        "Batch size",
        sizes,
        default=sizes[-1] if sizes else None,
        format_func=lambda b: f"batch {b}",
        key="demo_batch",
        label_visibility="collapsed",
    ) or (sizes[-1] if sizes else 1)
    df = _frame(doc_json, int(batch), (), pt.DEFAULT_REQUESTS_PER_DAY)
    st.info(pt.tradeoff_sentence(df), icon=":material/insights:")
    contrast = pt.hardware_contrast(docs)
    if contrast:
        st.warning(contrast, icon=":material/memory:")
    fig = cmp.accuracy_latency_chart(df)
    st.plotly_chart(fig, width="stretch", key="demo_tradeoff_chart")
    st.caption(
        f"{runs.note} Up and to the left is better; the bold points are the Pareto frontier: "
        "nothing else is both faster and more accurate."
    )


# ------------------------------------------------------------------ 3 · the money
@st.cache_data(show_spinner=False, max_entries=16)
def _bills(doc_json: str, per_day: float, options: tuple[str, ...]) -> pd.DataFrame:
    return pt.monthly_bills(json.loads(doc_json), per_day, options)


def _money(doc: dict, doc_json: str, p: pt.Pitch) -> None:
    money = pt.money_sentence(p)
    if money:
        (st.success if p.saves else st.info)(money, icon=":material/savings:")
    payback = _payback(doc_json, p.requests_per_day)
    if payback:
        st.markdown(f":material/schedule: {payback[0]}")
        if payback[1]:
            st.caption(payback[1])
    options = tuple(dict.fromkeys([*pt.CPU_OPTIONS[:1], *cmp.DEFAULT_OPTIONS]))
    if p.variant:
        df = _frame(doc_json, p.speedup_batch or 1, tuple(cmp.DEFAULT_OPTIONS), p.requests_per_day)
        sentence = demo.breakeven_sentence(df, p.variant, str(doc.get("run_id")))
        if sentence:
            st.info(sentence, icon=":material/account_balance:")
    bills = _bills(doc_json, p.requests_per_day, options)
    cheapest = pt.cheapest_sentence(bills, p)
    if cheapest:
        st.caption(cheapest)
    fig = dch.monthly_bill_chart(bills, p.variant, pt.volume_text(p.requests_per_day))
    st.plotly_chart(fig, width="stretch", key="demo_cost_chart")
    st.caption(
        "Projected = that machine was not the one measured: its bill is estimated from this "
        "run's measurement (the Cost page shows how). GPU bills are projections of the same "
        "model at fp16. Prices carry their source and date (hover a bar)."
    )
    c1, c2 = st.columns(2)
    with c1:
        link(COMPARE, "Compare and set your own target", ":material/compare_arrows:")
    with c2:
        link(COST, "See every cost assumption", ":material/payments:")


# ------------------------------------------------------------------ 4 · labels needed
CURVE_TARGETS = [65, 70, 75, 80, 85]


def _labels(doc: dict) -> None:
    from lib.results.curve import curve_for_run, retarget

    curve = curve_for_run(doc)
    if curve is None:
        st.info(
            "No learning curve was recorded for this model and data: Model & data measures one "
            "(section 4), or `python -m lib curve`.",
            icon=":material/trending_up:",
        )
        return
    target = st.select_slider(
        "Good enough",
        CURVE_TARGETS,
        value=75,
        format_func=lambda v: f"{v}% accuracy",
        key="demo_curve_target",
        help="The accuracy a first version must reach to be worth shipping.",
    )
    show_curve(retarget(curve, float(target) / 100))


def _where_recorded(docs: list[dict]) -> None:
    rows = []
    for d in docs:
        f = cmp.run_facts(d)
        ok = [r for r in d["results"] if isinstance(r, dict) and r.get("status") == "ok"]
        rows.append(
            {
                "Run": str(d.get("name") or f"{f['model']} on {f['dataset']}").removeprefix(
                    "Demo: "
                ),
                "Recorded on": f["hardware"],
                "CPU kind": pt.SHORT_KINDS[pt.cpu_kind(d.get("environment"))],
                "Date": f["date"],
                "Versions": len(ok),
                "Fastest at batch 32 (p50)": _fastest(d),
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={
            "Run": st.column_config.TextColumn(width="medium"),
            "CPU kind": st.column_config.TextColumn(width="small"),
            "Date": st.column_config.TextColumn(width="small"),
            "Versions": st.column_config.NumberColumn(width="small"),
        },
    )


def _fastest(doc: dict) -> str:
    best = pt.fastest(doc)
    return f"{best[0]} ({fmt_ms(best[1])})" if best else MISSING


def main() -> None:
    st.title("Which version should you ship?")
    store = get_store()
    per_day = _top_row(store)
    docs, is_demo = _story_docs(store)
    if not docs:
        st.info(
            "Nothing to show yet: load the demo results above, or run a benchmark on the Run "
            "page and come back.",
            icon=":material/info:",
        )
        link(RUN, "Run a benchmark", ":material/play_circle:")
        return
    runs = pt.story_runs(docs, _here())
    if runs is None:
        st.warning("These runs have no finished variant to show.", icon=":material/warning:")
        return
    doc = runs.primary
    set_focus_run(str(doc.get("run_id")))
    if not is_demo:
        st.caption("Showing your newest run (no demo results loaded).")
    doc_json = json.dumps(doc, sort_keys=True, default=str)
    p = _pitch(doc_json, per_day)
    one, two, three, four = st.tabs(
        ["1 · The answer", "2 · The trade-off", "3 · The money", "4 · Labels needed"]
    )
    with one:
        _answer(doc, doc_json, p, runs)
    with two:
        _tradeoff(doc_json, docs, runs)
    with three:
        _money(doc, doc_json, p)
    with four:
        _labels(doc)
    with st.expander("Where and when these runs were recorded", icon=":material/history:"):
        _where_recorded(docs)


guarded(main)

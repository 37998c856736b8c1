"""Demo: real results recorded with Leanbench, loaded in one click (no network, no model
download, no benchmarking), told in three screens: the choice, the trade-off, the money."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from lib import compare as cmp
from lib.cost.formulas import CostAssumptions
from lib.demo import story as demo
from lib.format import fmt_ms
from lib.schema import FINISHED
from pages._ui import COMPARE, COST, RUN, get_store, guarded, link


@st.cache_data(show_spinner=False, max_entries=8)
def _frame(docs_json: str, options: tuple[str, ...]) -> pd.DataFrame:
    return cmp.compare_frame(json.loads(docs_json), 1, list(options))


def _story_runs(store) -> tuple[list[dict], bool]:
    """The demo runs in the store, else the newest finished run of the user's own."""
    runs = store.list_runs(limit=300)
    demos = [r for r in runs if demo.is_demo(r) and r["status"] in FINISHED]
    if demos:
        return [store.run_document(r["id"]) for r in demos], True
    own = [r for r in runs if r["status"] == "done"]
    return ([store.run_document(own[0]["id"])] if own else []), False


def _loader(store) -> None:
    available = demo.demo_available()
    left, right = st.columns([1, 2.2])
    with left:
        clicked = st.button(
            "Load the demo results",
            type="primary",
            icon=":material/play_arrow:",
            disabled=not available,
            key="demo_load",
            help="Copies the bundled results into your store: instant, works offline.",
        )
    with right:
        if available:
            st.caption(
                "Real results recorded with Leanbench on the machines named below. Nothing is "
                "downloaded or measured; loading twice changes nothing."
            )
        else:
            st.caption(
                "No demo results are bundled with this copy (data/demo/ is empty). The story "
                "below uses your own newest run, if there is one."
            )
    if clicked:
        ids = demo.load_demo(store)
        st.toast(f"Loaded {len(ids)} demo run(s).", icon=":material/check_circle:")


def _runs_table(docs: list[dict]) -> None:
    rows = []
    for d in docs:
        f = cmp.run_facts(d)
        rows.append(
            {
                "Run": d.get("name") or f"{f['model']} on {f['dataset']}",
                "Model": f["model"],
                "Dataset": f["dataset"],
                "Recorded on": f["hardware"],
                "Date": f["date"],
                "Variants": ", ".join(str(r.get("variant")) for r in d["results"]),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _choice(df: pd.DataFrame) -> None:
    st.markdown(
        "### 1 · The choice\nThe same model, made smaller or faster in different ways. Each "
        "version was measured on the same examples and the same machine as the original."
    )
    pts = cmp.measured_points(df)
    variants = list(dict.fromkeys(df["variant"]))
    cols = st.columns(min(3, max(1, len(variants))))
    for i, v in enumerate(variants):
        rows = pts[pts["variant"] == v]
        with cols[i % len(cols)].container(border=True):
            st.markdown(f"**{v}**")
            st.write(demo.explain_variant(v))
            if rows.empty:
                st.caption("Did not finish in these runs.")
                continue
            r = rows.iloc[0]
            facts = []
            if pd.notna(r["accuracy"]):
                facts.append(f"accuracy {r['accuracy'] * 100:.1f}%")
            if pd.notna(r.get("size_mb")):
                facts.append(f"{r['size_mb']:.0f} MB")
            if pd.notna(r["p95_ms"]):
                facts.append(f"p95 {fmt_ms(r['p95_ms'])} per request")
            st.caption(" · ".join(facts) + f" — on {r['hardware']}")


def _tradeoff(df: pd.DataFrame, docs: list[dict]) -> None:
    from lib.results.frame import summary_sentence, to_frame

    st.markdown(
        "### 2 · The trade-off\nUp and to the left is better. The bold points are the Pareto "
        "frontier: for each of them, nothing else is both faster and more accurate."
    )
    for d in docs:
        frame = to_frame([r for r in d["results"] if isinstance(r, dict)])
        f = cmp.run_facts(d)
        st.info(f"**{f['hardware']}** ({f['date']}): {summary_sentence(frame)}")
    st.plotly_chart(cmp.accuracy_latency_chart(df), width="stretch", key="demo_lat")


def _money(df: pd.DataFrame) -> None:
    a = CostAssumptions()
    st.markdown(
        "### 3 · The money\nWhat a million answers cost on machines you can rent or buy, at "
        f"{a.requests_per_day:,.0f} requests a day and {a.utilisation:.0%} average use."
    )
    pts = cmp.measured_points(df)
    best_base = pts[pts["variant"] == cmp.BASELINE]["accuracy"].max()
    targets = cmp.Targets(
        min_accuracy=float(best_base) - 0.01 if pd.notna(best_base) else None,
    )
    rec = cmp.recommend(df, targets)
    keep = " (keeping accuracy within 1 point of fp32)" if targets.min_accuracy else ""
    if rec.met:
        st.success(f"**{rec.sentence}**{keep}", icon=":material/savings:")
    else:
        st.warning(f"**{rec.sentence}**", icon=":material/report:")
    for n in rec.notes:
        st.caption(n)
    if rec.met and rec.numbers.get("run_id"):
        sentence = demo.breakeven_sentence(df, rec.numbers["variant"], rec.numbers["run_id"])
        if sentence:
            st.info(sentence, icon=":material/account_balance:")
    st.plotly_chart(cmp.grouped_bars(df, "usd_per_million"), width="stretch", key="demo_cost")
    st.caption(
        "Projected = that machine was not measured: the cost is estimated from the run's "
        "measurement (the Cost page shows how). Prices carry their source and date."
    )
    c1, c2 = st.columns(2)
    with c1:
        link(COMPARE, "Compare and set your own target", ":material/compare_arrows:")
    with c2:
        link(COST, "See every cost assumption", ":material/payments:")


def main() -> None:
    st.title("Which version of the model should you ship?")
    st.caption(
        "Leanbench makes a model smaller or faster in several ways, measures what each way "
        "keeps and gains, and turns that into money. Three screens, two minutes."
    )
    store = get_store()
    _loader(store)
    docs, is_demo = _story_runs(store)
    if not docs:
        st.info(
            "Nothing to show yet: load the demo results above, or run a benchmark on the Run "
            "page and come back.",
            icon=":material/info:",
        )
        link(RUN, "Run a benchmark", ":material/play_circle:")
        return
    if not is_demo:
        st.caption("Showing your newest run (no demo results loaded).")
    _runs_table(docs)
    docs_json = json.dumps(docs, sort_keys=True, default=str)
    df = _frame(docs_json, tuple(cmp.DEFAULT_OPTIONS))
    if cmp.ok_candidates(df).empty:
        st.warning("These runs have no finished variant to show.", icon=":material/warning:")
        return
    one, two, three = st.tabs(["1 · The choice", "2 · The trade-off", "3 · The money"])
    with one:
        _choice(df)
    with two:
        _tradeoff(df, docs)
    with three:
        _money(df)


guarded(main)

"""Compare: pick stored runs and variants (across runs, datasets and hardware), set a
service-level target, and read which variant to ship in one sentence, with the charts, the
deltas table and a report to share.

A thin page: it gathers the choices, calls ``lib.compare`` / ``lib.report.html`` and draws the
answer.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from lib import compare as cmp
from lib.access.redact import redact
from lib.compare import choices
from lib.compare.frame import run_facts
from lib.compare.recommendation import add_payback
from lib.cost.formulas import CostAssumptions
from lib.execution.runs import run_label
from pages._advice import budget_section
from pages._ui import RUN, get_store, guarded, link, md, set_focus_run

EMPTY_MESSAGE = (
    "Nothing to compare yet. Run a benchmark (the Run page, or `python -m lib run` on any "
    "machine with the same store), or load the demo results recorded with Leanbench."
)


def _empty_state() -> None:
    from lib.demo.story import demo_available, load_demo

    st.info(EMPTY_MESSAGE, icon=":material/info:")
    left, right = st.columns(2)
    with left:
        if demo_available():
            if st.button("Load the demo results", type="primary", icon=":material/play_arrow:"):
                load_demo(get_store())
                st.rerun()
        else:
            st.caption("No demo results are bundled with this copy of Leanbench.")
    with right:
        link(RUN, "Run a benchmark", ":material/play_circle:")


@st.cache_data(show_spinner=False, max_entries=32)
def _frame(
    docs_json: str, batch: int, options: tuple[str, ...], a: dict, limit: float | None
) -> pd.DataFrame:
    docs = json.loads(docs_json)
    df = cmp.compare_frame(docs, batch, list(options), None, CostAssumptions(**a))
    df = cmp.add_load_latency(df, docs, limit)  # p99 under load where a load test exists
    # one-off build cost and payback, for the recommendation (issue 18)
    return add_payback(df, docs, None, CostAssumptions(**a)) if options else df


@st.cache_data(show_spinner=False)
def _option_names() -> list[str]:
    from lib.cost.answer import option_names
    from lib.cost.catalog import load_catalog

    return option_names(load_catalog())


def _batch_sizes(docs: list[dict]) -> list[int]:
    from lib.results.frame import batch_sizes

    return batch_sizes([r for d in docs for r in d["results"]])


def _pick_runs(runs: list[dict]) -> list[str]:
    by_id = {r["id"]: r for r in choices.finished_runs(runs)}
    chosen = st.session_state.get("cmp_runs")
    picked = choices.default_runs(runs, chosen)
    if picked != chosen:
        st.session_state["cmp_runs"] = picked
    return st.multiselect(
        "Runs to compare",
        list(by_id),
        format_func=lambda i: run_label(by_id[i]),
        key="cmp_runs",
        help="Any stored runs: other datasets, other machines (a GPU server, a cloud instance "
        "running `python -m lib run` with the same store). Each is compared with its own fp32.",
    )


def _targets(sizes: list[int]) -> cmp.Targets:
    c1, c2, c3, c4 = st.columns(4)
    p95 = c1.number_input(
        "Max p95 latency (ms)",
        min_value=0.0,
        value=None,
        step=5.0,
        placeholder="no limit",
        key="cmp_p95",
        help="95 of 100 requests answered this fast, on the run's hardware: p95 per batch "
        "(between the recorded p90 and p99), or request p99 under load where a variant was "
        "load-tested with MLPerf LoadGen.",
    )
    acc = c2.number_input(
        "Min accuracy (%)",
        min_value=0.0,
        max_value=100.0,
        value=None,
        step=0.5,
        placeholder="no limit",
        key="cmp_acc",
    )
    usd = c3.number_input(
        "Max $ per 1M requests",
        min_value=0.0,
        value=None,
        step=0.05,
        format="%.3f",
        placeholder="no limit",
        key="cmp_usd",
    )
    default = choices.default_batch(sizes)
    batch = c4.selectbox(
        "Batch size for latency",
        sizes or [1],
        index=(sizes or [1]).index(default),
        key="cmp_batch",
        help="Requests answered together. 1 = one request at a time (an interactive service).",
    )
    return cmp.Targets(
        max_p95_ms=p95 or None,
        min_accuracy=None if acc is None else acc / 100,
        max_usd_per_million=usd or None,
        batch_size=int(batch),
    )


def _pick_options() -> list[str]:
    names = _option_names()
    if "cmp_options" not in st.session_state:
        st.session_state["cmp_options"] = [o for o in cmp.DEFAULT_OPTIONS if o in names]
    return st.multiselect(
        "Hardware to price on",
        names,
        key="cmp_options",
        help="Cloud instances to rent and hardware to buy, from the price catalogue (Cost page). "
        "Measured where a run measured that hardware; otherwise projected from the run.",
    )


def _answer(box, rec: cmp.Recommendation, latency_note: str) -> None:
    with box:
        if rec.met:
            st.success(f"**{rec.sentence}**", icon=":material/verified:")
        else:
            st.warning(f"**{rec.sentence}**", icon=":material/report:")
        for n in [latency_note, *rec.notes] if latency_note else rec.notes:
            st.caption(n)
        with st.expander("The numbers it rests on"):
            st.dataframe(cmp.numbers_table(rec), hide_index=True, width="stretch")


def _downloads(box, docs, df, rec, targets, options, a) -> None:
    from lib.report import html as report

    stamp = choices.report_stamp(docs)

    def html() -> str:
        try:
            return report.build_report(docs, a, targets, options)
        except Exception as exc:  # noqa: BLE001 - a broken report must not break the page
            import html as _h

            return f"<p>The report could not be built: {_h.escape(redact(exc))}</p>"

    c1, c2, c3, _ = box.columns([2.2, 1, 1, 3])
    c1.download_button(
        "Download report (HTML)",
        html,
        file_name=f"leanbench-report-{stamp}.html",
        mime="text/html",
        icon=":material/download:",
        type="primary",
        on_click="ignore",
        key="cmp_dl_html",
        help="One file with the charts, tables, setup and assumptions; opens offline.",
    )
    c2.download_button(
        "CSV",
        report.export_csv(df),
        file_name=f"leanbench-{stamp}.csv",
        mime="text/csv",
        icon=":material/table:",
        on_click="ignore",
        key="cmp_dl_csv",
    )
    c3.download_button(
        "JSON",
        report.export_json(docs, df, rec, targets, a.to_dict()),
        file_name=f"leanbench-{stamp}.json",
        mime="application/json",
        icon=":material/data_object:",
        on_click="ignore",
        key="cmp_dl_json",
    )


def _deltas_table(df: pd.DataFrame, judged: pd.DataFrame) -> None:
    table = choices.deltas_with_targets(df, judged)
    if table.empty:
        st.info("No variant finished in these runs.", icon=":material/info:")
        return
    cfg = {
        "Accuracy (%)": st.column_config.NumberColumn(format="%.1f"),
        "Δ accuracy (pts)": st.column_config.NumberColumn(format="%+.2f"),
        "Speed-up (×)": st.column_config.NumberColumn(format="%.2f×"),
        "Smaller (×)": st.column_config.NumberColumn(format="%.2f×"),
        "Cheaper (×)": st.column_config.NumberColumn(format="%.2f×"),
        "$ per 1M": st.column_config.NumberColumn(format="$%.4f"),
        "Size (MB)": st.column_config.NumberColumn(format="%.1f"),
    }
    for c in table.columns:
        if c.startswith("p95"):
            cfg[c] = st.column_config.NumberColumn(format="%.2f")
    st.dataframe(table, hide_index=True, width="stretch", column_config=cfg)
    st.caption(
        "Against each run's own fp32 baseline. Δ accuracy in percentage points; significant = "
        "exact McNemar test on the same examples (p < 0.05). Speed-up over fp32 at the same "
        "batch, from paired rounds (its 95% interval beside it) where the run has them, else "
        "fp32 p50 / variant p50; smaller and cheaper = fp32 / variant, so above 1× is better. "
        "Click a column title (Runtime, say) to sort by it."
    )


def _machines(docs: list[dict], batch: int) -> None:
    """The same variants across machines (a sweep's machine kinds), when the runs span several."""
    from lib.compare import machines

    frame = machines.machine_frame(docs, batch)
    if len(machines.machines(frame)) < 2:
        return
    st.subheader("Across machines")
    names = machines.MACHINE_METRICS
    metric = st.segmented_control(
        "Machine metric",
        list(names),
        format_func=lambda m: names[m][0],
        default="throughput",
        required=True,
        key="cmp_machine_metric",
        label_visibility="collapsed",
    )
    metric = metric or "throughput"
    for line in machines.winner_changes(frame, metric):
        st.warning(line, icon=":material/swap_horiz:")
    left, right = st.columns(2)
    left.markdown(f"**{names[metric][0]} at batch {batch}, by machine**")
    left.dataframe(machines.machine_pivot(frame, metric), hide_index=True, width="stretch")
    right.markdown("**Ranking on each machine** (1 = best)")
    right.dataframe(machines.machine_ranking(frame, metric), hide_index=True, width="stretch")


def main() -> None:
    st.title("Compare and decide")
    st.caption(
        "Every variant of the runs you pick, side by side: what it keeps in accuracy, what it "
        "gains in speed and what it costs to serve, and the one to ship for your target."
    )
    store = get_store()
    runs = store.list_runs(limit=300)
    if not choices.finished_runs(runs):
        _empty_state()
        return

    answer_box = st.container()
    download_box = st.container()
    run_ids = _pick_runs(runs)
    if not run_ids:
        st.info("Pick at least one run to compare.", icon=":material/info:")
        return
    set_focus_run(run_ids[0])  # the first run picked is the one Cost opens with
    docs = [store.run_document(i) for i in run_ids]
    variants_all = choices.variants_of(docs)
    if not variants_all:
        st.info("These runs have no results yet.", icon=":material/info:")
        return
    key = "cmp_variants_" + "_".join(run_ids)
    variants = st.multiselect("Variants", variants_all, default=variants_all, key=key[:120])
    with st.container(border=True):
        st.markdown("**Your target** (leave a box empty for no limit)")
        targets = _targets(_batch_sizes(docs))
        options = _pick_options()
    a = cmp.assumptions_for(targets, CostAssumptions())
    docs = choices.keep_variants(docs, variants)
    docs_json = json.dumps(docs, sort_keys=True, default=str)
    with st.spinner("Comparing..."):
        df = _frame(docs_json, targets.batch_size, tuple(options), a.to_dict(), targets.max_p95_ms)
    if cmp.ok_candidates(df).empty:
        answer_box.warning(
            "No variant finished in the runs and variants picked: pick others.",
            icon=":material/warning:",
        )
        return
    rec = cmp.recommend(df, targets)
    _answer(answer_box, rec, cmp.latency_note(df) if targets.max_p95_ms is not None else "")
    _downloads(download_box, docs, df, rec, targets, options, a)

    judged = cmp.apply_targets(df, targets)
    st.subheader("The trade-off")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(cmp.accuracy_latency_chart(df), width="stretch", key="cmp_lat")
    with right:
        st.plotly_chart(cmp.accuracy_cost_chart(df), width="stretch", key="cmp_cost")

    st.subheader("Metric by metric")
    metrics = cmp.bar_metrics(df)
    if metrics:
        metric = st.segmented_control(
            "Metric",
            metrics,
            format_func=lambda m: choices.BAR_LABELS.get(m, m),
            default=metrics[0],
            required=True,
            key="cmp_metric",
            label_visibility="collapsed",
        )
        st.plotly_chart(cmp.grouped_bars(df, metric or metrics[0]), width="stretch", key="cmp_bars")
    with st.expander("What these numbers mean"):
        st.markdown(choices.METRIC_HELP)

    st.subheader("Against the baseline")
    _deltas_table(df, judged)
    budget_section([(run_facts(d)["run_label"], d.get("results") or []) for d in docs], key="cmp")
    _machines(docs, targets.batch_size)
    failed = df[df["status"] != "ok"]
    if not failed.empty:
        with st.expander(f"{len(failed)} variant(s) failed"):
            for _, r in failed.iterrows():
                st.markdown(
                    f"- **{md(r['variant'])}** ({md(r['run_label'])}): "
                    f"{md(r['error'] or 'no reason')}"
                )


guarded(main)

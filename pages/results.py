"""Results: one stored run — the verdict in a sentence, the table, the charts, the downloads.

A live run (queued or running: by default the one this session started) shows its progress and
the variants measured so far, redrawn from the store every few seconds until it ends.
"""

from __future__ import annotations

import json
import logging
import traceback

import pandas as pd
import streamlit as st

from lib.access.text import to_csv as safe_csv
from lib.errors import UserError
from lib.execution.runs import ACTIVE, run_label, run_title, when
from lib.results import progress as run_progress
from lib.results import summary
from pages._advice import budget_section, roofline_section
from pages._curve import results_section as curve_results
from pages._serving import serving_section
from pages._ui import (
    MODEL_DATA,
    RUN,
    can,
    get_store,
    guarded,
    link,
    md,
    one_line,
    set_focus_run,
    start_default_run,
    why_not,
)

log = logging.getLogger("leanbench.pages")


LIVE_REFRESH_S = 2  # seconds between two looks at the store while the run shown is live


def main() -> None:
    st.title("Results")
    store = get_store()
    runs = store.list_runs(limit=200)
    if not runs:
        _empty_state()
        return

    by_id = {r["id"]: r for r in runs}
    # The run asked for (picked here, opened from another page, or just started), else the
    # session's live run, else the newest done.
    wanted = summary.default_run(
        runs, st.session_state.get("results_run_id"), _session_live_run(by_id)
    )
    st.session_state["results_pick"] = wanted
    st.selectbox(
        "Run",
        list(by_id),
        format_func=lambda i: run_label(by_id[i]),
        key="results_pick",
        on_change=lambda: st.session_state.update(
            results_run_id=st.session_state.get("results_pick")
        ),
    )
    _other_live_runs(runs, wanted)
    was_live = by_id[wanted]["status"] in ACTIVE
    # A live run redraws itself from the store every few seconds (variants land as they finish)
    # and the whole page once when it ends; a finished one is drawn once.
    st.fragment(run_every=LIVE_REFRESH_S if was_live else None)(_run_section)(wanted, was_live)


def _session_live_run(by_id: dict[str, dict]) -> str | None:
    """The run this session started or watches on the Run page, while it is queued or running."""
    run_id = st.session_state.get("run_id")
    run = by_id.get(run_id) if run_id else None
    return str(run_id) if run is not None and run["status"] in ACTIVE else None


def _show_run(run_id: str) -> None:
    st.session_state["results_run_id"] = run_id


def _other_live_runs(runs: list[dict], shown: str) -> None:
    """A sign of every live run other than the one shown, with a button to show it."""
    for run in [r for r in runs if r["status"] in ACTIVE and r["id"] != shown][:3]:
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.info(
            f"**{md(run_title(run))}** is {run['status']} "
            f"({float(run.get('progress') or 0.0) * 100:.0f}%, started "
            f"{when(run.get('created_at'))}): its results appear as each variant finishes.",
            icon=":material/autorenew:",
        )
        right.button(
            "Show it",
            key=f"results_show_{run['id']}",
            on_click=_show_run,
            args=(run["id"],),
            icon=":material/visibility:",
            width="stretch",
        )


def _run_section(run_id: str, was_live: bool) -> None:
    try:
        _run_body(run_id, was_live)
    except UserError as exc:
        st.error(str(exc), icon=":material/warning:")
    except Exception as exc:  # noqa: BLE001 - a refresh must never put a traceback on the page
        log.error("results page error\n%s", traceback.format_exc())
        st.error(
            f"Could not read this run: {one_line(exc)}. Reload the page, or pick another run.",
            icon=":material/report:",
        )


def _live_panel(run: dict, results: list[dict], events: list[dict]) -> None:
    """Where a live run has got: its stage and progress, the variants finished and to come."""
    live = run_progress.live_summary(run, results, events)
    with st.container(border=True):
        if live["status"] == "queued":
            st.info(live["headline"], icon=":material/hourglass_top:")
        else:
            st.progress(live["fraction"], text=live["headline"])
        st.caption(
            f"{live['detail']} This page refreshes itself every {LIVE_REFRESH_S} s until the run "
            "ends; each variant appears below as soon as it is measured."
        )
        link(RUN, "Watch every step on the Run page", ":material/play_circle:")


def _run_body(run_id: str, was_live: bool) -> None:
    from lib.results import charts
    from lib.results import frame as results_frame

    store = get_store()
    run = store.get_run(run_id)
    if run is None:
        st.warning(
            "This run is not in the store any more: pick another.", icon=":material/warning:"
        )
        return
    if was_live and run["status"] not in ACTIVE:
        st.rerun()  # it just ended: draw the whole page once more, then stop refreshing
    results = store.results_for(run_id)
    if run["status"] in ACTIVE:
        _live_panel(run, results, store.events_for(run_id, limit=200))
    if not results:
        if run["status"] in ACTIVE:
            st.info(
                "No variant has finished yet: fp32 comes first, then each variant in turn.",
                icon=":material/autorenew:",
            )
        else:
            st.warning(
                f"This run produced no results ({run['status']}: {md(run.get('message') or '–')}).",
                icon=":material/warning:",
            )
        return

    set_focus_run(run_id)  # Cost opens with the run looked at here (once it has results)
    frame = results_frame.to_frame(results)
    sizes = results_frame.frame_batch_sizes(frame)
    ok = results_frame.ok_rows(frame)

    # ---- the verdict
    big = sizes[-1] if sizes else None
    st.markdown(f"### {results_frame.summary_sentence(frame, big)}")
    _headline_metrics(frame, big)
    for message in summary.failures(frame):
        st.error(message, icon=":material/error:")
    unstable = summary.unstable_warning(frame)
    if unstable:
        st.warning(unstable, icon=":material/show_chart:")

    _noise_and_expectations(results)
    if run["status"] not in ACTIVE:  # a live run's answer would change under the reader
        budget_section([(run.get("name") or run_id, results)], key="results")

    # ---- charts
    if not ok.empty and sizes:
        c1, c2 = st.columns(2, gap="medium")
        with c1:
            bs = st.segmented_control(
                "Batch size for the scatter",
                sizes,
                default=big,
                required=True,
                format_func=lambda b: f"batch {b}",
                key="results_bs",
            )
            st.plotly_chart(
                charts.accuracy_vs_latency(frame, bs or big),
                width="stretch",
                key="chart_scatter",
            )
        with c2:
            options = charts.metric_options(frame)
            default = "speedup" if "speedup" in options else options[0]
            metric = st.selectbox(
                "Metric for the bars",
                options,
                index=options.index(default),
                format_func=lambda k: f"{charts.METRICS[k].label} ({charts.METRICS[k].unit})",
                key="results_metric",
            )
            st.plotly_chart(charts.metric_bars(frame, metric), width="stretch", key="chart_bars")
        if len(sizes) > 1:
            seq_len = ((run.get("spec") or {}).get("measure") or {}).get("seq_len")
            long = results_frame.to_long(results, seq_len=seq_len)
            with st.expander("Throughput across batch sizes"):
                st.plotly_chart(charts.throughput_vs_batch(long), width="stretch", key="chart_tput")
        by_length = results_frame.to_length_frame(results)
        if not by_length.empty:
            with st.expander("Latency across sequence lengths", expanded=True):
                st.plotly_chart(
                    charts.latency_vs_length(by_length), width="stretch", key="chart_len"
                )

    roofline_section(results, run.get("environment"))
    serving_section(results)
    curve_results(run)  # the learning curve and long documents saved for it (issue 18)

    # ---- the table
    st.subheader("Every variant")
    grouping = st.segmented_control(
        "Group rows by",
        results_frame.GROUPINGS,
        default="run order",
        required=True,
        key="results_group",
        help="Runtime: every ONNX Runtime variant together, every compiled one... Technique: "
        "each chain beside the same chain on other runtimes (int8 next to int8@ort).",
    )
    table = results_frame.display_frame(results_frame.group_rows(frame, grouping or "run order"))
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config=_column_config(table),
    )
    st.caption(
        "Latency: milliseconds per batch (p50 = median, p90/p99 = slow tail). Throughput: items "
        "per second at p50. Speed-up: over fp32 at the same batch size, from rounds in which "
        "the variant and fp32 took turns in one process (95% interval beside it); runs "
        "without those rounds use fp32 p50 ÷ variant p50. "
        "Δ accuracy: percentage points against fp32 on the same eval examples. Agreement: "
        "share of examples where the variant predicts what fp32 predicts."
    )

    # ---- where the numbers come from
    left, right = st.columns(2, gap="large")
    with left:
        _environment(run)
    with right:
        _baseline(run)
    with st.expander("Run spec (JSON)"):
        st.json(run.get("spec") or {}, expanded=False)

    # ---- downloads
    doc = store.run_document(run_id)
    name = f"leanbench-{run_id}"
    d1, d2, _ = st.columns([1, 1, 3])
    d1.download_button(
        "Download CSV",
        safe_csv(results_frame.to_frame(results)).encode(),  # no formula runs in a spreadsheet
        file_name=f"{name}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="dl_csv",
    )
    d2.download_button(
        "Download JSON",
        json.dumps(doc, indent=2, default=str).encode(),
        file_name=f"{name}.json",
        mime="application/json",
        icon=":material/download:",
        key="dl_json",
    )


def _empty_state() -> None:
    with st.container(border=True):
        st.markdown("### No results yet — run the default benchmark")
        st.write(
            "It fine-tunes the built-in model on movie reviews and measures fp32, half and int8 "
            "on this machine, in a few minutes. Or set up your own model and data first."
        )
        if st.button(
            "Run the default benchmark",
            type="primary",
            icon=":material/rocket_launch:",
            key="results_default_run",
            disabled=not can("start_run"),
            help=why_not("start_run"),
        ):
            st.session_state["results_run_id"] = start_default_run()
            st.switch_page(RUN)
        if not can("start_run"):
            st.caption(f":material/lock: {why_not('start_run')}")
        st.page_link(MODEL_DATA, label="Choose a model and data", icon=":material/dataset:")


def _headline_metrics(frame: pd.DataFrame, bs: int | None) -> None:
    """One card per variant: p50 latency at the largest batch, speed-up, accuracy change."""
    cards = summary.headline_cards(frame, bs)
    for col, c in zip(st.columns(len(cards)) if cards else [], cards, strict=False):
        col.metric(
            c["variant"],
            c["value"],
            c["badge"],
            delta_color=c["color"],
            delta_arrow=c["arrow"],
            delta_description=c["description"],
            help=c["help"],
            border=True,
            height="stretch",
        )


def _column_config(table: pd.DataFrame) -> dict:
    cfg: dict = {}
    for col in table.columns:
        how = summary.column_format(col)
        if how and "width" in how:
            cfg[col] = st.column_config.TextColumn(col, **how)
        elif how:
            cfg[col] = st.column_config.NumberColumn(col, **how)
    return cfg


def _environment(run: dict) -> None:
    st.subheader("Where it was measured")
    rows = summary.environment_facts(run, when(run.get("created_at")))
    if not rows:
        st.caption("No environment recorded (the run did not get that far).")
        return
    st.markdown(summary.facts_markdown(rows))


def _baseline(run: dict) -> None:
    st.subheader("The baseline")
    adapted, rows = summary.baseline_facts(run, run_title(run))
    if not rows:
        st.caption("No baseline facts recorded.")
        return
    st.write(adapted)
    st.markdown(summary.facts_markdown(rows))


def _noise_and_expectations(results: list[dict]) -> None:
    """How sure the accuracy is, and whether each variant did what this hardware predicts."""
    noise = summary.noise_caption(results)
    if noise:
        st.caption(noise)
    advice = summary.runtime_advice(results)
    if advice:
        with st.expander("Fastest way to serve each technique here", icon=":material/bolt:"):
            for sentence in advice:
                st.markdown(f"- {sentence}")
    checks = summary.expectation_checks(results)
    if checks:
        with st.expander("Did this hardware behave as expected?", icon=":material/fact_check:"):
            for agrees, variant, text in checks:
                mark = {True: ":material/check_circle:", False: ":material/error:"}.get(
                    agrees, ":material/help:"
                )
                st.markdown(f"{mark} **{variant}**: {text}")


guarded(main)

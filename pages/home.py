"""Home: what Leanbench answers, one button for the default benchmark, the latest answer."""

from __future__ import annotations

import streamlit as st

from lib.errors import UserError
from lib.execution.jobs import RunAlreadyActive, identical_active_run
from lib.execution.runs import ACTIVE, active_run, run_title, when
from lib.spec import RunSpec, default_spec_dict
from pages._ui import (
    MODEL_DATA,
    RESULTS,
    RUN,
    TECHNIQUES,
    can,
    get_store,
    guarded,
    link,
    md,
    network_notice,
    reap,
    start_default_run,
    why_not,
)


def main() -> None:
    st.title("Leanbench")
    st.markdown(
        "#### Make a model smaller or faster — and see what you lose in accuracy and gain in "
        "speed, side by side."
    )
    st.caption(
        "Pick a pretrained model, pick techniques (half precision, int8, ...), run a benchmark "
        "on this machine, and compare accuracy, latency, throughput and memory of every variant."
    )
    network_notice()

    store = get_store()
    reap(store)
    running = active_run(store)
    busy = _busy(store)

    left, right = st.columns([3, 2], gap="large")
    with left:
        with st.container(border=True):
            st.markdown("**Try it in one click**")
            st.write(
                "The default benchmark fine-tunes the built-in MiniLM model on Rotten Tomatoes "
                "reviews, then measures it as **fp32**, **half** and **int8**. It takes a few "
                "minutes on a laptop and needs no internet."
            )
            if busy or running:
                shown = busy or running
                st.info(
                    f"A run is in progress: **{md(run_title(shown))}** "
                    f"({float(shown.get('progress') or 0.0) * 100:.0f}%)"
                    + (
                        ": see Results for the variants measured so far. The button is back "
                        "when it has finished."
                        if busy
                        else "; a new one waits for it to finish."
                    ),
                    icon=":material/autorenew:",
                )
                c1, c2 = st.columns(2)
                with c1:
                    link(RESULTS, "See its results so far", ":material/bar_chart:")
                with c2:
                    link(RUN, "Watch its progress", ":material/play_circle:")
            if st.button(
                "Run the default benchmark",
                type="primary",
                icon=":material/rocket_launch:",
                key="home_default_run",
                disabled=busy is not None or not can("start_run"),
                help=why_not("start_run"),
            ):
                try:
                    run_id = start_default_run()
                except RunAlreadyActive as exc:
                    st.session_state["run_id"] = exc.run_id
                    st.error(str(exc), icon=":material/block:")
                except UserError as exc:  # a viewer, or the queue is full
                    st.error(str(exc), icon=":material/block:")
                else:
                    st.session_state["results_run_id"] = run_id
                    st.switch_page(RUN)
            if not can("start_run"):
                st.caption(f":material/lock: {why_not('start_run')}")

        st.markdown("**Or set up your own, step by step**")
        steps = [
            (
                MODEL_DATA,
                "1 · Model & data",
                ":material/dataset:",
                "Built-in, a local folder or a Hugging Face id; a built-in dataset or your CSV.",
            ),
            (
                TECHNIQUES,
                "2 · Techniques",
                ":material/tune:",
                "What to try, explained in plain words, and how to measure.",
            ),
            (
                RUN,
                "3 · Run",
                ":material/play_circle:",
                "Runs in the background: switch pages or close the tab freely.",
            ),
            (
                RESULTS,
                "4 · Results",
                ":material/bar_chart:",
                "Table, charts, a one-line verdict and downloads.",
            ),
        ]
        for row in (steps[:2], steps[2:]):
            for col, (page, label, icon, text) in zip(st.columns(2), row, strict=True):
                with col:
                    st.page_link(page, label=label, icon=icon)
                    st.caption(text)

    with right:
        _latest(store)


def _busy(store) -> dict | None:
    """The run that keeps the button off: this session's run while it is queued or running, or
    a live run of the default benchmark started elsewhere (another tab, before a reload)."""
    run_id = st.session_state.get("run_id")
    mine = store.get_run(run_id) if run_id else None
    if mine is not None and mine["status"] in ACTIVE:
        return mine
    return identical_active_run(RunSpec.from_dict(default_spec_dict()), store)


def _latest(store) -> None:
    from lib.results import frame as results_frame

    done = next((r for r in store.list_runs(limit=50) if r["status"] == "done"), None)
    with st.container(border=True):
        st.markdown("**Latest result**")
        if done is None:
            st.caption("No finished run yet. Press *Run the default benchmark* to get one.")
            return
        frame = results_frame.to_frame(store.results_for(done["id"]))
        st.markdown(f"#### {results_frame.summary_sentence(frame)}")
        st.caption(
            md(f"{run_title(done)} · {when(done.get('created_at'))} · {done.get('hardware') or ''}")
        )
        if st.button("Open these results", icon=":material/bar_chart:", key="home_open_latest"):
            st.session_state["results_run_id"] = done["id"]
            st.switch_page(RESULTS)


guarded(main)

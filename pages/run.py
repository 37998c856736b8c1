"""Run: start the benchmark in a background worker and watch it, step by step.

The worker is a detached process (lib.execution.jobs): reloading the browser, switching pages or closing
the tab does not touch it. This page only reads the store, every 2 seconds while a run is live.
"""

from __future__ import annotations

import logging
import traceback

import pandas as pd
import streamlit as st

from lib.access import limits
from lib.access.redact import redact
from lib.datasets import check_spec_size
from lib.errors import UserError
from lib.execution import jobs
from lib.execution.runs import ACTIVE, active_run, run_label, run_title, runs_table, when
from lib.results import progress as run_progress
from lib.schema import FINISHED
from lib.spec import default_spec_dict, spec_lines
from pages._serving import load_test_controls
from pages._ui import (
    MODEL_DATA,
    RESULTS,
    STATUS_ICON,
    TECHNIQUES,
    can,
    draft,
    draft_spec,
    get_store,
    guarded,
    link,
    md,
    one_line,
    problems,
    reap,
    reset_draft,
    start_run,
    why_not,
)

log = logging.getLogger("leanbench.pages")

PROBLEM_PAGE = {
    "model": MODEL_DATA,
    "dataset": MODEL_DATA,
    "variants": TECHNIQUES,
    "batch_sizes": TECHNIQUES,
    "measure": TECHNIQUES,
}


def main() -> None:
    st.title("Run")
    store = get_store()
    reap(store)

    run_id = _current_run_id(store)  # before the button: it is off while this run is live
    left, right = st.columns([3, 2], gap="large")
    with left:
        _setup(store, _live_run(store, run_id))
    with right:
        _recent(store)

    st.divider()
    if run_id is None:
        st.info("No run yet. Press the button above to start one.", icon=":material/rocket_launch:")
        return
    run = store.get_run(run_id)
    if run is None:
        st.session_state.pop("run_id", None)
        st.warning("That run is not in this store any more.")
        return
    live = run["status"] in ACTIVE
    st.fragment(run_every=2 if live else None)(_watch)(run_id, live)
    if not live and run["status"] in FINISHED:
        if store.results_for(run_id):
            if st.button(
                "Open the results",
                type="primary" if run["status"] == "done" else "secondary",
                icon=":material/bar_chart:",
                key="run_open_results",
            ):
                st.session_state["results_run_id"] = run_id
                st.switch_page(RESULTS)


def _live_run(store, run_id: str | None) -> dict | None:
    """This session's run (started here or watched) while it is queued or running."""
    run = store.get_run(run_id) if run_id else None
    return run if run is not None and run["status"] in ACTIVE else None


def _start(spec) -> None:
    """The Start button's callback: it runs before the page is drawn again, so the button is
    already off (this run is live) when the page shows. A refused start is said on the page."""
    try:
        run_id = start_run(spec)
    except jobs.RunAlreadyActive as exc:
        st.session_state["run_id"] = exc.run_id  # watch the one already going
        st.session_state["run_start_refused"] = str(exc)
        return
    except UserError as exc:
        st.session_state["run_start_refused"] = str(exc)
        return
    except Exception as exc:  # noqa: BLE001 - a callback's error would be a traceback
        log.error("starting a run failed\n%s", traceback.format_exc())
        st.session_state["run_start_refused"] = (
            f"The run could not be started: {one_line(exc)}. Your settings are kept; try again."
        )
        return
    st.session_state["results_run_id"] = run_id  # Results opens with it, results so far
    st.session_state["run_started"] = run_id


def _setup(store, mine: dict | None) -> None:
    st.subheader("What will run")
    lines = st.container()
    load_test_controls()  # before the lines are written, so they show its latest choice
    d = draft()
    is_default = d == default_spec_dict()
    lines.markdown(
        "  \n".join(
            f"**{label}:** {md(value)}"
            for label, value in spec_lines(d, st.session_state.get("upload_name"))
        )
    )
    spec, blockers = None, []
    for section, message in problems().items():
        blockers.append((message, PROBLEM_PAGE.get(section, MODEL_DATA)))
    if not blockers:
        try:
            spec = draft_spec()
            _check_model(spec.model)
            check_spec_size(spec.dataset)  # too few examples to evaluate on: Model & data
        except UserError as exc:
            spec = None
            blockers.append((str(exc), MODEL_DATA))
    for message, page in blockers:
        st.error(message, icon=":material/warning:")
        st.page_link(page, label="Fix it", icon=":material/edit:")

    running = active_run(store)
    same = None if spec is None or mine else jobs.identical_active_run(spec, store)
    live, cap = len(jobs.live_runs(store)), limits.max_queued()
    full = live >= cap
    c1, c2 = st.columns([2, 1])
    label = "Run the default benchmark" if is_default else "Start benchmark"
    c1.button(
        label,
        type="primary",
        icon=":material/rocket_launch:",
        disabled=spec is None
        or mine is not None
        or same is not None
        or full
        or not can("start_run"),
        key="run_start",
        width="stretch",
        on_click=_start,
        args=(spec,),
        help=why_not("start_run"),
    )
    if not can("start_run"):
        st.caption(f":material/lock: {why_not('start_run')}")
    st.caption(
        f":material/queue: Queue: {live} of at most {cap} run{'s' if cap != 1 else ''} queued or "
        f"running ({limits.MAX_QUEUED_ENV})."
        + (" It is full: a new run can start when one has finished." if full else "")
    )
    started = st.session_state.pop("run_started", None)
    if started:
        st.toast(f"Started run {started}", icon=":material/rocket_launch:")
    refused = st.session_state.pop("run_start_refused", None)
    if refused:
        st.error(refused, icon=":material/block:")
    busy = mine or same
    if busy is not None:
        st.info(
            f"A run is in progress: **{md(run_title(busy))}** ({busy['status']}, "
            f"{float(busy.get('progress') or 0.0) * 100:.0f}%). See Results for the variants "
            "measured so far; a new run can start when it has finished."
            + (
                ""
                if mine
                else " It has the same settings as this one, so starting it again would only "
                "queue a duplicate."
            ),
            icon=":material/autorenew:",
        )
        link(RESULTS, "See its results so far", ":material/bar_chart:")
    if not is_default and c2.button(
        "Back to defaults", icon=":material/restart_alt:", key="run_reset", width="stretch"
    ):
        reset_draft()
        st.rerun()
    if running and busy is None:
        st.caption(
            "Another run is in progress: a new one waits for it to finish, so timings on this "
            "machine do not disturb each other."
        )
    st.caption(
        "The benchmark runs in a background process: you can switch pages, reload or close "
        "the tab, and come back."
    )


def _check_model(model_spec) -> None:
    """Fast local checks (folder exists and is a model); no network."""
    from lib.models import load as models

    models.resolve(model_spec)


def _current_run_id(store) -> str | None:
    """The run this session watches: the one it started or picked, else the live one, else the
    newest. Survives a reload through the store, not only the session."""
    ids = [r["id"] for r in store.list_runs(limit=30)]
    current = st.session_state.get("run_id")
    if current not in ids:
        live = active_run(store)
        current = live["id"] if live else (ids[0] if ids else None)
    st.session_state["run_id"] = current
    return current


def _picked() -> None:
    st.session_state["run_id"] = st.session_state.get("run_watch")


def _recent(store) -> None:
    st.subheader("Recent runs")
    runs = store.list_runs(limit=30)
    if not runs:
        st.caption("None yet.")
        return
    by_id = {r["id"]: r for r in runs}
    st.session_state["run_watch"] = _current_run_id(store)
    st.selectbox(
        "Watch",
        list(by_id),
        format_func=lambda i: run_label(by_id[i]),
        key="run_watch",
        on_change=_picked,
        label_visibility="collapsed",
    )
    st.dataframe(
        runs_table(runs[:10]).drop(columns=["Id", "Hardware"]),
        hide_index=True,
        width="stretch",
        column_config={
            "Progress": st.column_config.ProgressColumn(
                "Progress", min_value=0.0, max_value=1.0, format="percent"
            ),
            "Message": st.column_config.TextColumn("Message", width="medium"),
        },
    )


def _watch(run_id: str, was_live: bool) -> None:
    try:
        _watch_body(run_id, was_live)
    except UserError as exc:
        st.error(str(exc))
    except Exception as exc:  # noqa: BLE001 - polling must never crash the page
        st.error(f"Could not read the run's progress: {one_line(exc)}. Retrying…")


def _watch_body(run_id: str, was_live: bool) -> None:
    from lib.results import frame as results_frame

    store = get_store()
    run = store.get_run(run_id)
    if run is None:
        st.warning("This run is not in the store.")
        return
    status = run["status"]
    if was_live and status not in ACTIVE:
        st.rerun()  # the run just ended: redraw the whole page once, then stop polling
    events = store.events_for(run_id, limit=200)
    results = store.results_for(run_id)

    st.subheader(f"{STATUS_ICON.get(status, '')} {md(run_title(run))}")
    meta = [f"run {run_id}", f"started {when(run.get('created_at'))}"]
    if run.get("hardware"):
        meta.append(run["hardware"])
    st.caption(" · ".join(meta))

    progress = float(run.get("progress") or 0.0)
    message = md(run.get("message") or status)
    if status == "queued":
        waiting = any(e["stage"] == "queued" for e in events)
        st.info(
            "Waiting for another run on this machine to finish: runs take turns so their "
            "timings don't disturb each other."
            if waiting
            else "Starting the worker…",
            icon=":material/hourglass_top:",
        )
    elif status == "running":
        st.progress(min(max(progress, 0.0), 1.0), text=f"{progress * 100:.0f}% · {message}")
    elif status == "done":
        st.success(f"Finished: {message}.", icon=":material/check_circle:")
    elif status == "interrupted":
        st.warning(f"Interrupted: {message}.", icon=":material/warning:")
    elif status == "failed":
        st.error(f"The run failed: {message}", icon=":material/error:")
        _log_tail(run_id)

    spec = run.get("spec") or {}
    st.markdown("**Steps**")
    st.dataframe(
        pd.DataFrame(run_progress.steps(spec, events, results, status)),
        hide_index=True,
        width="stretch",
        column_config={"Step": st.column_config.TextColumn(width="medium")},
    )

    if results:
        frame = results_frame.to_frame(results)
        ok = results_frame.ok_rows(frame)
        if not ok.empty:
            st.markdown("**Results so far**" if status in ACTIVE else "**Results**")
            table = run_progress.results_so_far(ok)
            st.dataframe(
                table,
                hide_index=True,
                width="stretch",
                column_config={
                    c: st.column_config.NumberColumn(c, format=run_progress.number_format(c))
                    for c in table.columns
                    if c != "Variant"
                },
            )
        for _, r in frame[frame["status"] != "ok"].iterrows():
            st.error(
                f"**{md(r['variant'])}** failed: {md(r['error'] or 'no reason given')}",
                icon=":material/error:",
            )

    if events:
        with st.expander("Latest events"):
            for e in events[-12:][::-1]:
                st.caption(md(f"{when(e['at'])[-5:]} · {e['stage']} · {e['message']}"))


def _log_tail(run_id: str) -> None:
    from lib.paths import user_dir

    path = user_dir() / "logs" / f"{run_id}.log"
    if path.exists():
        lines = path.read_text(errors="replace").splitlines()[-25:]
        if lines:
            with st.expander("Worker log (last lines)"):
                st.code(redact("\n".join(lines)), language=None)


guarded(main)

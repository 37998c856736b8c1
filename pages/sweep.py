"""Sweep: the matrix of models x datasets x machine kinds, run on a Ray cluster (or this
machine), with its progress per node.

A thin page: the draft run (Model & data, Techniques) gives the variants and the measurement;
this page adds the models, datasets and machine kinds (``lib.sweep.spec.from_page``), starts
``python -m lib sweep`` detached (``lib.sweep.background``) and polls the store
(``lib.sweep.progress``). The cluster's address is in Settings (sidebar).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lib.errors import UserError
from lib.spec import BUILTIN_DATASETS, BUILTIN_MODEL
from lib.sweep import background, progress
from lib.sweep.spec import LABEL_KEY, from_page
from pages._ui import (
    COMPARE,
    draft,
    draft_spec,
    get_store,
    guarded,
    link,
    require,
    store_url,
    why_not,
)

PROGRESS = st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent")


def _form(address: str) -> None:
    d = draft()
    st.subheader("The matrix")
    models = st.text_area(
        "Models (one per line: minilm-l6, a folder, a Hugging Face id)",
        value=d["model"]["source"] or BUILTIN_MODEL,
        key="sw_models",
        height=80,
    )
    own = d["dataset"]["source"]
    options = list(dict.fromkeys([own, *BUILTIN_DATASETS]))
    datasets = st.multiselect(
        "Datasets", options, default=[own], key="sw_datasets", help="Your file keeps its columns."
    )
    targets = st.text_input(
        "Machine kinds (comma-separated node labels)",
        key="sw_targets",
        placeholder="c7i, c6g, l4" if address else "empty: this machine",
        help=f"A node started with `ray start --labels {LABEL_KEY}=c7i` serves the kind c7i. "
        "A GPU's accelerator type (L4) works too.",
    )
    st.caption(
        f"Variants and measurement as on the Techniques page: {', '.join(d['variants'])}; "
        f"batch sizes {', '.join(map(str, d['measure']['batch_sizes']))}."
    )
    where = f"the cluster at `{address}`" if address else "this machine (a local Ray instance)"
    st.caption(f"Runs on {where}; set the cluster's address in Settings (sidebar).")
    try:
        sweep = from_page(draft_spec(), models, datasets, targets)
    except UserError as exc:
        st.error(str(exc), icon=":material/warning:")
        return
    n = len(sweep.models) * len(sweep.datasets) * len(sweep.machine_kinds)
    reason = why_not("sweep")
    if reason:
        st.caption(reason)
    if st.button(
        f"Start the sweep ({n} runs)",
        type="primary",
        icon=":material/hub:",
        disabled=reason is not None,
        help=reason,
        key="sweep_start",
    ):
        require("sweep")  # a viewer's click that got through anyway
        started = background.start_background(sweep, store_url(), address or None)
        st.session_state["sweep_log"] = str(started.log_file)
        st.toast(f"Sweep started (process {started.pid})", icon=":material/hub:")


def _watch() -> None:
    store = get_store()
    sweeps = store.list_sweeps(limit=20)
    if not sweeps:
        st.info("No sweep yet.", icon=":material/info:")
        return
    by_id = {s["id"]: s for s in sweeps}
    sid = st.selectbox(
        "Sweep",
        list(by_id),
        format_func=lambda i: f"{by_id[i]['name'] or i} · {by_id[i]['status']} · {i}",
        key="sw_pick",
    )
    st.fragment(run_every=3 if not progress.is_finished(by_id[sid]) else None)(_progress)(sid)


def _progress(sid: str) -> None:
    store = get_store()
    sweep = store.get_sweep(sid)
    if sweep is None:
        return
    rows = store.sweep_runs_for(sid)
    runs = {r["run_id"]: store.get_run(r["run_id"]) or {} for r in rows if r.get("run_id")}
    runs |= {
        a["run_id"]: store.get_run(a["run_id"]) or {}
        for r in rows
        for a in r.get("history") or []
        if a.get("run_id") and a["run_id"] not in runs
    }
    st.markdown(f"**{progress.counts_line(store.sweep_counts(sid))}** · {sweep['status']}")
    st.caption(sweep["message"])
    st.markdown("**Per node**")
    st.dataframe(
        progress.node_progress(rows, runs),
        hide_index=True,
        width="stretch",
        column_config={"Progress": PROGRESS},
    )
    st.markdown("**Per run**")
    st.dataframe(
        progress.runs_frame(rows, runs),
        hide_index=True,
        width="stretch",
        column_config={"Progress": PROGRESS},
    )
    log = st.session_state.get("sweep_log")
    if log:
        with st.expander("The driver's log (last lines)"):
            st.code(background.log_tail(Path(log)) or "(empty)", language=None)


def main() -> None:
    st.title("Sweep")
    st.caption(
        "Every variant on every model, dataset and kind of machine you might serve on, each run "
        "holding one Ray node whole, every result in the shared store. Compare pivots by machine; "
        "Cost prices a machine kind from what was measured on it."
    )
    address = str(st.session_state.get("ray_address") or "").strip()
    left, right = st.columns([2, 3], gap="large")
    with left:
        _form(address)
    with right:
        st.subheader("Progress")
        _watch()
        link(COMPARE, "Compare across machines", ":material/compare_arrows:")


guarded(main)

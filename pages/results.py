"""Results: one stored run — the verdict in a sentence, the table, the charts, the downloads."""

from __future__ import annotations

import json
import math

import pandas as pd
import streamlit as st

from pages._common import (
    MODEL_DATA,
    RUN,
    get_store,
    guarded,
    run_label,
    run_title,
    start_default_run,
    when,
)

FINISHED = ("done", "failed", "interrupted")


def main() -> None:
    from lib.results import charts
    from lib.results import frame as results_frame

    st.title("Results")
    store = get_store()
    runs = store.list_runs(limit=200)
    if not runs:
        _empty_state()
        return

    by_id = {r["id"]: r for r in runs}
    wanted = st.session_state.get("results_run_id")
    if wanted not in by_id:
        wanted = next((r["id"] for r in runs if r["status"] == "done"), runs[0]["id"])
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
    run = by_id[wanted]
    results = store.results_for(wanted)
    if not results:
        if run["status"] in ("queued", "running"):
            st.info("This run has no results yet; it is still going.", icon=":material/autorenew:")
            st.page_link(RUN, label="Watch it on the Run page", icon=":material/play_circle:")
        else:
            st.warning(
                f"This run produced no results ({run['status']}: {run.get('message') or '–'}).",
                icon=":material/warning:",
            )
        return

    frame = results_frame.to_frame(results)
    sizes = results_frame.frame_batch_sizes(frame)
    ok = results_frame.ok_rows(frame)
    if run["status"] in ("queued", "running"):
        st.info(
            "This run is still going: these are the results so far.", icon=":material/autorenew:"
        )

    # ---- the verdict
    big = sizes[-1] if sizes else None
    st.markdown(f"### {results_frame.summary_sentence(frame, big)}")
    _headline_metrics(frame, big)
    for _, r in frame[frame["status"] != "ok"].iterrows():
        st.error(
            f"**{r['variant']}** failed: {r['error'] or 'no reason given'}", icon=":material/error:"
        )
    unstable = [r["variant"] for _, r in ok.iterrows() if r.get("unstable") is True]
    if unstable:
        st.warning(
            f"Timing of {', '.join(unstable)} was unstable (other work on the machine?): "
            "treat their latency with care, or run again.",
            icon=":material/show_chart:",
        )

    _noise_and_expectations(results)

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
    doc = store.run_document(wanted)
    name = f"leanbench-{wanted}"
    d1, d2, _ = st.columns([1, 1, 3])
    d1.download_button(
        "Download CSV",
        results_frame.to_frame(results).to_csv(index=False).encode(),
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
        ):
            start_default_run()
            st.switch_page(RUN)
        st.page_link(MODEL_DATA, label="Choose a model and data", icon=":material/dataset:")


def _headline_metrics(frame: pd.DataFrame, bs: int | None) -> None:
    """One card per variant: p50 latency at the largest batch, speed-up, accuracy change."""
    from lib.results.frame import BASELINE, ok_rows

    ok = ok_rows(frame)
    if ok.empty or bs is None or f"p50_ms_b{bs}" not in ok.columns:
        return
    shown = ok.head(5)
    for col, (_, r) in zip(st.columns(len(shown)), shown.iterrows(), strict=False):
        p50 = r[f"p50_ms_b{bs}"]
        speed = r.get(f"speedup_vs_fp32_b{bs}", math.nan)
        delta = r.get("accuracy_delta_pts", math.nan)
        acc = f"accuracy {r['accuracy'] * 100:.1f}%"
        if r["variant"] == BASELINE:
            badge, color, arrow = "baseline", "gray", "off"
        elif math.isnan(speed):
            badge, color, arrow = "no baseline", "gray", "off"
        elif speed >= 1:
            badge, color, arrow = f"{speed:.2f}× faster", "green", "up"
        else:
            badge, color, arrow = f"{1 / speed:.2f}× slower", "red", "down"
        if r["variant"] != BASELINE and not math.isnan(delta):
            acc += f" ({delta:+.1f} pts)"
        low, high = r.get(f"speedup_low_b{bs}", math.nan), r.get(f"speedup_high_b{bs}", math.nan)
        paired = (
            ""
            if math.isnan(low) or math.isnan(high)
            else f" Speed-up 95% CI {low:.2f}–{high:.2f}x, from rounds timed in turns with fp32."
        )
        col.metric(
            r["variant"],
            f"{p50:,.1f} ms" if not math.isnan(p50) else "–",
            badge,
            delta_color=color,
            delta_arrow=arrow,
            delta_description=acc,
            help=f"Median (p50) latency of one batch of {bs}, and accuracy on the eval set."
            + paired,
            border=True,
            height="stretch",
        )


def _column_config(table: pd.DataFrame) -> dict:
    cfg: dict = {}
    for col in table.columns:
        if col.endswith("(ms)"):
            cfg[col] = st.column_config.NumberColumn(col, format="%.2f")
        elif col.endswith("(items/s)"):
            cfg[col] = st.column_config.NumberColumn(col, format="%.0f")
        elif col.endswith("(×)"):
            cfg[col] = st.column_config.NumberColumn(col, format="%.2f×")
        elif col.endswith("(%)") or col.endswith("(MB)") or col.endswith("(pts)"):
            cfg[col] = st.column_config.NumberColumn(
                col, format="%+.1f" if col.endswith("(pts)") else "%.1f"
            )
        elif col == "Params (M)":
            cfg[col] = st.column_config.NumberColumn(col, format="%.1f")
        elif col == "p-value vs fp32":
            cfg[col] = st.column_config.NumberColumn(col, format="%.3f")
        elif col == "Notes":
            cfg[col] = st.column_config.TextColumn(col, width="large")
    return cfg


def _environment(run: dict) -> None:
    env = run.get("environment") or {}
    st.subheader("Where it was measured")
    if not env:
        st.caption("No environment recorded (the run did not get that far).")
        return
    rows = [
        ("Hardware", run.get("hardware") or ""),
        ("CPU", env.get("cpu_model")),
        ("CPU features", ", ".join(env.get("cpu_flags") or []) or "none of AVX512/VNNI/AMX"),
        ("Cores (usable)", f"{env.get('cores')} ({env.get('usable_cores')})"),
        ("Threads", env.get("threads")),
        ("Device", env.get("device")),
        ("GPU", env.get("gpu_name")),
        ("torch / transformers", f"{env.get('torch')} / {env.get('transformers')}"),
        ("onnxruntime", env.get("onnxruntime")),
        ("Python / OS", f"{env.get('python')} / {env.get('os')}"),
        ("Date", env.get("date") or when(run.get("created_at"))),
        ("Code commit", env.get("git_commit")),
        ("Host", env.get("hostname")),
    ]
    _facts(rows)


def _baseline(run: dict) -> None:
    extra = run.get("extra") or {}
    st.subheader("The baseline")
    if not extra:
        st.caption("No baseline facts recorded.")
        return
    if extra.get("adapted"):
        how = (
            "reused from the cache"
            if extra.get("adapt_cached")
            else f"fine-tuned in {extra.get('adapt_seconds') or 0:.0f} s"
        )
        adapted = f"A new classification head was {how} ({extra.get('adapt_steps') or '–'} steps)."
    else:
        adapted = "The model's own classification head matched the labels: used as it is."
    st.write(adapted)
    labels = extra.get("labels") or []
    rows = [
        ("Training examples", extra.get("n_train")),
        ("Evaluation examples", extra.get("n_eval")),
        ("Classes", ", ".join(map(str, labels[:12])) + (" …" if len(labels) > 12 else "")),
        ("Run", f"{run_title(run)} · {run['id']} · {run['status']}"),
    ]
    _facts(rows)


def _facts(rows: list[tuple[str, object]]) -> None:
    """Label: value lines, skipping what was not recorded."""
    lines = []
    for k, v in rows:
        if v in (None, "", "None") or str(v).strip() in ("None / None", "None (None)"):
            continue
        lines.append(f"**{k}:** {v}")
    st.markdown("  \n".join(lines))


def _noise_and_expectations(results: list[dict]) -> None:
    """How sure the accuracy is, and whether each variant did what this hardware predicts."""
    from lib.measure.stats import noise_text

    base = next(
        (r for r in results if r.get("variant") == "fp32" and r.get("status") == "ok"), None
    )
    if base and base.get("n_eval") and base.get("accuracy") is not None:
        st.caption(
            f"Accuracy noise on this eval set: {noise_text(int(base['n_eval']), base['accuracy'])}. "
            "A difference is called significant only when the paired McNemar test against fp32 "
            "gives p < 0.05."
        )
    from lib.results.advice import fastest_runtimes

    advice = [a for a in fastest_runtimes(results) if len(a["runtimes_compared"]) > 1]
    if advice:
        with st.expander("Fastest way to serve each technique here", icon=":material/bolt:"):
            for a in advice:
                st.markdown(f"- {a['sentence']}")
    checks = [
        (r["variant"], r["expectation_check"])
        for r in results
        if isinstance(r.get("expectation_check"), dict) and r["expectation_check"].get("text")
    ]
    if checks:
        with st.expander("Did this hardware behave as expected?", icon=":material/fact_check:"):
            for variant, check in checks:
                mark = {True: ":material/check_circle:", False: ":material/error:"}.get(
                    check.get("agrees"), ":material/help:"
                )
                st.markdown(f"{mark} **{variant}**: {check['text']}")


guarded(main)

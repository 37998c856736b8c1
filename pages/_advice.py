"""What to ship on this machine, and how close it runs to the hardware's limit, on the pages.

- ``budget_section(runs, key)``, on Results and Compare: the fastest variant within the user's
  accuracy budget (points below fp32), across every technique and runtime of each run
  (``lib.results.advice.best_within_budget``), one answer per run and batch size.
- ``roofline_section(results, env)``, on Results: each CPU variant's achieved GFLOP/s (GOP/s for
  int8) against the cores' peak for its precision (``lib.measure.roofline``).

Widgets only: the answers, frames and figures come from ``lib``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from pages._ui import md

BUDGET_HELP = (
    "How many accuracy points below fp32 (served by plain PyTorch, on the same eval examples) "
    "you accept. The answer is the variant with the lowest median latency among those within "
    "it, across every technique and runtime measured."
)


def budget_controls(key: str) -> tuple[float, bool]:
    """The accuracy budget (points) and whether only full-size variants count."""
    from lib.results.advice import DEFAULT_BUDGET_POINTS

    left, right = st.columns([1, 2], vertical_alignment="bottom")
    budget = left.number_input(
        "Accuracy budget (points below fp32)",
        min_value=0.0,
        max_value=50.0,
        value=DEFAULT_BUDGET_POINTS,
        step=0.5,
        key=f"{key}_budget",
        help=BUDGET_HELP,
    )
    full = right.toggle(
        "Full-size only (no pruning, distillation or student)",
        key=f"{key}_full_size",
        help="Keep every weight of the model: only precision and runtime change.",
    )
    return float(budget), bool(full)


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Batch": r["batch"],
                "Fastest within budget": r["variant"],
                "p50 (ms)": r["p50_ms"],
                "× fp32": r["speedup_vs_fp32"],
                "Δ accuracy (pts)": r["accuracy_delta_points"],
                "% of peak": None if r["roofline_share"] is None else 100 * r["roofline_share"],
                "Qualified": r["within_budget"],
                "Next fastest": (r["runner_up"] or {}).get("variant"),
                "Faster but over budget": ", ".join(
                    f"{o['variant']} ({o['accuracy_delta_points']:+.1f})"
                    for o in r["faster_outside_budget"]
                ),
            }
            for r in rows
        ]
    )


COLUMNS = {
    "p50 (ms)": st.column_config.NumberColumn(format="%.1f"),
    "× fp32": st.column_config.NumberColumn(format="%.2f×"),
    "Δ accuracy (pts)": st.column_config.NumberColumn(format="%+.1f"),
    "% of peak": st.column_config.NumberColumn(format="%.0f%%"),
}


def budget_section(runs: list[tuple[str, list[dict]]], key: str) -> None:
    """``runs``: (label, result dicts) per run; the label is shown when there are several."""
    from lib.results.advice import best_within_budget

    st.subheader("The fastest that keeps its accuracy")
    budget, full = budget_controls(key)
    for label, results in runs:
        rows = best_within_budget(results, budget, full_size_only=full)
        if len(runs) > 1:
            st.markdown(f"**{md(label)}**")
        if not rows:
            st.info(
                "No answer: it needs fp32 with its accuracy measured, and a variant within the "
                "budget (fp32 itself always is).",
                icon=":material/info:",
            )
            continue
        st.success(rows[-1]["sentence"], icon=":material/bolt:")
        if len(rows) > 1:
            with st.expander("At every batch size"):
                st.dataframe(_table(rows), hide_index=True, width="stretch", column_config=COLUMNS)
    st.caption(
        "Fastest = lowest median (p50) latency at that batch size, measured in this run; the "
        "accuracy change is against fp32 on the same examples (a fraction of a point is often "
        "within the noise: see each variant's interval below)."
    )


def roofline_section(results: list[dict], env: dict | None) -> None:
    """Results: the roofline of each CPU variant at a chosen batch size, in an expander."""
    from lib.measure.roofline import roofline_frame
    from lib.results.roofline_charts import roofline_chart

    frame = roofline_frame(results, env)
    if frame.empty:
        return
    with st.expander("How close to the hardware's limit (roofline)"):
        sizes = sorted(frame["batch"].unique().tolist())
        batch = st.segmented_control(
            "Batch size for the roofline",
            sizes,
            default=sizes[-1],
            required=True,
            format_func=lambda b: f"batch {b}",
            key="results_roof_bs",
        )
        st.plotly_chart(
            roofline_chart(frame, int(batch or sizes[-1])), width="stretch", key="chart_roof"
        )
        notes = next((r.get("roofline") or {} for r in results if r.get("roofline")), {})
        st.caption(
            "Achieved = FLOPs per item × batch ÷ median latency; the peak is the cores' for "
            "the precision the variant computes in (fp32 FMA, bf16, int8 VNNI/AMX), from the "
            "CPU flags. An estimate, not a measurement of the peak: "
            + "; ".join(notes.get("assumptions") or ["see lib/measure/roofline.py"])
            + "."
        )

"""How close each variant came to what this CPU allows: a pure function of
``lib.measure.roofline.roofline_frame``'s DataFrame to a figure, for the Results page."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from lib.chart_style import (
    axis_title,
    bar_label_style,
    empty_figure,
    style_layout,
    variant_colors,
    variant_rank,
)

# "GOP/s" for integer maths (a multiply-add is 2 operations), "GFLOP/s" for float.
_UNIT = {"int8": "GOP/s"}


def unit_of(precision: str | None) -> str:
    return _UNIT.get(str(precision or ""), "GFLOP/s")


def roofline_chart(frame: pd.DataFrame, batch: int) -> go.Figure:
    """One horizontal bar per variant at ``batch``: achieved share of this CPU's peak for the
    precision it computed in, labelled with the achieved and peak rates; fastest-to-peak on top.

    ``frame`` has ``roofline_frame``'s columns. Rows without a share are left out; an empty
    figure says so when none is left."""
    rows = frame[(frame["batch"] == batch) & frame["share"].notna()] if not frame.empty else frame
    if rows.empty:
        return empty_figure(f"No roofline at batch {batch}: it is computed for CPU results")
    rows = rows.sort_values("share", ascending=True)  # plotly draws the first category lowest
    colors = variant_colors(rows["variant"])
    fig = go.Figure()
    for _, r in rows.iterrows():
        unit = unit_of(r["precision"])
        share = 100 * float(r["share"])
        vector = r.get("vector_share")
        vector_text = (
            f"<br>{100 * float(vector):.0f}% of the AVX-512 roof"
            if vector is not None and not (isinstance(vector, float) and math.isnan(vector))
            else ""
        )
        fig.add_trace(
            go.Bar(
                y=[r["variant"]],
                x=[share],
                orientation="h",
                name=r["variant"],
                legendrank=variant_rank(r["variant"]),
                marker_color=colors[r["variant"]],
                text=[
                    f"{r['achieved_gflops']:,.0f} of {r['peak_gflops']:,.0f} {unit} ({share:.0f}%)"
                ],
                **bar_label_style(len(rows)),
                hovertemplate=(
                    f"<b>{r['variant']}</b> at batch {batch}<br>"
                    f"{r['achieved_gflops']:,.1f} {unit} achieved, p50 {r['p50_ms']:.1f} ms<br>"
                    f"peak {r['peak_gflops']:,.0f} {unit} for {r['precision']} "
                    f"({r['units']}){vector_text}<extra></extra>"
                ),
                showlegend=False,
            )
        )
    top = max(100.0, float(rows["share"].max()) * 100)
    # room on the right for the outside labels ("1,234 of 5,678 GFLOP/s (22%)")
    fig.update_xaxes(
        range=[0, top * 1.6],
        title_text=axis_title("% of this CPU's peak for the precision"),
    )
    fig.add_vline(x=100, line_dash="dot", line_color="#9CA3AF")
    fig.update_layout(bargap=0.3)
    return style_layout(
        fig,
        f"How close to the hardware's limit, batch {batch}",
        "Achieved rate ÷ the cores' peak for each variant's precision",
        height=max(300, 120 + 34 * len(rows)),
    )

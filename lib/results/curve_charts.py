"""The learning curve chart: accuracy against labelled examples, log x, the target as a line.

A pure function of ``lib.results.curve.points_frame`` (one row per point: ``n_labels``, ``seed``,
``accuracy``, ``low``, ``high``), styled by ``lib.chart_style``.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from lib.chart_style import MUTED, SERIES_PALETTE, empty_figure, fmt_value, log_ticks, style_layout


def learning_curve_chart(points: pd.DataFrame, target: float | None = None) -> go.Figure:
    """Each point with its 95% interval (seeds side by side at the small sizes), the mean over
    seeds as a line, and the target accuracy as a dashed horizontal line."""
    if points.empty:
        return empty_figure("No point of the learning curve yet", "Accuracy vs labelled examples")
    df = points.sort_values(["n_labels", "seed"])
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=df["n_labels"],
            y=100 * df["accuracy"],
            mode="markers",
            name="each seed (95% interval)",
            marker=dict(size=7, color=SERIES_PALETTE[0], opacity=0.65),
            error_y=dict(
                type="data",
                symmetric=False,
                array=100 * (df["high"] - df["accuracy"]),
                arrayminus=100 * (df["accuracy"] - df["low"]),
                color=SERIES_PALETTE[0],
                thickness=1,
                width=3,
            ),
            hovertext=[
                f"<b>{n:,} labels</b>, seed {s}<br>accuracy {fmt_value(100 * a, '.1f')}% "
                f"({fmt_value(100 * lo, '.1f')}–{fmt_value(100 * hi, '.1f')}%)"
                for n, s, a, lo, hi in zip(
                    df["n_labels"], df["seed"], df["accuracy"], df["low"], df["high"], strict=True
                )
            ],
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    mean = df.groupby("n_labels", as_index=False)["accuracy"].mean()
    fig.add_trace(
        go.Scatter(
            x=mean["n_labels"],
            y=100 * mean["accuracy"],
            mode="lines+markers",
            name="mean over seeds",
            line=dict(color=SERIES_PALETTE[2], width=2.5),
            marker=dict(size=9),
            hovertext=[
                f"<b>{n:,} labels</b><br>mean accuracy {fmt_value(100 * a, '.1f')}%"
                for n, a in zip(mean["n_labels"], mean["accuracy"], strict=True)
            ],
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    subtitle = "Each point: a new head fine-tuned on that many labels · bars: 95% interval"
    if target is not None:
        fig.add_hline(
            y=100 * target,
            line=dict(color=SERIES_PALETTE[4], width=1.5, dash="dash"),
            annotation_text=f"target {100 * target:.0f}%",
            annotation_position="bottom right",
            annotation_font_color=MUTED,
        )
    fig.update_xaxes(
        title_text="Labelled examples (log scale)", **log_ticks(df["n_labels"], exact=True)
    )
    fig.update_yaxes(title_text="Accuracy (%)")
    return style_layout(fig, "Accuracy vs labelled examples", subtitle)

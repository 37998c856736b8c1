"""Charts of compared candidates: pure functions, DataFrame -> plotly Figure.

Frames come from ``lib.compare.frame.compare_frame``. Colours, fonts, the title block, the empty
figure and the metric descriptor come from ``lib.chart_style``.

- ``accuracy_latency_chart`` / ``accuracy_cost_chart``: accuracy against p95 or $ per 1M, the
  Pareto frontier bold (both drawn by ``frontier_chart``).
- ``grouped_bars(df, metric)``: one metric (``BAR_METRICS``), a group per variant.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from lib.chart_style import (
    SERIES_PALETTE,
    Metric,
    empty_figure,
    metric_table,
    ordered_colors,
    titled_layout,
    variant_color,
)
from lib.compare.analysis import measured_points, ok_candidates, pareto_frontier
from lib.errors import UserError
from lib.format import fmt_ms, fmt_usd, is_missing

SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "star", "hexagon", "x"]


def _layout(fig: go.Figure, title: str, subtitle: str = "", height: int = 460) -> go.Figure:
    return titled_layout(fig, title, subtitle, height=height, top=90)


# An empty compare chart is shorter than a full one: it says what is missing in the report too.
EMPTY_HEIGHT = 320


def _esc(text: Any) -> str:
    """Plotly renders titles, labels and hover text as HTML: escape what users typed."""
    return html.escape(str(text), quote=False)


def _short_place(place: str) -> str:
    """'NVIDIA H100 80GB HBM3' -> 'H100 80GB HBM3'; 'AMD EPYC 9B14 (2 threads)' -> 'EPYC 9B14 (2 threads)'."""
    for prefix in ("NVIDIA ", "AMD ", "Intel(R) Xeon(R) ", "Intel "):
        place = place.removeprefix(prefix)
    return place if len(place) <= 24 else place[:23] + "…"


def frontier_chart(
    df: pd.DataFrame,
    x: str,
    x_title: str,
    title: str,
    subtitle: str,
    log_x: bool = False,
    x_fmt: str = ".2f",
) -> go.Figure:
    """Accuracy (%) against ``x`` (lower is better): frontier points bold and joined, dominated
    ones faded. Colour = variant; marker shape = run."""
    data = df[df[x].notna() & df["accuracy"].notna()] if not df.empty else df
    if data.empty:
        return empty_figure("Nothing to plot: no candidate has both numbers", height=EMPTY_HEIGHT)
    front = pareto_frontier(data, x, "accuracy")
    # Point labels: the variant, plus where it runs when the chart holds more than one place.
    many = data["where"].nunique() > 1
    short = data["variant"].astype(str) + (
        " · " + data["where"].astype(str).map(_short_place) if many else ""
    )
    runs = list(dict.fromkeys(data["run_label"]))
    symbols = {r: SYMBOLS[i % len(SYMBOLS)] for i, r in enumerate(runs)}
    fig = go.Figure()
    for on_front in (False, True):
        part = data[front == on_front]
        for variant, g in part.groupby("variant", sort=False):
            hover = [
                f"<b>{_esc(r['candidate'])}</b><br>run: {_esc(r['run_label'])}<br>"
                f"accuracy {r['accuracy'] * 100:.1f}%"
                + (
                    f" ({r['accuracy_delta_pts']:+.1f} pts vs fp32)"
                    if not is_missing(r.get("accuracy_delta_pts"))
                    else ""
                )
                + f"<br>p95 {fmt_ms(r['p95_ms'])} ({_esc(r['p95_basis'])})"
                + (
                    f"<br>{fmt_usd(r['usd_per_million'])} per 1M ({r['cost_source']})"
                    if not is_missing(r.get("usd_per_million"))
                    else ""
                )
                + ("<br><i>on the frontier</i>" if on_front else "<br>dominated")
                for _, r in g.iterrows()
            ]
            fig.add_trace(
                go.Scatter(
                    x=g[x],
                    y=g["accuracy"] * 100,
                    mode="markers+text" if on_front else "markers",
                    name=_esc(variant),
                    legendgroup=_esc(variant),
                    showlegend=on_front or variant not in set(data[front]["variant"]),
                    text=[_esc(t) for t in short[g.index]] if on_front else None,
                    textposition="top right",
                    textfont=dict(size=11),
                    cliponaxis=False,
                    opacity=1.0 if on_front else 0.35,
                    marker=dict(
                        size=15 if on_front else 11,
                        color=variant_color(str(variant)),
                        symbol=[symbols[r] for r in g["run_label"]],
                        line=dict(width=1.5 if on_front else 0.5, color="white"),
                    ),
                    hovertext=hover,
                    hovertemplate="%{hovertext}<extra></extra>",
                )
            )
    line = data[front].sort_values(x)
    fig.add_trace(
        go.Scatter(
            x=line[x],
            y=line["accuracy"] * 100,
            mode="lines",
            name="Pareto frontier",
            line=dict(color="#111827", width=1.5, dash="dash", shape="hv"),
            hoverinfo="skip",
        )
    )
    acc = data["accuracy"] * 100
    pad = max((acc.max() - acc.min()) * 0.3, 1.0)
    fig.update_yaxes(title_text="Accuracy (%)", range=[max(acc.min() - pad, 0), acc.max() + pad])
    fig.update_xaxes(title_text=x_title, type="log" if log_x else "linear")
    if not log_x:
        xs = data[x].astype(float)
        span = max(xs.max() - xs.min(), xs.max() * 0.1, 1e-9)
        fig.update_xaxes(range=[max(0.0, xs.min() - span * 0.25), xs.max() + span * 0.25])
    _layout(fig, title, subtitle, height=500)
    fig.update_layout(
        legend=dict(orientation="h", yanchor="top", y=-0.2, x=0, xanchor="left"),
        margin=dict(b=110),
    )
    return fig


def accuracy_latency_chart(df: pd.DataFrame) -> go.Figure:
    """Accuracy vs p95 latency of every measured (run, variant); frontier highlighted."""
    pts = measured_points(df)
    b = int(pts["latency_batch"].iloc[0]) if not pts.empty else 1
    lat = pts["p95_ms"].dropna() if not pts.empty else pts
    log_x = len(lat) > 1 and lat.min() > 0 and lat.max() / lat.min() > 20
    return frontier_chart(
        pts,
        "p95_ms",
        f"p95 latency at batch {b} (ms{', log scale' if log_x else ''}; "
        "as measured on each run's hardware)",
        f"Accuracy vs p95 latency at batch {b}",
        "Up and left is better · bold: Pareto frontier · faded: beaten on both",
        log_x=bool(log_x),
    )


def accuracy_cost_chart(df: pd.DataFrame) -> go.Figure:
    """Accuracy vs $ per 1M inferences of every candidate; frontier highlighted."""
    ok = ok_candidates(df)
    if ok.empty or "usd_per_million" not in ok or ok["usd_per_million"].isna().all():
        return empty_figure("No prices yet: pick hardware options to cost", height=EMPTY_HEIGHT)
    return frontier_chart(
        ok,
        "usd_per_million",
        "$ per 1M inferences (log scale)",
        "Accuracy vs $ per 1M inferences",
        "Up and left is better · bold: Pareto frontier · faded: beaten on both",
        log_x=True,
    )


BAR_METRICS: dict[str, Metric] = metric_table(
    Metric("accuracy", "Accuracy", "%", scale=100),
    Metric("p95_ms", "p95 latency", "ms", higher_is_better=False, fmt=".2f"),
    Metric("throughput_per_s", "Throughput", "items/s", fmt=",.0f"),
    Metric("size_mb", "Model size", "MB", higher_is_better=False),
    Metric("peak_memory_mb", "Peak memory", "MB", higher_is_better=False, fmt=",.0f"),
    Metric("energy_j_per_1k", "Energy", "J per 1,000 items", higher_is_better=False, fmt=".2f"),
    Metric(
        "usd_per_million",
        "$ per 1M inferences",
        "$",
        higher_is_better=False,
        fmt=".3f",
        per_option=True,
    ),
)


def bar_metrics(df: pd.DataFrame) -> list[str]:
    """The metric keys with at least one value among the finished candidates."""
    ok = ok_candidates(df)
    return [k for k, m in BAR_METRICS.items() if m.column in ok and ok[m.column].notna().any()]


def grouped_bars(df: pd.DataFrame, metric: str) -> go.Figure:
    """One metric: a group per variant, one bar per run (or per run and option for $)."""
    if metric not in BAR_METRICS:
        raise UserError(f"Unknown metric '{metric}'; choose one of {', '.join(BAR_METRICS)}.")
    m = BAR_METRICS[metric]
    data = ok_candidates(df) if m.per_option else measured_points(df)
    if data.empty or m.column not in data or data[m.column].isna().all():
        return empty_figure(f"No {m.label.lower()} in these runs", height=EMPTY_HEIGHT)
    data = data[data[m.column].notna()]
    series = "where" if m.per_option else "run_label"
    fig = go.Figure()
    colors = ordered_colors(data[series], SERIES_PALETTE)
    for name, g in data.groupby(series, sort=False):
        ys = g[m.column] * m.scale
        fig.add_trace(
            go.Bar(
                x=[_esc(v) for v in g["variant"]],
                y=ys,
                name=_esc(name),
                marker_color=colors[name],
                text=[m.format(y) for y in ys],
                textposition="outside",
                cliponaxis=False,
                hovertext=[_esc(c) for c in g["candidate"]],
                hovertemplate=f"<b>%{{hovertext}}</b><br>{m.label}: %{{y:{m.fmt}}} {m.unit}"
                "<extra></extra>",
            )
        )
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05)
    fig.update_yaxes(title_text=m.axis_title)
    if m.unit == "%":
        lo = float((data[m.column] * m.scale).min())
        fig.update_yaxes(range=[max(0, lo - 10), 100])
    group = "hardware option" if m.per_option else "run"
    return _layout(fig, f"{m.label} by variant", f"One bar per {group}; {m.better}")

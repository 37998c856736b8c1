"""Charts of benchmark results: pure functions, DataFrame -> plotly Figure.

Frames come from ``lib.results.frame`` (``to_frame`` for the wide one, ``to_long`` for one row per
variant and batch size). Every variant keeps its colour across charts; titles name what is
plotted and its unit; hovering a mark shows the numbers behind it.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from lib.chart_style import Metric, empty_figure, metric_table, titled_layout, variant_color
from lib.results.frame import BASELINE, frame_batch_sizes, ok_rows

__all__ = [
    "METRICS",
    "accuracy_vs_latency",
    "empty_figure",
    "latency_vs_length",
    "metric_bars",
    "metric_options",
    "throughput_vs_batch",
    "variant_color",
]

METRICS: dict[str, Metric] = metric_table(
    Metric("accuracy", "Accuracy", "%", scale=100),
    Metric("macro_f1", "Macro-F1", "%", scale=100),
    Metric("agreement", "Agreement with fp32", "%", scale=100),
    Metric(
        "p50_ms", "Latency p50", "ms per batch", per_batch=True, higher_is_better=False, fmt=".2f"
    ),
    Metric(
        "p99_ms", "Latency p99", "ms per batch", per_batch=True, higher_is_better=False, fmt=".2f"
    ),
    Metric("throughput", "Throughput", "items/s", per_batch=True, fmt=",.0f"),
    Metric("speedup", "Speed-up vs fp32", "×", column="speedup_vs_fp32", per_batch=True, fmt=".2f"),
    Metric("size_mb", "Model size", "MB", higher_is_better=False),
    Metric("params", "Parameters", "millions", scale=1e-6, higher_is_better=False, fmt=".2f"),
    Metric("peak_memory_mb", "Peak memory", "MB", higher_is_better=False, fmt=",.0f"),
    Metric("energy_j_per_1k", "Energy", "J per 1,000 items", higher_is_better=False, fmt=".2f"),
)


def metric_options(df: pd.DataFrame) -> list[str]:
    """The metric keys with at least one value in this frame."""
    out = []
    sizes = frame_batch_sizes(df)
    for key, m in METRICS.items():
        cols = [f"{m.column}_b{b}" for b in sizes] if m.per_batch else [m.column]
        if any(c in df.columns and ok_rows(df)[c].notna().any() for c in cols):
            out.append(key)
    return out


def _fmt(value: float, fmt: str = ".1f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return format(value, fmt)


def accuracy_vs_latency(df: pd.DataFrame, batch_size: int) -> go.Figure:
    """Each variant as a point: p50 latency at ``batch_size`` (x, ms) against accuracy (y, %).

    Horizontal whiskers span p50 to p90 latency; vertical ones the accuracy's 95% interval
    when the run computed one. Up and to the left is better."""
    col = f"p50_ms_b{batch_size}"
    ok = ok_rows(df)
    if ok.empty or col not in ok.columns or ok[col].isna().all():
        return empty_figure(f"No variant was timed at batch {batch_size}")
    ok = ok[ok[col].notna()]
    fig = go.Figure()
    for _, r in ok.iterrows():
        acc = r["accuracy"] * 100
        p90 = r.get(f"p90_ms_b{batch_size}", math.nan)
        has_ci = not math.isnan(r.get("accuracy_low", math.nan))
        hover = (
            f"<b>{r['variant']}</b><br>"
            f"runtime {r['runtime'] or '–'}, precision {r['precision'] or '–'}<br>"
            f"accuracy {_fmt(acc)}%"
            + (
                f" (95% CI {_fmt(r['accuracy_low'] * 100)}–{_fmt(r['accuracy_high'] * 100)})"
                if has_ci
                else ""
            )
            + f"<br>batch {batch_size}: p50 {_fmt(r[col], '.2f')} ms, "
            f"p90 {_fmt(p90, '.2f')} ms, p99 {_fmt(r.get(f'p99_ms_b{batch_size}'), '.2f')} ms<br>"
            f"throughput {_fmt(r.get(f'throughput_b{batch_size}'), ',.0f')} items/s, "
            f"speed-up {_fmt(r.get(f'speedup_vs_fp32_b{batch_size}'), '.2f')}×<br>"
            f"size {_fmt(r['size_mb'])} MB"
        )
        fig.add_trace(
            go.Scatter(
                x=[r[col]],
                y=[acc],
                mode="markers+text",
                name=r["variant"],
                text=[r["variant"]],
                textposition="top right",
                marker=dict(
                    size=16,
                    color=variant_color(r["variant"]),
                    symbol="diamond" if r["variant"] == BASELINE else "circle",
                    line=dict(width=1, color="white"),
                ),
                error_x=dict(
                    type="data",
                    symmetric=False,
                    array=[max(p90 - r[col], 0)] if not math.isnan(p90) else [0],
                    arrayminus=[0],
                    visible=not math.isnan(p90),
                    thickness=1.2,
                    width=0,
                ),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=[r["accuracy_high"] * 100 - acc] if has_ci else [0],
                    arrayminus=[acc - r["accuracy_low"] * 100] if has_ci else [0],
                    visible=has_ci,
                    thickness=1.2,
                    width=4,
                ),
                hovertemplate=hover + "<extra></extra>",
            )
        )
    fig.update_xaxes(
        title_text=f"Latency p50 at batch {batch_size} (ms per batch)", rangemode="tozero"
    )
    fig.update_yaxes(title_text="Accuracy (%)", ticksuffix="")
    _pad_y(fig, ok["accuracy"] * 100, ok.get("accuracy_low"), ok.get("accuracy_high"))
    return titled_layout(
        fig,
        f"Accuracy vs latency at batch {batch_size}",
        "Up and to the left is better. Whiskers: p50→p90 latency"
        + (", 95% accuracy interval" if ok["accuracy_low"].notna().any() else ""),
    )


def _pad_y(fig: go.Figure, acc: pd.Series, low, high) -> None:
    values = list(acc.dropna())
    for s in (low, high):
        if s is not None:
            values += list((s * 100).dropna())
    if not values:
        return
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.25, 1.0)
    fig.update_yaxes(range=[max(lo - pad, 0), min(hi + pad, 100.5)])


def metric_bars(df: pd.DataFrame, metric: str) -> go.Figure:
    """Bars of one metric per variant; a per-batch metric is grouped by batch size."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric '{metric}'; known: {', '.join(METRICS)}")
    m = METRICS[metric]
    ok = ok_rows(df)
    if ok.empty:
        return empty_figure("No variant finished yet")
    better = m.better
    fig = go.Figure()
    variants = list(ok["variant"])
    if m.per_batch:
        sizes = [b for b in frame_batch_sizes(df) if f"{m.column}_b{b}" in ok.columns]
        if not sizes:
            return empty_figure(f"No {m.label.lower()} in these results")
        # Grouped: x = batch size, one bar per variant in its own colour.
        for _, r in ok.iterrows():
            ys = [r[f"{m.column}_b{b}"] * m.scale for b in sizes]
            fig.add_trace(
                go.Bar(
                    x=[f"batch {b}" for b in sizes],
                    y=ys,
                    name=r["variant"],
                    marker_color=variant_color(r["variant"]),
                    text=[m.format(y) for y in ys],
                    textposition="outside",
                    cliponaxis=False,
                    customdata=[[r["runtime"] or "–", r["precision"] or "–"]] * len(sizes),
                    hovertemplate=f"<b>{r['variant']}</b> at %{{x}}<br>{m.label}: "
                    f"%{{y:{m.fmt}}} {m.unit}<br>runtime %{{customdata[0]}}, "
                    "precision %{customdata[1]}<extra></extra>",
                )
            )
        fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05)
        if metric == "speedup":
            fig.add_hline(y=1, line_dash="dot", line_color="#9CA3AF")
        subtitle = f"Per batch size; {better}"
    else:
        ys = [v * m.scale for v in ok[m.column]]
        fig.add_trace(
            go.Bar(
                x=variants,
                y=ys,
                marker_color=[variant_color(v) for v in variants],
                text=[m.format(y) for y in ys],
                textposition="outside",
                cliponaxis=False,
                customdata=list(zip(ok["runtime"], ok["precision"], strict=True)),
                hovertemplate=f"<b>%{{x}}</b><br>{m.label}: %{{y:{m.fmt}}} {m.unit}<br>"
                "runtime %{customdata[0]}, precision %{customdata[1]}<extra></extra>",
                showlegend=False,
            )
        )
        subtitle = better.capitalize()
        if m.unit == "%":
            vals = [y for y in ys if not math.isnan(y)]
            if vals:
                lo = min(vals)
                fig.update_yaxes(range=[max(0, lo - max(5, (max(vals) - lo) * 2)), 100])
    fig.update_yaxes(title_text=m.axis_title)
    return titled_layout(fig, f"{m.axis_title} by variant", subtitle)


def throughput_vs_batch(long_df: pd.DataFrame) -> go.Figure:
    """Throughput (items/s) against batch size, one line per variant."""
    if long_df.empty:
        return empty_figure("No throughput measured yet")
    fig = go.Figure()
    for variant, g in long_df.groupby("variant", sort=False):
        g = g.sort_values("batch_size")
        fig.add_trace(
            go.Scatter(
                x=g["batch_size"],
                y=g["throughput_per_s"],
                mode="lines+markers",
                name=str(variant),
                line=dict(color=variant_color(str(variant)), width=2.5),
                marker=dict(size=8),
                customdata=g[["p50_ms", "p90_ms"]].to_numpy(),
                hovertemplate=f"<b>{variant}</b><br>batch %{{x}}<br>"
                "throughput %{y:,.0f} items/s<br>p50 %{customdata[0]:.2f} ms, "
                "p90 %{customdata[1]:.2f} ms per batch<extra></extra>",
            )
        )
    fig.update_xaxes(
        title_text="Batch size (items)", type="log", tickvals=sorted(long_df["batch_size"].unique())
    )
    fig.update_yaxes(title_text="Throughput (items/s)", rangemode="tozero")
    return titled_layout(
        fig, "Throughput vs batch size", "Items per second at p50 latency; higher is better"
    )


def latency_vs_length(long_df: pd.DataFrame) -> go.Figure:
    """p50 latency (ms) against sequence length, one line per variant and batch size."""
    if long_df.empty or "seq_len" not in long_df.columns or long_df["seq_len"].isna().all():
        return empty_figure("No sequence-length sweep in these results")
    data = long_df[long_df["seq_len"].notna()]
    fig = go.Figure()
    dashes = ["solid", "dash", "dot", "dashdot", "longdash"]
    sizes = sorted(data["batch_size"].unique())
    for (variant, b), g in data.groupby(["variant", "batch_size"], sort=False):
        g = g.sort_values("seq_len")
        fig.add_trace(
            go.Scatter(
                x=g["seq_len"],
                y=g["p50_ms"],
                mode="lines+markers",
                name=f"{variant}, batch {b}" if len(sizes) > 1 else str(variant),
                line=dict(
                    color=variant_color(str(variant)),
                    width=2.5,
                    dash=dashes[sizes.index(b) % len(dashes)],
                ),
                marker=dict(size=8),
                customdata=g[["p90_ms", "throughput_per_s"]].to_numpy(),
                hovertemplate=f"<b>{variant}</b>, batch {b}<br>sequence %{{x}} tokens<br>"
                "p50 %{y:.2f} ms, p90 %{customdata[0]:.2f} ms<br>"
                "throughput %{customdata[1]:,.0f} items/s<extra></extra>",
            )
        )
    fig.update_xaxes(title_text="Sequence length (tokens)")
    fig.update_yaxes(title_text="Latency p50 (ms per batch)", rangemode="tozero")
    return titled_layout(fig, "Latency vs sequence length", "Lower is better")

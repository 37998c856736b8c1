"""Charts of benchmark results: pure functions, DataFrame -> plotly Figure.

Frames come from ``lib.results.frame`` (``to_frame`` for the wide one, ``to_long`` for one row per
variant and batch size). Every variant keeps its colour across charts; titles name what is
plotted and its unit; hovering a mark shows the numbers behind it.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from lib.chart_style import (
    Metric,
    axis_title,
    bar_label_style,
    bars_headroom,
    empty_figure,
    fmt_value,
    frontier_mask,
    label_order,
    log_ticks,
    metric_table,
    place_labels,
    style_layout,
    variant_color,
    variant_colors,
    variant_rank,
)
from lib.format import MISSING
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
    return fmt_value(value, fmt)


def accuracy_vs_latency(df: pd.DataFrame, batch_size: int) -> go.Figure:
    """Each variant as a point: p50 latency at ``batch_size`` (x, ms) against accuracy (y, %).

    Horizontal whiskers span p50 to p90 latency; vertical ones the accuracy's 95% interval
    when the run computed one. Up and to the left is better; only the frontier (no variant both
    faster and more accurate) is labelled, every point has its numbers in the hover."""
    col = f"p50_ms_b{batch_size}"
    ok = ok_rows(df)
    if ok.empty or col not in ok.columns or ok[col].isna().all():
        return empty_figure(f"No variant was timed at batch {batch_size}")
    ok = ok[ok[col].notna()]
    colors = variant_colors(ok["variant"])
    front = frontier_mask(list(ok[col]), list(ok["accuracy"]))
    y_range = _y_range(ok["accuracy"] * 100, ok.get("accuracy_low"), ok.get("accuracy_high"))
    xs = [float(v) for v in ok[col]]
    p90s = ok.get(f"p90_ms_b{batch_size}", ok[col]).fillna(0)
    x_range = (0.0, max(max(xs), float(p90s.max())) * 1.12)
    # Labels: frontier points only, where they overlap nothing (the others are obstacles).
    accs = [float(a) * 100 for a in ok["accuracy"]]
    first = label_order(xs, accs, front)
    order = first + [i for i in range(len(ok)) if i not in first]
    wanted = [str(ok["variant"].iloc[i]) if front[i] else "" for i in order]
    placed = place_labels(
        [xs[i] for i in order],
        [accs[i] for i in order],
        wanted,
        x_range=x_range,
        y_range=(y_range[0], y_range[1]) if y_range else None,
    )
    positions = {i: p for i, p in zip(order, placed, strict=True)}
    fig = go.Figure()
    for i, (_, r) in enumerate(ok.iterrows()):
        acc = r["accuracy"] * 100
        p90 = r.get(f"p90_ms_b{batch_size}", math.nan)
        has_ci = not math.isnan(r.get("accuracy_low", math.nan))
        hover = (
            f"<b>{r['variant']}</b><br>"
            f"runtime {r['runtime'] or MISSING}, precision {r['precision'] or MISSING}<br>"
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
            f"size {_fmt(r['size_mb'])} MB" + ("<br><i>on the frontier</i>" if front[i] else "")
        )
        pos = positions[i]
        fig.add_trace(
            go.Scatter(
                x=[r[col]],
                y=[acc],
                mode="markers+text" if pos else "markers",
                name=r["variant"],
                legendrank=variant_rank(r["variant"]),
                text=[r["variant"]] if pos else None,
                textposition=pos or "top right",
                textfont=dict(size=11),
                cliponaxis=False,
                marker=dict(
                    size=16 if front[i] else 12,
                    color=colors[r["variant"]],
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
        title_text=axis_title(f"Latency p50 at batch {batch_size} (ms per batch)"),
        range=list(x_range),
    )
    fig.update_yaxes(title_text="Accuracy (%)", ticksuffix="")
    if y_range:
        fig.update_yaxes(range=y_range)
    return style_layout(
        fig,
        f"Accuracy vs latency at batch {batch_size}",
        "Up and left is better · labelled: the frontier · whiskers: p50→p90 latency"
        + (", 95% accuracy interval" if ok["accuracy_low"].notna().any() else ""),
    )


def _y_range(acc: pd.Series, low, high) -> list[float] | None:
    values = list(acc.dropna())
    for s in (low, high):
        if s is not None:
            values += list((s * 100).dropna())
    if not values:
        return None
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.25, 1.0)
    return [max(lo - pad, 0), min(hi + pad, 100.5)]


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
    colors = variant_colors(variants)
    if m.per_batch:
        sizes = [b for b in frame_batch_sizes(df) if f"{m.column}_b{b}" in ok.columns]
        if not sizes:
            return empty_figure(f"No {m.label.lower()} in these results")
        labels = bar_label_style(len(sizes) * len(ok))
        all_ys: list[float] = []
        # Grouped: x = batch size, one bar per variant in its own colour.
        for _, r in ok.iterrows():
            ys = [r[f"{m.column}_b{b}"] * m.scale for b in sizes]
            all_ys += ys
            fig.add_trace(
                go.Bar(
                    x=[f"batch {b}" for b in sizes],
                    y=ys,
                    name=r["variant"],
                    legendrank=variant_rank(r["variant"]),
                    marker_color=colors[r["variant"]],
                    text=[m.format(y) for y in ys],
                    **labels,
                    customdata=[[r["runtime"] or MISSING, r["precision"] or MISSING]] * len(sizes),
                    hovertemplate=f"<b>{r['variant']}</b> at %{{x}}<br>{m.label}: "
                    f"%{{y:{m.fmt}}} {m.unit}<br>runtime %{{customdata[0]}}, "
                    "precision %{customdata[1]}<extra></extra>",
                )
            )
        fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05)
        if metric == "speedup":
            fig.add_hline(y=1, line_dash="dot", line_color="#9CA3AF")
        headroom = bars_headroom(all_ys)
        if headroom:
            fig.update_yaxes(range=headroom)
        subtitle = f"Per batch size; {better}"
    else:
        ys = [v * m.scale for v in ok[m.column]]
        fig.add_trace(
            go.Bar(
                x=variants,
                y=ys,
                marker_color=[colors[v] for v in variants],
                text=[m.format(y) for y in ys],
                **bar_label_style(len(ys)),
                customdata=[
                    [rt or MISSING, p or MISSING]
                    for rt, p in zip(ok["runtime"], ok["precision"], strict=True)
                ],
                hovertemplate=f"<b>%{{x}}</b><br>{m.label}: %{{y:{m.fmt}}} {m.unit}<br>"
                "runtime %{customdata[0]}, precision %{customdata[1]}<extra></extra>",
                showlegend=False,
            )
        )
        subtitle = better.capitalize()
        vals = [y for y in ys if not math.isnan(y)]
        if m.unit == "%" and vals:
            lo = min(vals)
            fig.update_yaxes(range=[max(0, lo - max(5, (max(vals) - lo) * 2)), 104])
        elif vals:
            headroom = bars_headroom(vals)
            if headroom:
                fig.update_yaxes(range=headroom)
    fig.update_yaxes(title_text=axis_title(m.axis_title))
    return style_layout(fig, f"{m.axis_title} by variant", subtitle)


def throughput_vs_batch(long_df: pd.DataFrame) -> go.Figure:
    """Throughput (items/s) against batch size, one line per variant."""
    if long_df.empty:
        return empty_figure("No throughput measured yet")
    fig = go.Figure()
    colors = variant_colors(long_df["variant"].astype(str))
    for variant, g in long_df.groupby("variant", sort=False):
        g = g.sort_values("batch_size")
        fig.add_trace(
            go.Scatter(
                x=g["batch_size"],
                y=g["throughput_per_s"],
                mode="lines+markers",
                name=str(variant),
                legendrank=variant_rank(str(variant)),
                line=dict(color=colors[str(variant)], width=2.5),
                marker=dict(size=8),
                hovertext=[
                    f"<b>{variant}</b><br>batch {b}<br>throughput {fmt_value(t, ',.0f')} items/s"
                    f"<br>p50 {fmt_value(p50, '.2f')} ms, p90 {fmt_value(p90, '.2f')} ms per batch"
                    for b, t, p50, p90 in zip(
                        g["batch_size"],
                        g["throughput_per_s"],
                        g["p50_ms"],
                        g["p90_ms"],
                        strict=True,
                    )
                ],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    fig.update_xaxes(
        title_text="Batch size (items)", **log_ticks(long_df["batch_size"], exact=True)
    )
    fig.update_yaxes(title_text="Throughput (items/s)", rangemode="tozero")
    return style_layout(
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
    colors = variant_colors(data["variant"].astype(str))
    for (variant, b), g in data.groupby(["variant", "batch_size"], sort=False):
        g = g.sort_values("seq_len")
        fig.add_trace(
            go.Scatter(
                x=g["seq_len"],
                y=g["p50_ms"],
                mode="lines+markers",
                name=f"{variant}, batch {b}" if len(sizes) > 1 else str(variant),
                legendrank=variant_rank(str(variant)),
                line=dict(
                    color=colors[str(variant)],
                    width=2.5,
                    dash=dashes[sizes.index(b) % len(dashes)],
                ),
                marker=dict(size=8),
                hovertext=[
                    f"<b>{variant}</b>, batch {b}<br>sequence {n:,.0f} tokens<br>"
                    f"p50 {fmt_value(p50, '.2f')} ms, p90 {fmt_value(p90, '.2f')} ms<br>"
                    f"throughput {fmt_value(t, ',.0f')} items/s"
                    for n, p50, p90, t in zip(
                        g["seq_len"], g["p50_ms"], g["p90_ms"], g["throughput_per_s"], strict=True
                    )
                ],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    fig.update_xaxes(title_text="Sequence length (tokens)")
    fig.update_yaxes(title_text="Latency p50 (ms per batch)", rangemode="tozero")
    return style_layout(fig, "Latency vs sequence length", "Lower is better")

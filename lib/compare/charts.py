"""Charts of compared candidates: pure functions, DataFrame -> plotly Figure.

Frames come from ``lib.compare.frame.compare_frame``. Colours, fonts, the title block, the empty
figure and the metric descriptor come from ``lib.chart_style``.

- ``accuracy_latency_chart`` / ``accuracy_cost_chart``: accuracy against p95 or $ per 1M, the
  Pareto frontier bold (both drawn by ``frontier_chart``).
- ``grouped_bars(df, metric)``: one metric (``BAR_METRICS``), a group per variant.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from lib.chart_style import (
    FRONTIER_LINE,
    RUN_PATTERNS,
    SERIES_PALETTE,
    Metric,
    axis_title,
    bar_label_style,
    bars_headroom,
    empty_figure,
    label_order,
    log_axis_range,
    log_ticks,
    metric_table,
    ordered_colors,
    place_labels,
    style_layout,
    variant_colors,
    variant_rank,
)
from lib.compare.analysis import measured_points, ok_candidates, pareto_frontier
from lib.errors import UserError
from lib.format import MISSING, fmt_ms, fmt_usd, is_missing

SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "star", "hexagon", "x"]


def _layout(
    fig: go.Figure, title: str, subtitle: str = "", height: int = 460, extra_top: int = 0
) -> go.Figure:
    return style_layout(fig, title, subtitle, height=height, extra_top=extra_top)


# An empty compare chart is shorter than a full one: it says what is missing in the report too.
EMPTY_HEIGHT = 320


def _esc(text: Any) -> str:
    """Plotly renders titles, labels and hover text as HTML: escape what users typed."""
    return html.escape(str(text), quote=False)


def _short_place(place: str) -> str:
    """'NVIDIA H100 80GB HBM3' -> 'H100 80GB HBM3'; 'AMD EPYC 9B14 (2 threads)' -> 'EPYC 9B14
    (2 threads)'; 'Intel(R) Xeon(R) Processor (2 threads)' -> 'Xeon (2 threads)'."""
    for mark in ("(R)", "(TM)", "(tm)"):
        place = place.replace(mark, "")
    for prefix in ("NVIDIA ", "AMD ", "Intel "):
        place = place.removeprefix(prefix)
    place = re.sub(r" CPU\b| Processor\b| @ [0-9.]+ ?GHz", "", place)
    place = " ".join(place.split())
    if len(place) <= 26:
        return place
    head, paren, tail = place.partition(" (")  # keep "(2 threads)" whole
    tail = paren + tail if paren else ""
    room = max(8, 26 - len(tail))
    return (head if len(head) <= room else head[: room - 1].rstrip() + "…") + tail


def _run_names(data: pd.DataFrame) -> dict[str, str]:
    """A short name per run that tells the runs in ``data`` apart: its hardware, then with the
    date, then with the start of its name, then numbered (the hover has the full label)."""
    runs = data.drop_duplicates(subset=["run_id"])

    def name(r) -> str:
        text = str(r.get("run_name") or "").removeprefix("[demo] ").strip()
        return text if len(text) <= 20 else text[:19].rstrip() + "…"

    for build in (
        lambda i, r: _short_place(str(r["hardware"])),
        lambda i, r: f"{_short_place(str(r['hardware']))} · {r['date']}",
        lambda i, r: f"{_short_place(str(r['hardware']))} · {name(r)}",
        lambda i, r: f"{_short_place(str(r['hardware']))} · run {i + 1}",
    ):
        names = {str(r["run_id"]): build(i, r) for i, (_, r) in enumerate(runs.iterrows())}
        if len(set(names.values())) == len(names):
            return names
    return {str(r["run_id"]): f"run {i + 1}" for i, (_, r) in enumerate(runs.iterrows())}


def frontier_chart(
    df: pd.DataFrame,
    x: str,
    x_title: str,
    title: str,
    subtitle: str,
    log_x: bool = False,
    x_fmt: str = ".2f",
    x_prefix: str = "",
) -> go.Figure:
    """Accuracy (%) against ``x`` (lower is better): frontier points bold, labelled where there
    is room and joined by a line; dominated ones faded, unlabelled, in the hover. Colour = variant
    (its technique family's hue); marker shape = run."""
    data = df[df[x].notna() & df["accuracy"].notna()] if not df.empty else df
    if data.empty:
        return empty_figure("Nothing to plot: no candidate has both numbers", height=EMPTY_HEIGHT)
    if log_x:
        data = data[data[x] > 0]
        if data.empty:
            return empty_figure(
                "Nothing to plot: no candidate has both numbers", height=EMPTY_HEIGHT
            )
    front = pareto_frontier(data, x, "accuracy")
    # Point labels (frontier only): the variant, plus where it runs when the same variant is on
    # the frontier more than once; the rest is in the hover.
    repeated = data[front]["variant"].duplicated(keep=False)
    short = data["variant"].astype(str)
    short[repeated[repeated].index] = (
        short[repeated[repeated].index]
        + " · "
        + data.loc[repeated[repeated].index, "where"].astype(str).map(_short_place)
    )
    runs = list(dict.fromkeys(data["run_label"]))
    symbols = {r: SYMBOLS[i % len(SYMBOLS)] for i, r in enumerate(runs)}
    colors = variant_colors(data["variant"].astype(str))
    # Axes first: the labels are placed in them.
    acc = data["accuracy"] * 100
    pad = max((acc.max() - acc.min()) * 0.3, 1.0)
    y_range = (max(acc.min() - pad, 0), acc.max() + pad)
    xs = data[x].astype(float)
    if log_x:
        x_axis = log_ticks(xs, prefix=x_prefix)
        x_range = log_axis_range(x_axis)
    else:
        span = max(xs.max() - xs.min(), xs.max() * 0.1, 1e-9)
        x_range = (max(0.0, xs.min() - span * 0.25), xs.max() + span * 0.25)
        x_axis = dict(type="linear", range=list(x_range))
    on = data[front]
    on = on.iloc[label_order(list(on[x]), list(on["accuracy"]), [True] * len(on))]
    placed = place_labels(
        list(on[x]),
        list(on["accuracy"] * 100),
        [_esc(t) for t in short[on.index]],
        x_log=log_x,
        x_range=x_range,
        y_range=y_range,
        obstacles=(list(data[x]), list(acc)),
    )
    position = dict(zip(on.index, placed, strict=True))
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
                    f"<br>{fmt_usd(r['usd_per_million'])} per 1M ({r['cost_source'] or MISSING})"
                    if not is_missing(r.get("usd_per_million"))
                    else ""
                )
                + ("<br><i>on the frontier</i>" if on_front else "<br>dominated")
                for _, r in g.iterrows()
            ]
            pos = [position.get(i) for i in g.index] if on_front else [None] * len(g)
            fig.add_trace(
                go.Scatter(
                    x=g[x],
                    y=g["accuracy"] * 100,
                    mode="markers+text" if any(pos) else "markers",
                    name=_esc(variant),
                    legendgroup=_esc(variant),
                    legendrank=variant_rank(str(variant)),
                    showlegend=on_front or variant not in set(data[front]["variant"]),
                    text=[_esc(t) if p else "" for t, p in zip(short[g.index], pos, strict=True)]
                    if any(pos)
                    else None,
                    textposition=[p or "top right" for p in pos],
                    textfont=dict(size=11),
                    cliponaxis=False,
                    # beaten points: open markers in the variant's full colour, a little faded
                    opacity=1.0 if on_front else 0.8,
                    marker=dict(
                        size=15 if on_front else 10,
                        color=colors[str(variant)],
                        symbol=[symbols[r] + ("" if on_front else "-open") for r in g["run_label"]],
                        line=dict(
                            width=1.5 if on_front else 2,
                            color="white" if on_front else colors[str(variant)],
                        ),
                    ),
                    hovertext=hover,
                    hovertemplate="%{hovertext}<extra></extra>",
                )
            )
    line = data[front].sort_values(x)
    if len(line) >= 2:  # one point is no line: no legend entry for it either
        fig.add_trace(
            go.Scatter(
                x=line[x],
                y=line["accuracy"] * 100,
                mode="lines",
                name="Pareto frontier",
                legendrank=1000,
                line=FRONTIER_LINE,
                hoverinfo="skip",
            )
        )
    fig.update_yaxes(title_text="Accuracy (%)", range=list(y_range))
    fig.update_xaxes(title_text=axis_title(x_title), **x_axis)
    if len(runs) > 1:
        subtitle += " · marker shape: run"
    return _layout(fig, title, subtitle, height=480)


def accuracy_latency_chart(df: pd.DataFrame) -> go.Figure:
    """Accuracy vs p95 latency of every measured (run, variant); frontier highlighted."""
    pts = measured_points(df)
    b = int(pts["latency_batch"].iloc[0]) if not pts.empty else 1
    lat = pts["p95_ms"].dropna() if not pts.empty else pts
    log_x = len(lat) > 1 and lat.min() > 0 and lat.max() / lat.min() > 20
    runs = pts["run_id"].nunique() if not pts.empty else 0
    return frontier_chart(
        pts,
        "p95_ms",
        f"p95 latency at batch {b} (ms{', log scale' if log_x else ''})",
        f"Accuracy vs p95 latency at batch {b}",
        "Up and left is better · bold: Pareto frontier · open: beaten on both"
        + (" · latency as measured on each run's hardware" if runs > 1 else ""),
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
        "Up and left is better · bold: Pareto frontier · open: beaten on both",
        log_x=True,
        x_prefix="$",
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


def grouped_bars(df: pd.DataFrame, metric: str, run_id: str | None = None) -> go.Figure:
    """One metric: a group per variant, one bar per run (or per hardware option and run for $).

    Bars are never added up: a variant measured in two runs gets two bars side by side, each
    with its own run's value. ``run_id`` draws that run only."""
    if metric not in BAR_METRICS:
        raise UserError(f"Unknown metric '{metric}'; choose one of {', '.join(BAR_METRICS)}.")
    m = BAR_METRICS[metric]
    data = ok_candidates(df) if m.per_option else measured_points(df)
    if run_id is not None and not data.empty:
        data = data[data["run_id"].astype(str) == str(run_id)]
    if data.empty or m.column not in data or data[m.column].isna().all():
        return empty_figure(f"No {m.label.lower()} in these runs", height=EMPTY_HEIGHT)
    data = data[data[m.column].notna()].copy()
    run_names = _run_names(data)
    data["_run"] = data["run_id"].astype(str).map(run_names)
    many_runs = data["_run"].nunique() > 1
    if m.per_option:
        # One series per (option, run): colour = option, pattern = run.
        data["_series"] = data["where"].astype(str) + (" · " + data["_run"] if many_runs else "")
        colors = ordered_colors(data["where"], SERIES_PALETTE)
    else:
        data["_series"] = data["_run"]
        colors = ordered_colors(data["_run"], SERIES_PALETTE)
    patterns = {
        r: RUN_PATTERNS[i % len(RUN_PATTERNS)] for i, r in enumerate(dict.fromkeys(data["_run"]))
    }
    # Each (series, variant) is one bar: the frame has one row per candidate, so this never
    # merges two runs (nor two options); a duplicate would be a frame bug, shown once, not summed.
    data = data.drop_duplicates(subset=["_series", "variant"])
    labels = bar_label_style(len(data))
    fig = go.Figure()
    for name, g in data.groupby("_series", sort=False):
        ys = g[m.column] * m.scale
        key = g["where"].iloc[0] if m.per_option else g["_run"].iloc[0]
        fig.add_trace(
            go.Bar(
                x=[_esc(v) for v in g["variant"]],
                y=ys,
                name=_esc(name),
                marker=dict(
                    color=colors[key],
                    pattern=dict(shape=patterns[g["_run"].iloc[0]] if m.per_option else ""),
                ),
                text=[fmt_usd(y) if m.unit == "$" else m.format(y) for y in ys],
                **labels,
                hovertext=[
                    f"<b>{_esc(c)}</b><br>run: {_esc(r)}<br>{m.label}: {m.format(y)} {m.unit}"
                    for c, r, y in zip(g["candidate"], g["run_label"], ys, strict=True)
                ],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05)
    fig.update_yaxes(title_text=axis_title(m.axis_title))
    values = data[m.column] * m.scale
    positive = values[values > 0]
    log_y = m.unit == "$" and len(positive) == len(values) and positive.max() > 20 * positive.min()
    if m.unit == "%":
        lo = float(values.min())
        fig.update_yaxes(range=[max(0, lo - 10), 104])
    elif log_y:  # $ on CPUs and GPUs: three decades apart
        fig.update_yaxes(**log_ticks(values, prefix="$", bars=True))
        fig.update_yaxes(title_text=axis_title(f"{m.axis_title}, log scale"))
    else:
        headroom = bars_headroom(values)
        if headroom:
            fig.update_yaxes(range=headroom)
        if m.unit == "$":
            fig.update_yaxes(tickprefix="$")
    group = "hardware option" if m.per_option else "run"
    if m.per_option and many_runs:
        group = "hardware option and run (pattern: run)"
    return _layout(fig, f"{m.label} by variant", f"One bar per {group}; {m.better}")

"""Charts of load-tested serving: pure functions, DataFrame -> plotly Figure.

Frames come from ``lib.serving.frames``:

- ``hockey_stick_chart(load_frame(...))``: p50 and p99 request latency against offered load per
  variant, the SLO as a horizontal line, each variant's goodput marked with a star.
- ``goodput_chart(goodput_frame(...), priced)``: goodput at the SLO per variant; beside it
  $ per 1M requests at the SLO when a priced cost table is given.
- ``breakdown_chart(breakdown_frame(...))``: where a request's time goes (queue / tokenize /
  model), stacked per variant.

Every figure says it was measured with MLPerf LoadGen on ``where`` (this machine by default);
no load test gives ``lib.chart_style.empty_figure`` with how to get one.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lib.chart_style import (
    SERIES_PALETTE,
    axis_title,
    bar_label_style,
    bars_headroom,
    empty_figure,
    log_axis_range,
    log_ticks,
    ordered_colors,
    place_labels,
    style_layout,
    variant_colors,
    variant_rank,
)
from lib.format import MISSING, fmt_usd
from lib.serving.frames import HOW_TO_LOAD_TEST, STAGES, percentile_label

__all__ = ["STAGE_COLORS", "breakdown_chart", "goodput_chart", "hockey_stick_chart"]

STAGE_COLORS = {"queue": "#E8833A", "tokenize": "#7B5BD6", "model": "#2E6BE6"}
SLO_COLOR = "#D64541"


def measured_on(where: str = "this machine") -> str:
    return f"measured with MLPerf LoadGen on {where}"


def _slo_label(df: pd.DataFrame) -> str:
    """ "p99 ≤ 100 ms" when every row shares one SLO, else "each variant's SLO"."""
    slos = df[["slo_ms", "percentile"]].dropna().drop_duplicates()
    if len(slos) != 1:
        return "each variant's SLO"
    slo, p = slos.iloc[0]
    return f"{percentile_label(p)} ≤ {slo:g} ms"


def _goodput_point(g: pd.DataFrame) -> pd.Series | None:
    """The highest offered load of one variant's points that met the SLO, when goodput > 0."""
    goodput = g["goodput_qps"].iloc[0]
    passing = g[g["meets_slo"]]
    if passing.empty or not goodput > 0:
        return None
    return passing.loc[passing["target_qps"].idxmax()]


def hockey_stick_chart(load: pd.DataFrame, where: str = "this machine") -> go.Figure:
    """Request latency (ms; p99 solid, p50 dotted) against offered load (QPS) per variant.

    The SLO is a dashed horizontal line; a star marks each variant's goodput (the most load that
    met it), its value written beside it where that overlaps no other label; open markers are
    points LoadGen judged invalid. Latency is on a log axis (1-2-5 ticks) when it spans more than
    20×, as it does once the queue builds up."""
    title = "Latency under load"
    if load is None or load.empty:
        return empty_figure(HOW_TO_LOAD_TEST, title)
    lat = pd.concat([load["p50_ms"], load["p99_ms"], load["slo_ms"]]).dropna()
    lat = lat[lat > 0]
    log_y = not lat.empty and lat.max() / lat.min() > 20
    y_axis = log_ticks(lat) if log_y else dict(type="linear", rangemode="tozero")
    x_max = float(load["target_qps"].max()) * 1.05 if load["target_qps"].notna().any() else 1.0
    colors = variant_colors(load["variant"].astype(str))
    stars = []
    for variant, g in load.groupby("variant", sort=False):
        best = _goodput_point(g)
        if best is not None:
            stars.append((str(variant), best))
    # Goodput labels: below their star, right first (under a rising curve; the SLO's own label
    # sits above its line), biggest goodput first.
    by_goodput = sorted(range(len(stars)), key=lambda i: -float(stars[i][1]["goodput_qps"]))
    placed = place_labels(
        [float(stars[i][1]["target_qps"]) for i in by_goodput],
        [float(stars[i][1]["p99_ms"]) for i in by_goodput],
        [f"{stars[i][1]['goodput_qps']:,.0f} QPS" for i in by_goodput],
        y_log=log_y,
        x_range=(0.0, x_max),
        y_range=log_axis_range(y_axis) if log_y else (0.0, float(lat.max()) * 1.05),
        obstacles=(list(load["target_qps"]), list(load["p99_ms"])),
        prefer=("bottom right", "bottom left", "top left", "top right"),
        font_px=12,
    )
    star_pos = {stars[i][0]: p for i, p in zip(by_goodput, placed, strict=True)}
    fig = go.Figure()
    for variant, g in load.groupby("variant", sort=False):
        color = colors[str(variant)]
        p = percentile_label(g["percentile"].iloc[0])
        symbols = ["circle" if v else "circle-open" for v in g["valid"]]
        hover = [
            f"<b>{variant}</b><br>offered {r.target_qps:,.4g} QPS, achieved {_g(r.achieved_qps)}"
            f"<br>{p} {_g(r.p99_ms, ',.3g')} ms, p50 {_g(r.p50_ms, ',.3g')} ms<br>"
            + ("meets" if r.meets_slo else "misses")
            + f" the SLO ({p} ≤ {r.slo_ms:g} ms)"
            + ("" if r.valid else "<br>LoadGen: INVALID run")
            for r in g.itertuples()
        ]
        rank = variant_rank(str(variant))
        fig.add_trace(
            go.Scatter(
                x=g["target_qps"],
                y=g["p99_ms"],
                mode="lines+markers",
                name=str(variant),
                legendgroup=str(variant),
                legendrank=rank,
                line=dict(color=color, width=2.5),
                marker=dict(size=8, color=color, symbol=symbols),
                hovertext=hover,
                hoverinfo="text",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=g["target_qps"],
                y=g["p50_ms"],
                mode="lines+markers",
                name=f"{variant} p50",
                legendgroup=str(variant),
                showlegend=False,
                line=dict(color=color, width=1.5, dash="dot"),
                marker=dict(size=5, color=color, symbol=symbols),
                hovertext=hover,
                hoverinfo="text",
            )
        )
        best = _goodput_point(g)
        if best is not None:
            pos = star_pos.get(str(variant))
            fig.add_trace(
                go.Scatter(
                    x=[best["target_qps"]],
                    y=[best["p99_ms"]],
                    mode="markers+text" if pos else "markers",
                    name=f"{variant} goodput",
                    legendgroup=str(variant),
                    showlegend=False,
                    text=[f"{best['goodput_qps']:,.0f} QPS"] if pos else [""],
                    textposition=pos or "bottom left",
                    textfont=dict(color=color, size=12),
                    cliponaxis=False,
                    marker=dict(
                        size=17, color=color, symbol="star", line=dict(width=1, color="white")
                    ),
                    hovertext=[f"<b>{variant}</b>: goodput {best['goodput_qps']:,.4g} QPS"],
                    hoverinfo="text",
                )
            )
    for (slo, pct), _ in load.groupby(["slo_ms", "percentile"]):
        fig.add_hline(y=slo, line=dict(color=SLO_COLOR, dash="dash", width=1.5))
        # an annotation on a log axis is placed at log10 of its value (a shape is not)
        fig.add_annotation(
            text=f"SLO: {percentile_label(pct)} ≤ {slo:g} ms",
            x=1,
            xref="paper",
            xanchor="right",
            y=math.log10(slo) if log_y and slo > 0 else slo,
            yref="y",
            yanchor="bottom",
            showarrow=False,
            font=dict(color=SLO_COLOR, size=12),
        )
    fig.update_xaxes(title_text="Offered load (queries/s)", range=[0, x_max])
    fig.update_yaxes(
        title_text=f"Request latency (ms{', log scale' if log_y else ''})",
        **y_axis,
    )
    return style_layout(
        fig,
        title,
        f"p99 solid, p50 dotted; ★ goodput, the most load within {_slo_label(load)} · "
        + measured_on(where),
        height=460,
    )


def _g(value, fmt: str = ",.4g") -> str:
    return (
        MISSING
        if value is None or (isinstance(value, float) and math.isnan(value))
        else format(value, fmt)
    )


def _priced_at_slo(priced: pd.DataFrame | None, variants: list[str]) -> pd.DataFrame:
    """Rows of a cost table priced at the SLO: goodput basis (when it says), applicable, with a
    $ per 1M, for these variants."""
    if priced is None or priced.empty or "usd_per_million" not in priced:
        return pd.DataFrame()
    p = priced[priced["variant"].isin(variants)]
    if "basis" in p:
        p = p[p["basis"] == "goodput"]
    if "applicable" in p:
        p = p[p["applicable"].fillna(True).astype(bool)]
    p = p[pd.to_numeric(p["usd_per_million"], errors="coerce").notna()]
    return p


def goodput_chart(
    goodput: pd.DataFrame, priced: pd.DataFrame | None = None, where: str = "this machine"
) -> go.Figure:
    """Goodput (requests/s within the SLO) per variant; beside it, when ``priced`` (a cost
    table: variant, option, usd_per_million, optionally basis and applicable) has rows priced at
    the SLO, $ per 1M requests at the SLO per variant and hardware option."""
    if goodput is None or goodput.empty:
        return empty_figure(HOW_TO_LOAD_TEST, "Goodput at the SLO")
    variants = [str(v) for v in goodput["variant"]]
    at_slo = _priced_at_slo(priced, variants)
    slo = _slo_label(goodput)
    hover = [
        f"<b>{r.variant}</b><br>goodput {r.goodput_qps:,.4g} requests/s at "
        f"{percentile_label(r.percentile)} ≤ {r.slo_ms:g} ms"
        + ("" if math.isnan(r.offline_qps) else f"<br>peak (Offline) {r.offline_qps:,.4g} QPS")
        + ("" if not r.note else f"<br>{r.note[:120]}")
        for r in goodput.itertuples()
    ]
    colors = variant_colors(variants)
    bars = go.Bar(
        x=variants,
        y=goodput["goodput_qps"],
        marker_color=[colors[v] for v in variants],
        text=[f"{v:,.0f}" if not math.isnan(v) else MISSING for v in goodput["goodput_qps"]],
        **bar_label_style(len(variants) * (2 if not at_slo.empty else 1)),
        hovertext=hover,
        hoverinfo="text",
        showlegend=False,
        name="goodput",
    )
    headroom = bars_headroom(goodput["goodput_qps"])
    title = f"Goodput at {slo}"
    if at_slo.empty:
        fig = go.Figure(bars)
        fig.update_yaxes(title_text="Goodput (requests/s)", range=headroom, rangemode="tozero")
        return style_layout(fig, title, "higher is better · " + measured_on(where), height=420)
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Requests/s within the SLO", "$ per 1M requests at the SLO"),
        horizontal_spacing=0.16,
    )
    fig.add_trace(bars, row=1, col=1)
    option_colors = ordered_colors(at_slo["option"], SERIES_PALETTE)
    for option, g in at_slo.groupby("option", sort=False):
        usd = pd.to_numeric(g["usd_per_million"], errors="coerce")
        fig.add_trace(
            go.Bar(
                x=[str(v) for v in g["variant"]],
                y=usd,
                name=str(option),
                marker_color=option_colors[option],
                hovertext=[
                    f"<b>{v}</b> on {option}: {fmt_usd(u)} per 1M"
                    for v, u in zip(g["variant"], usd, strict=True)
                ],
                hoverinfo="text",
            ),
            row=1,
            col=2,
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(
        title_text="Goodput (requests/s)", range=headroom, rangemode="tozero", row=1, col=1
    )
    fig.update_yaxes(
        title_text=axis_title("$ per 1M requests", 30),
        tickprefix="$",
        rangemode="tozero",
        row=1,
        col=2,
    )
    fig.update_annotations(font_size=13, yshift=4)
    # the options' legend at the bottom, like every chart's; room for the subplot titles on top
    return style_layout(
        fig,
        title,
        "goodput higher, $ lower is better · " + measured_on(where),
        height=460,
        extra_top=28,
    )


def breakdown_chart(breakdown: pd.DataFrame, where: str = "this machine") -> go.Figure:
    """Where a request's time goes per variant, stacked: queued (waiting for a batch to form
    and for the model), tokenizing, in the model; mean ms, at the goodput point (or one query at
    a time where goodput is 0)."""
    title = "Where a request's time goes"
    if breakdown is None or breakdown.empty:
        return empty_figure(HOW_TO_LOAD_TEST, title)
    variants = list(dict.fromkeys(str(v) for v in breakdown["variant"]))
    fig = go.Figure()
    for stage in STAGES:
        g = breakdown[breakdown["stage"] == stage]
        if g.empty:
            continue
        fig.add_trace(
            go.Bar(
                y=[str(v) for v in g["variant"]],
                x=g["ms"],
                name=stage,
                orientation="h",
                marker_color=STAGE_COLORS[stage],
                hovertext=[
                    f"<b>{v}</b>: {stage} {ms:,.3g} ms"
                    + (" (one query at a time)" if at == "single_stream" else " (at goodput)")
                    for v, ms, at in zip(g["variant"], g["ms"], g["at"], strict=True)
                ],
                hoverinfo="text",
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text="Mean time per request (ms)", rangemode="tozero")
    fig.update_yaxes(categoryorder="array", categoryarray=variants[::-1], automargin=True)
    return style_layout(
        fig,
        title,
        "mean ms at the goodput point · " + measured_on(where),
        height=max(320, 160 + 48 * len(variants)),
    )

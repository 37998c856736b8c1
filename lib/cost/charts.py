"""Cost charts: pure functions DataFrame -> plotly Figure (the Cost page draws them).

Projected numbers are drawn lighter and hatched and say "(projected)" in the legend and hover;
every hover shows the inputs that produced the number.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lib.chart_style import (
    FRONTIER_LINE,
    SERIES_PALETTE,
    empty_figure,
    fmt_value,
    label_order,
    log_axis_range,
    log_ticks,
    ordered_colors,
    place_labels,
    style_layout,
    variant_colors,
    variant_rank,
)
from lib.cost.formulas import breakeven_months
from lib.cost.scenarios import cumulative_costs
from lib.format import MISSING, fmt_usd, format_months, is_missing

_SUFFIX = {"on_demand": "", "commit_1y": "_commit_1y", "commit_3y": "_commit_3y", "spot": "_spot"}
_PRICING_LABEL = {
    "on_demand": "on-demand",
    "commit_1y": "1-year commitment",
    "commit_3y": "3-year commitment",
    "spot": "spot",
}

# customdata: the numbers behind a cost, written out (a missing one as "–") by _cost_customdata.
_HOVER_COST = (
    "<b>%{customdata[0]}</b> on %{customdata[9]}<br>"
    "%{customdata[10]} per 1M inferences (%{customdata[6]})<br>"
    "= %{customdata[1]}/h / (%{customdata[2]}/s x 3600 x utilisation %{customdata[3]}) x 1e6<br>"
    "throughput %{customdata[4]}: %{customdata[5]}<br>"
    "price: %{customdata[7]} (%{customdata[8]})<extra></extra>"
)
_HOVER_ACCURACY_COST = (
    "<b>%{customdata[0]}</b> on %{customdata[9]}<br>accuracy %{customdata[11]}<br>"
    "%{customdata[10]} per 1M inferences (%{customdata[6]})<br>"
    "= %{customdata[1]}/h / (%{customdata[2]}/s x 3600 x utilisation %{customdata[3]}) x 1e6<br>"
    "throughput %{customdata[4]}: %{customdata[5]}<extra></extra>"
)


def cost_per_million_chart(
    table: pd.DataFrame, pricing: str = "on_demand", log_y: bool = True
) -> go.Figure:
    """Grouped bars: $ per 1M inferences, one group per hardware option, one colour per variant
    (its technique family's hue); projected bars lighter and hatched."""
    col, hourly_col = f"usd_per_million{_SUFFIX[pricing]}", f"hourly_usd{_SUFFIX[pricing]}"
    title = f"$ per 1M inferences ({_PRICING_LABEL[pricing]})"
    df = table[table[col].notna()] if col in table else table.iloc[0:0]
    if log_y and not df.empty:
        df = df[df[col] > 0]
    if df.empty:
        return empty_figure("No option could be costed.", title=title)
    colours = _colours(df["variant"].unique())
    fig = go.Figure()
    for (variant, source), g in df.groupby(["variant", "throughput_source"], sort=False):
        projected = source == "projected"
        fig.add_bar(
            x=g["option"],
            y=g[col],
            name=f"{variant}" + (" (projected)" if projected else " (measured)"),
            legendgroup=variant,
            legendrank=variant_rank(str(variant)),
            offsetgroup=variant,
            marker={
                "color": colours[variant],
                "opacity": 0.55 if projected else 1.0,
                "pattern": {"shape": "/" if projected else ""},
            },
            customdata=_cost_customdata(g, hourly_col, col),
            hovertemplate=_HOVER_COST,
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="Hardware")
    fig.update_yaxes(title_text="$ per 1M inferences" + (" (log scale)" if log_y else ""))
    if log_y:
        fig.update_yaxes(**log_ticks(df[col], prefix="$"))
    else:
        fig.update_yaxes(tickprefix="$", rangemode="tozero")
    return style_layout(fig, title, "Lower is better · hatched: projected from another machine")


def _cost_customdata(g: pd.DataFrame, hourly_col: str, usd_col: str = "") -> list[list]:
    """Per row, the hover's numbers as text: variant, $/h, items/s, utilisation, throughput
    source, its assumptions, option kind, price source, price date, option, $ per 1M, accuracy."""

    return [
        [
            r["variant"],
            fmt_usd(r.get(hourly_col)),
            fmt_value(r.get("throughput_per_s"), ",.1f"),
            fmt_value(r.get("utilisation"), ".2f"),
            _text(r.get("throughput_source")),
            _text(r.get("throughput_assumptions")),
            _text(r.get("option_kind")),
            _text(r.get("price_source")),
            _text(r.get("price_date")),
            _text(r.get("option")),
            fmt_usd(r.get(usd_col)) if usd_col else MISSING,
            fmt_value(num_percent(r.get("accuracy")), ".1f", "%"),
        ]
        for _, r in g.iterrows()
    ]


def _text(value) -> str:
    """A hover field: the value as text, ``MISSING`` for None, NaN or blank."""
    if isinstance(value, str):
        return value.strip() or MISSING
    try:
        if value is None or bool(pd.isna(value)):
            return MISSING
    except (TypeError, ValueError):  # a list or array: not one missing value
        pass
    return str(value)


def num_percent(value) -> float:
    """A fraction as a percentage (NaN stays NaN)."""
    return math.nan if is_missing(value) else float(value) * 100


def _colours(variants) -> dict[str, str]:
    return variant_colors(variants)


def cumulative_cost_chart(
    table: pd.DataFrame,
    variant: str,
    owned_option: str,
    cloud_options: list[str] | None = None,
    months: int = 60,
) -> go.Figure:
    """Cumulative cost over months: owned (capex + running) vs each cloud option (on-demand),
    with each break-even month marked."""
    df = cumulative_costs(table, variant, owned_option, cloud_options, months)
    title = f"Cumulative cost: {owned_option} vs cloud ({variant})"
    if df.empty:
        return empty_figure("Nothing to compare.", title=title)
    fig = go.Figure()
    owned = df[df["kind"] == "owned"]
    o = owned.iloc[0]
    fig.add_scatter(
        x=owned["month"],
        y=owned["cumulative_usd"],
        name=f"{owned_option}",
        mode="lines",
        line={"width": 3, "color": "black"},
        customdata=[[o["capex_usd"], o["monthly_usd"]]] * len(owned),
        hovertemplate="month %{x}: $%{y:,.0f}<br>= capex $%{customdata[0]:,.0f} + $%{customdata[1]:,.0f}/month running<extra>"
        + owned_option
        + "</extra>",
    )
    cloud = df[df["kind"] == "cloud"]
    colours = ordered_colors(cloud["option"], SERIES_PALETTE)
    marks = []
    for option, g in cloud.groupby("option", sort=False):
        monthly = g["monthly_usd"].iloc[0]
        source = table[(table["variant"] == variant) & (table["option"] == option)][
            "throughput_source"
        ].iloc[0]
        label = option + (" (projected)" if source == "projected" else "")
        fig.add_scatter(
            x=g["month"],
            y=g["cumulative_usd"],
            name=label,
            mode="lines",
            line={"dash": "dot" if source == "projected" else "solid", "color": colours[option]},
            customdata=[[monthly]] * len(g),
            hovertemplate="month %{x}: $%{y:,.0f}<br>= $%{customdata[0]:,.0f}/month x months<extra>"
            + label
            + "</extra>",
        )
        m = breakeven_months(o["capex_usd"], monthly, o["monthly_usd"])
        if not math.isinf(m) and m <= months:
            marks.append((option, m, monthly * m))
    y_top = float(df["cumulative_usd"].max()) * 1.08
    placed = place_labels(
        [m for _, m, _ in marks],
        [y for _, _, y in marks],
        [f"break-even {m:.1f} mo" for _, m, _ in marks],
        x_range=(0.0, float(months)),
        y_range=(0.0, y_top),
        prefer=("top left", "bottom right", "top right", "bottom left"),
    )
    for (option, m, y), pos in zip(marks, placed, strict=True):
        fig.add_scatter(
            x=[m],
            y=[y],
            mode="markers+text" if pos else "markers",
            text=[f"break-even {m:.1f} mo"] if pos else None,
            textposition=pos or "top left",
            textfont=dict(size=11),
            cliponaxis=False,
            marker={"size": 11, "symbol": "diamond", "color": colours[option]},
            showlegend=False,
            hovertemplate=f"break-even vs {option}: {format_months(m)}<br>= capex / (cloud monthly - owned running)<extra></extra>",
        )
    fig.update_xaxes(title_text="Months", range=[0, months])
    fig.update_yaxes(
        title_text="Cumulative cost ($)", tickprefix="$", range=[0, y_top], tickformat=",.0f"
    )
    return style_layout(
        fig, title, "Owned: capex, then running costs · cloud: on-demand, month by month"
    )


def pareto_frontier(
    points: pd.DataFrame, cost: str = "usd_per_million", quality: str = "accuracy"
) -> pd.DataFrame:
    """Points no other point beats on both cheaper-or-equal cost and higher-or-equal quality."""
    df = points.dropna(subset=[cost, quality]).sort_values([cost, quality], ascending=[True, False])
    best, keep = -math.inf, []
    for i, r in df.iterrows():
        if r[quality] > best:
            keep.append(i)
            best = r[quality]
    return df.loc[keep]


def accuracy_cost_chart(table: pd.DataFrame, pricing: str = "on_demand") -> go.Figure:
    """Accuracy (%) vs $ per 1M inferences for every variant x hardware, the Pareto frontier
    drawn and labelled; every other point in the hover."""
    col, hourly_col = f"usd_per_million{_SUFFIX[pricing]}", f"hourly_usd{_SUFFIX[pricing]}"
    title = f"Accuracy vs $ per 1M inferences ({_PRICING_LABEL[pricing]})"
    df = table.dropna(subset=[col, "accuracy"]) if col in table else table.iloc[0:0]
    if not df.empty:
        df = df[df[col] > 0]
    if df.empty:
        return empty_figure("No costed variant with an accuracy.", title=title)
    colours = _colours(df["variant"].unique())
    x_axis = log_ticks(df[col], prefix="$")
    acc = df["accuracy"] * 100
    pad = max((acc.max() - acc.min()) * 0.3, 1.0)
    y_range = (max(acc.min() - pad, 0.0), acc.max() + pad)
    front = pareto_frontier(df, col)
    on = front.iloc[label_order(list(front[col]), list(front["accuracy"]), [True] * len(front))]
    # Labels: the variant, and its option when the variant is on the frontier more than once.
    twice = on["variant"].duplicated(keep=False)
    names = {
        i: f"{v} on {o}" if t else str(v)
        for i, v, o, t in zip(on.index, on["variant"], on["option"], twice, strict=True)
    }
    placed = place_labels(
        list(on[col]),
        list(on["accuracy"] * 100),
        [names[i] for i in on.index],
        x_log=True,
        x_range=log_axis_range(x_axis),
        y_range=y_range,
        obstacles=(list(df[col]), list(acc)),
    )
    position = dict(zip(on.index, placed, strict=True))
    fig = go.Figure()
    for (variant, source), g in df.groupby(["variant", "throughput_source"], sort=False):
        projected = source == "projected"
        pos = [position.get(i) for i in g.index]
        fig.add_scatter(
            x=g[col],
            y=g["accuracy"] * 100,
            mode="markers+text" if any(pos) else "markers",
            name=f"{variant}" + (" (projected)" if projected else " (measured)"),
            legendgroup=variant,
            legendrank=variant_rank(str(variant)),
            marker={
                "color": colours[variant],
                "size": 10,
                "symbol": "circle-open" if projected else "circle",
                "line": {
                    "width": 2 if projected else 1,
                    "color": colours[variant] if projected else "white",
                },
            },
            text=[names[i] if p else "" for i, p in zip(g.index, pos, strict=True)]
            if any(pos)
            else None,
            textposition=[p or "top right" for p in pos],
            textfont=dict(size=11),
            cliponaxis=False,
            customdata=_cost_customdata(g, hourly_col, col),
            hovertemplate=_HOVER_ACCURACY_COST,
        )
    if len(front) >= 2:  # one point is no line: no legend entry for it either
        fig.add_scatter(
            x=front[col],
            y=front["accuracy"] * 100,
            mode="lines",
            name="Pareto frontier",
            legendrank=1000,
            line=FRONTIER_LINE,
            text=front["variant"] + " on " + front["option"],
            hovertemplate="frontier: %{text}<extra></extra>",
        )
    fig.update_xaxes(title_text="$ per 1M inferences (log scale)", **x_axis)
    fig.update_yaxes(title_text="Accuracy (%)", range=list(y_range))
    return style_layout(
        fig, title, "Up and left is better · labelled: the Pareto frontier · open: projected"
    )


def sensitivity_chart(sensitivity: pd.DataFrame) -> go.Figure:
    """Left: $ per 1M vs utilisation; right: monthly cost vs requests/day. One line per option."""
    title = "How the cost moves with utilisation and volume"
    data = (
        sensitivity.dropna(subset=["usd_per_million"])
        if not sensitivity.empty and "usd_per_million" in sensitivity
        else sensitivity.iloc[0:0]
    )
    if data.empty:
        return empty_figure("Nothing to vary: no option could be costed.", title=title)
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("$ per 1M vs utilisation", "Monthly cost vs requests per day"),
        horizontal_spacing=0.16,
    )
    colours = ordered_colors(data["option"], SERIES_PALETTE)
    dashes = ["solid", "dash", "longdash", "dashdot"]
    variant_dash = {
        v: dashes[i % len(dashes)] for i, v in enumerate(dict.fromkeys(data["variant"]))
    }
    for (variant, option), g in data.groupby(["variant", "option"], sort=False):
        projected = (g["throughput_source"] == "projected").any()
        label = f"{variant} on {option}" + (" (projected)" if projected else "")
        dash = "dot" if projected else variant_dash[variant]
        u = g[g["axis"] == "utilisation"].sort_values("utilisation")
        fig.add_scatter(
            x=u["utilisation"],
            y=u["usd_per_million"],
            mode="lines+markers",
            name=label,
            legendgroup=label,
            line={"dash": dash, "color": colours[option]},
            row=1,
            col=1,
            hovertext=[
                f"<b>{label}</b><br>utilisation {fmt_value(x, '.0%')}: {fmt_usd(y)} per 1M<br>"
                f"{fmt_usd(h)}/h, {fmt_value(t, ',.1f')} items/s"
                for x, y, h, t in zip(
                    u["utilisation"],
                    u["usd_per_million"],
                    u["hourly_usd"],
                    u["throughput_per_s"],
                    strict=True,
                )
            ],
            hovertemplate="%{hovertext}<extra></extra>",
        )
        v = g[g["axis"] == "requests_per_day"].sort_values("requests_per_day")
        fig.add_scatter(
            x=v["requests_per_day"],
            y=v["monthly_usd"],
            mode="lines+markers",
            name=label,
            legendgroup=label,
            showlegend=False,
            line={"dash": dash, "color": colours[option]},
            row=1,
            col=2,
            hovertext=[
                f"<b>{label}</b><br>{fmt_value(x, ',.0f')} requests/day: {fmt_usd(y)}/month<br>"
                f"{fmt_value(n, ',.0f')} machine(s) x {fmt_usd(h)}/h x 730 h"
                for x, y, n, h in zip(
                    v["requests_per_day"],
                    v["monthly_usd"],
                    v["instances_needed"],
                    v["hourly_usd"],
                    strict=True,
                )
            ],
            hovertemplate="%{hovertext}<extra></extra>",
        )
    util = data[data["axis"] == "utilisation"]
    vol = data[data["axis"] == "requests_per_day"]
    fig.update_xaxes(title_text="Utilisation", tickformat=".0%", row=1, col=1)
    fig.update_xaxes(
        title_text="Requests per day (log scale)",
        **log_ticks(vol["requests_per_day"]),
        row=1,
        col=2,
    )
    fig.update_yaxes(
        title_text="$ per 1M (log scale)",
        **log_ticks(util["usd_per_million"], prefix="$"),
        row=1,
        col=1,
    )
    fig.update_yaxes(
        title_text="$ per month (log scale)",
        **log_ticks(vol["monthly_usd"], prefix="$"),
        row=1,
        col=2,
    )
    fig.update_annotations(font_size=13, yshift=4)
    return style_layout(
        fig, title, "One line per variant and option · dotted: projected", height=460, extra_top=28
    )

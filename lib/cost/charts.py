"""Cost charts: pure functions DataFrame -> plotly Figure (the Cost page draws them).

Projected numbers are drawn lighter and hatched and say "(projected)" in the legend and hover;
every hover shows the inputs that produced the number.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lib.chart_style import CATEGORY_PALETTE, empty_figure, ordered_colors
from lib.cost.formulas import breakeven_months
from lib.cost.scenarios import cumulative_costs
from lib.format import format_months

_SUFFIX = {"on_demand": "", "commit_1y": "_commit_1y", "commit_3y": "_commit_3y", "spot": "_spot"}
_PRICING_LABEL = {
    "on_demand": "on-demand",
    "commit_1y": "1-year commitment",
    "commit_3y": "3-year commitment",
    "spot": "spot",
}

_HOVER_COST = (
    "<b>%{customdata[0]}</b> on %{x}<br>"
    "$%{y:.4f} per 1M inferences (%{customdata[6]})<br>"
    "= $%{customdata[1]:.4f}/h / (%{customdata[2]:,.1f}/s x 3600 x utilisation %{customdata[3]:.2f}) x 1e6<br>"
    "throughput %{customdata[4]}: %{customdata[5]}<br>"
    "price: %{customdata[7]} (%{customdata[8]})<extra></extra>"
)


def cost_per_million_chart(
    table: pd.DataFrame, pricing: str = "on_demand", log_y: bool = True
) -> go.Figure:
    """Grouped bars: $ per 1M inferences, one group per hardware option, one colour per variant."""
    col, hourly_col = f"usd_per_million{_SUFFIX[pricing]}", f"hourly_usd{_SUFFIX[pricing]}"
    title = f"$ per 1M inferences ({_PRICING_LABEL[pricing]})"
    df = table[table[col].notna()] if col in table else table.iloc[0:0]
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
            offsetgroup=variant,
            marker={
                "color": colours[variant],
                "opacity": 0.55 if projected else 1.0,
                "pattern": {"shape": "/" if projected else ""},
            },
            customdata=_cost_customdata(g, hourly_col),
            hovertemplate=_HOVER_COST,
        )
    fig.update_layout(
        title=title,
        barmode="group",
        xaxis_title="hardware",
        yaxis_title="$ per 1M inferences",
        legend_title="variant",
    )
    if log_y:
        fig.update_yaxes(type="log")
    return fig


def _cost_customdata(g: pd.DataFrame, hourly_col: str) -> list[list]:
    return [
        [
            r["variant"],
            r[hourly_col],
            r["throughput_per_s"],
            r["utilisation"],
            r["throughput_source"],
            r.get("throughput_assumptions") or "",
            r["option_kind"],
            r["price_source"],
            r["price_date"],
        ]
        for _, r in g.iterrows()
    ]


def _colours(variants) -> dict[str, str]:
    return ordered_colors(variants, CATEGORY_PALETTE)


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
    for option, g in df[df["kind"] == "cloud"].groupby("option", sort=False):
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
            line={"dash": "dot" if source == "projected" else "solid"},
            customdata=[[monthly]] * len(g),
            hovertemplate="month %{x}: $%{y:,.0f}<br>= $%{customdata[0]:,.0f}/month x months<extra>"
            + label
            + "</extra>",
        )
        m = breakeven_months(o["capex_usd"], monthly, o["monthly_usd"])
        if not math.isinf(m) and m <= months:
            fig.add_scatter(
                x=[m],
                y=[monthly * m],
                mode="markers+text",
                text=[f"break-even {m:.1f} mo"],
                textposition="top left",
                marker={"size": 11, "symbol": "diamond"},
                showlegend=False,
                hovertemplate=f"break-even vs {option}: {format_months(m)}<br>= capex / (cloud monthly - owned running)<extra></extra>",
            )
    fig.update_layout(title=title, xaxis_title="months", yaxis_title="cumulative $")
    return fig


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
    """Accuracy vs $ per 1M inferences for every variant x hardware, Pareto frontier drawn."""
    col, hourly_col = f"usd_per_million{_SUFFIX[pricing]}", f"hourly_usd{_SUFFIX[pricing]}"
    title = f"Accuracy vs $ per 1M inferences ({_PRICING_LABEL[pricing]})"
    df = table.dropna(subset=[col, "accuracy"]) if col in table else table.iloc[0:0]
    if df.empty:
        return empty_figure("No costed variant with an accuracy.", title=title)
    colours = _colours(df["variant"].unique())
    fig = go.Figure()
    for (variant, source), g in df.groupby(["variant", "throughput_source"], sort=False):
        projected = source == "projected"
        fig.add_scatter(
            x=g[col],
            y=g["accuracy"],
            mode="markers",
            name=f"{variant}" + (" (projected)" if projected else " (measured)"),
            legendgroup=variant,
            marker={
                "color": colours[variant],
                "size": 9,
                "symbol": "circle-open" if projected else "circle",
            },
            text=g["option"],
            customdata=_cost_customdata(g, hourly_col),
            hovertemplate="<b>%{customdata[0]}</b> on %{text}<br>accuracy %{y:.3f}<br>$%{x:.4f} per 1M<br>"
            "= $%{customdata[1]:.4f}/h / (%{customdata[2]:,.1f}/s x 3600 x %{customdata[3]:.2f}) x 1e6<br>"
            "throughput %{customdata[4]}: %{customdata[5]}<extra></extra>",
        )
    front = pareto_frontier(df, col)
    fig.add_scatter(
        x=front[col],
        y=front["accuracy"],
        mode="lines",
        name="Pareto frontier",
        line={"shape": "hv", "color": "grey", "dash": "dash"},
        text=front["variant"] + " on " + front["option"],
        hovertemplate="frontier: %{text}<extra></extra>",
    )
    fig.update_layout(title=title, xaxis_title="$ per 1M inferences (log)", yaxis_title="accuracy")
    fig.update_xaxes(type="log")
    return fig


def sensitivity_chart(sensitivity: pd.DataFrame) -> go.Figure:
    """Left: $ per 1M vs utilisation; right: monthly cost vs requests/day. One line per option."""
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("$ per 1M vs utilisation", "Monthly cost vs requests per day"),
    )
    if sensitivity.empty:
        return fig
    for (variant, option), g in sensitivity.dropna(subset=["usd_per_million"]).groupby(
        ["variant", "option"], sort=False
    ):
        projected = (g["throughput_source"] == "projected").any()
        label = f"{variant} on {option}" + (" (projected)" if projected else "")
        dash = "dot" if projected else "solid"
        u = g[g["axis"] == "utilisation"].sort_values("utilisation")
        fig.add_scatter(
            x=u["utilisation"],
            y=u["usd_per_million"],
            mode="lines+markers",
            name=label,
            legendgroup=label,
            line={"dash": dash},
            row=1,
            col=1,
            customdata=u[["hourly_usd", "throughput_per_s"]].to_numpy(),
            hovertemplate="utilisation %{x:.2f}: $%{y:.4f}/1M<br>$%{customdata[0]:.4f}/h, %{customdata[1]:,.1f}/s<extra>"
            + label
            + "</extra>",
        )
        v = g[g["axis"] == "requests_per_day"].sort_values("requests_per_day")
        fig.add_scatter(
            x=v["requests_per_day"],
            y=v["monthly_usd"],
            mode="lines+markers",
            name=label,
            legendgroup=label,
            showlegend=False,
            line={"dash": dash},
            row=1,
            col=2,
            customdata=v[["instances_needed", "hourly_usd"]].to_numpy(dtype=float),
            hovertemplate="%{x:,.0f} requests/day: $%{y:,.0f}/month<br>%{customdata[0]:.0f} machine(s) x $%{customdata[1]:.4f}/h x 730 h<extra>"
            + label
            + "</extra>",
        )
    fig.update_xaxes(title_text="utilisation", row=1, col=1)
    fig.update_xaxes(title_text="requests per day", type="log", row=1, col=2)
    fig.update_yaxes(title_text="$ per 1M", type="log", row=1, col=1)
    fig.update_yaxes(title_text="$ per month", type="log", row=1, col=2)
    return fig

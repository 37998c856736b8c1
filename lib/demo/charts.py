"""The demo's money chart: the monthly bill of each version at the stated volume, one bar per
machine, the version to ship marked. A pure function of ``pitch.monthly_bills``' frame."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from lib.chart_style import empty_figure, ordered_colors, titled_layout
from lib.format import MISSING, fmt_usd


def _text(value) -> str:
    text = "" if value is None else str(value)
    return MISSING if text in ("", "nan", "None", "<NA>") else text


def _bill(x: float) -> str:
    return fmt_usd(x) if x < 100 else f"${x:,.0f}"


def monthly_bill_chart(bills: pd.DataFrame, pick: str | None, volume: str) -> go.Figure:
    """Bars of the monthly bill per version (x) and machine (colour), labelled with the bill
    and the machines needed; the version to ship is marked on the axis."""
    if bills.empty:
        return empty_figure("No prices for these versions on these machines")
    colors = ordered_colors(bills["option"])
    variants = list(dict.fromkeys(bills["variant"]))
    # Chains wrap at each step so long names never run off the axis.
    wrapped = {v: str(v).replace("+", "+<br>") for v in variants}
    labels = {
        v: (f"<b>{wrapped[v]}</b><br>(ship this)" if v == pick else wrapped[v]) for v in variants
    }
    fig = go.Figure()
    for option, g in bills.groupby("option", sort=False):
        projected = bool(g["projected"].any())
        fig.add_trace(
            go.Bar(
                x=[labels[v] for v in g["variant"]],
                y=g["monthly_usd"],
                name=f"{option}{' (projected)' if projected else ''}",
                marker_color=colors[option],
                text=[_bill(m) for m in g["monthly_usd"]],
                textposition="outside",
                cliponaxis=False,
                customdata=[
                    [_text(n), _text(b), _text(src), _text(date)]
                    for n, b, src, date in zip(
                        g["instances"], g["basis"], g["price_source"], g["price_date"], strict=True
                    )
                ],
                hovertemplate=(
                    "<b>%{x}</b> on " + str(option) + "<br>%{y:$,.0f} a month, %{customdata[0]} "
                    "machine(s)<br>%{customdata[1]}<br>price: %{customdata[2]} (%{customdata[3]})"
                    "<extra></extra>"
                ),
            )
        )
    fig.update_layout(barmode="group", uniformtext=dict(minsize=10, mode="hide"))
    fig.update_yaxes(title_text="$ a month", rangemode="tozero", tickformat="$,.0f")
    fig.update_xaxes(
        categoryorder="array", categoryarray=[labels[v] for v in variants], tickangle=0
    )
    titled_layout(fig, f"Monthly bill at {volume} requests a day", "Lower is better")
    return fig

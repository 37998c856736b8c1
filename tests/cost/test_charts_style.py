"""Cost charts follow the one chart style (issue 13): accuracy in %, explicit 1-2-5 log ticks,
labels only on frontier points, family colours, the legend below the x-axis title (it overlapped
the x labels), no "Pareto frontier" entry without a line, "–" for what is missing."""

from __future__ import annotations

import math

import pandas as pd

from lib import chart_style as style
from lib.cost import charts


def _table(n_frontier: int = 3) -> pd.DataFrame:
    """A small cost table: variants x options; ``n_frontier`` points on the frontier."""
    rows = []
    variants = ["fp32", "int8", "int8@ort", "distill:3+int8", "prune-structured:30"]
    accs = [0.86, 0.85, 0.85, 0.84, 0.80]
    costs = [1.0, 0.5, 0.4, 0.3, 0.9]
    if n_frontier == 1:
        costs = [0.1, 0.5, 0.4, 0.3, 0.9]  # fp32 cheapest and most accurate
    for option, factor in (("c7i.2xlarge", 1.0), ("g6.xlarge", 0.05)):
        for v, a, c in zip(variants, accs, costs, strict=True):
            rows.append(
                {
                    "variant": v,
                    "option": option,
                    "accuracy": a,
                    "usd_per_million": c * factor,
                    "hourly_usd": 0.36 * factor * 10,
                    "throughput_per_s": 100.0,
                    "utilisation": 0.5,
                    "throughput_source": "measured" if option == "c7i.2xlarge" else "projected",
                    "throughput_assumptions": None,
                    "option_kind": "cloud",
                    "price_source": "skypilot-catalog",
                    "price_date": float("nan"),
                }
            )
    return pd.DataFrame(rows)


def test_accuracy_cost_chart_is_in_percent_on_1_2_5_log_ticks():
    fig = charts.accuracy_cost_chart(_table())
    assert fig.layout.yaxis.title.text == "Accuracy (%)"
    points = [y for t in fig.data if t.name != "Pareto frontier" for y in t.y]
    assert min(points) >= 70 and max(points) <= 100  # was 0.76-0.81
    ax = fig.layout.xaxis
    assert ax.type == "log" and ax.tickmode == "array" and len(ax.tickvals) >= 2
    for v, text in zip(ax.tickvals, ax.ticktext, strict=True):
        assert round(v / 10 ** math.floor(math.log10(v) + 1e-9), 6) in (1, 2, 5)
        assert text.startswith("$") and "e" not in text


def test_accuracy_cost_chart_labels_only_frontier_points():
    table = _table()
    fig = charts.accuracy_cost_chart(table)
    front = charts.pareto_frontier(table)
    on_front = set(zip(front["variant"], front["option"], strict=True))
    labelled = 0
    for t in fig.data:
        if t.name == "Pareto frontier" or t.text is None:
            continue
        variant = t.name.rsplit(" (", 1)[0]
        for text, option in zip(t.text, t.customdata, strict=True):
            if text:
                labelled += 1
                assert (variant, option[9]) in on_front
    assert labelled >= 1


def test_pareto_frontier_entry_only_with_a_line():
    assert any(t.name == "Pareto frontier" for t in charts.accuracy_cost_chart(_table()).data)
    one = charts.accuracy_cost_chart(_table(n_frontier=1))
    assert len(charts.pareto_frontier(_table(n_frontier=1))) == 1
    assert not any(t.name == "Pareto frontier" and t.showlegend is not False for t in one.data)


def test_cost_bars_log_ticks_legend_colours_and_hover():
    fig = charts.cost_per_million_chart(_table())
    ax = fig.layout.yaxis
    assert ax.type == "log" and ax.tickmode == "array"
    assert all(t.startswith("$") for t in ax.ticktext)
    lg = fig.layout.legend
    # below the x-axis title (hardware names), not over them
    assert (lg.orientation, lg.yref, lg.y, lg.yanchor) == ("h", "container", 0, "bottom")
    assert fig.layout.xaxis.automargin is True
    assert fig.layout.height >= 440 + style.legend_height(style.legend_entries(fig))
    colours = {t.legendgroup: t.marker.color for t in fig.data}
    assert len(set(colours.values())) == len(colours)
    for v, c in colours.items():
        assert c in style.FAMILY_SHADES[style.variant_family(v)]
    for t in fig.data:  # a missing assumption or date is a dash, never None or nan
        for row in t.customdata:
            assert "None" not in row and "nan" not in [str(x).lower() for x in row]
            assert style.MISSING in row


def test_sensitivity_chart_log_axes_have_explicit_ticks():
    rows = []
    for option in ("c7i.2xlarge", "L4 (owned)"):
        for u in (0.25, 0.5, 1.0):
            rows.append(
                dict(variant="int8", option=option, axis="utilisation", utilisation=u,
                     usd_per_million=0.2 / u, hourly_usd=0.36, throughput_per_s=100.0,
                     throughput_source="measured", requests_per_day=math.nan,
                     monthly_usd=math.nan, instances_needed=math.nan)
            )  # fmt: skip
        for vol in (1e4, 1e6, 1e8):
            rows.append(
                dict(variant="int8", option=option, axis="requests_per_day", utilisation=0.5,
                     usd_per_million=0.4, hourly_usd=0.36, throughput_per_s=100.0,
                     throughput_source="measured", requests_per_day=vol,
                     monthly_usd=263.0 * max(1, vol / 1e6), instances_needed=max(1, vol / 1e6))
            )  # fmt: skip
    fig = charts.sensitivity_chart(pd.DataFrame(rows))
    assert len(fig.data) == 4
    for ax in (fig.layout.xaxis2, fig.layout.yaxis, fig.layout.yaxis2):
        assert ax.type == "log" and ax.tickmode == "array" and len(ax.tickvals) >= 2
        assert all("e" not in t for t in ax.ticktext)
    assert list(fig.layout.xaxis2.ticktext) == ["10k", "100k", "1M", "10M", "100M"]
    assert fig.layout.legend.yref == "container"
    assert style.is_empty_figure(charts.sensitivity_chart(pd.DataFrame()))

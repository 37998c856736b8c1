"""lib.chart_style: one empty figure and one metric descriptor for results, compare and cost charts."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from lib import chart_style as style
from lib import compare as cmp
from lib.cost import charts as cost_charts
from lib.results import charts as results_charts
from lib.results import frame as rf


def _annotation_style(fig: go.Figure) -> dict:
    a = fig.layout.annotations[0]
    return {
        "showarrow": a.showarrow,
        "x": a.x,
        "y": a.y,
        "xref": a.xref,
        "yref": a.yref,
        "font_size": a.font.size,
        "template": fig.layout.template,
        "font": fig.layout.font,
    }


def test_results_compare_and_cost_charts_share_the_empty_figure():
    reference = style.empty_figure("why")
    empty_cost = pd.DataFrame(columns=["variant", "option", "accuracy", "usd_per_million"])
    figs = {
        "results": results_charts.metric_bars(rf.to_frame([]), "accuracy"),
        "compare": cmp.accuracy_latency_chart(cmp.compare_frame([])),
        "compare bars": cmp.grouped_bars(cmp.compare_frame([]), "accuracy"),
        "cost bars": cost_charts.cost_per_million_chart(empty_cost),
        "cost scatter": cost_charts.accuracy_cost_chart(empty_cost),
    }
    for name, fig in figs.items():
        assert style.is_empty_figure(fig), name
        assert fig.layout.annotations[0].text, name
        assert _annotation_style(fig) == _annotation_style(reference), name
    # The cost charts keep their title above the message.
    assert "$ per 1M inferences" in figs["cost bars"].layout.title.text


def test_one_metric_descriptor_for_results_and_compare_bars():
    for table in (results_charts.METRICS, cmp.BAR_METRICS):
        assert all(isinstance(m, style.Metric) and m.key == k for k, m in table.items())
    speedup = results_charts.METRICS["speedup"]
    assert speedup.column == "speedup_vs_fp32" and speedup.per_batch
    assert cmp.BAR_METRICS["p95_ms"].column == "p95_ms"  # the column defaults to the key
    assert cmp.BAR_METRICS["usd_per_million"].per_option
    assert cmp.BAR_METRICS["accuracy"].axis_title == "Accuracy (%)"
    assert cmp.BAR_METRICS["accuracy"].format(81.23) == "81.2"
    assert cmp.BAR_METRICS["accuracy"].format(float("nan")) == "–"
    assert cmp.BAR_METRICS["p95_ms"].better == "lower is better"


def test_variant_colours_are_shared():
    assert results_charts.variant_color("int8") == style.variant_color("int8")
    assert style.ordered_colors(["b", "a", "b", "c"]) == {
        "b": style.SERIES_PALETTE[0],
        "a": style.SERIES_PALETTE[1],
        "c": style.SERIES_PALETTE[2],
    }

"""Results charts follow the one chart style (issue 13): frontier-only labels, family colours,
explicit log ticks, the legend below the x-axis title, accuracy in %, "–" for missing values."""

from __future__ import annotations

import pytest

from lib import chart_style as style
from lib.results import charts
from lib.results import frame as rf
from tests.helpers.results import result, sample


def _rows() -> list[dict]:
    rows = sample()
    # dominated by fp32 (slower and less accurate): no label
    rows.append(result("prune-unstructured:50", 0.790, 12.0, 200.0, 90.0))
    rows.append(result("distill:3+int8", 0.800, 4.0, 50.0, 12.0))
    return rows


def test_accuracy_vs_latency_labels_only_the_frontier():
    fig = charts.accuracy_vs_latency(rf.to_frame(_rows()), 1)
    by = {t.name: t for t in fig.data}
    assert by["prune-unstructured:50"].text is None  # beaten: hover only
    assert "on the frontier" not in by["prune-unstructured:50"].hovertemplate
    labelled = [n for n, t in by.items() if t.text and t.text[0]]
    assert labelled and all("on the frontier" in by[n].hovertemplate for n in labelled)
    assert all(t.hovertemplate for t in fig.data)  # every point has its numbers


def test_accuracy_vs_latency_axes_units_and_legend():
    fig = charts.accuracy_vs_latency(rf.to_frame(_rows()), 32)
    assert fig.layout.yaxis.title.text == "Accuracy (%)"
    assert all(0 <= t.y[0] <= 100 for t in fig.data)
    assert "ms" in fig.layout.xaxis.title.text
    lg = fig.layout.legend
    assert (lg.orientation, lg.yref, lg.y, lg.yanchor) == ("h", "container", 0, "bottom")
    colours = {t.name: t.marker.color for t in fig.data}
    assert len(set(colours.values())) == len(colours)
    for v, c in colours.items():
        assert c in style.FAMILY_SHADES[style.variant_family(v)]
    assert colours["int8"] != colours["distill:3+int8"]


def test_throughput_vs_batch_has_plain_explicit_log_ticks():
    fig = charts.throughput_vs_batch(rf.to_long(sample()))
    ax = fig.layout.xaxis
    assert ax.type == "log" and ax.tickmode == "array"
    assert list(ax.tickvals) == [1, 32] and list(ax.ticktext) == ["1", "32"]


def test_bar_labels_outside_or_dropped_when_crowded():
    fig = charts.metric_bars(rf.to_frame(sample()), "throughput")
    assert {t.textposition for t in fig.data} == {"outside"}
    many = [result(f"prune-structured:{p}", 0.8, 10.0, 100.0, 50.0) for p in range(10, 50, 2)]
    crowded = charts.metric_bars(rf.to_frame(many), "throughput")  # 20 variants x 2 batches
    assert {t.textposition for t in crowded.data} == {"none"}
    # a bar of a missing value says "–", never "nan"
    rows = sample()
    rows[1]["size_mb"] = None
    bars = charts.metric_bars(rf.to_frame(rows), "size_mb")
    assert "–" in bars.data[0].text and "nan" not in " ".join(bars.data[0].text)


@pytest.mark.parametrize(
    "build",
    [
        lambda rows: charts.accuracy_vs_latency(rf.to_frame(rows), 1),
        lambda rows: charts.metric_bars(rf.to_frame(rows), "p50_ms"),
        lambda rows: charts.throughput_vs_batch(rf.to_long(rows)),
    ],
)
def test_hovers_say_dash_for_what_is_missing(build):
    rows = sample()
    rows[0]["latency_ms"]["1"]["p90"] = None
    rows[0]["size_mb"] = None
    fig = build(rows)
    for t in fig.data:
        text = " ".join([t.hovertemplate or ""] + list(t.hovertext or []))
        assert "nan" not in text.lower() and "None" not in text

"""lib.results.charts: pure DataFrame -> plotly Figure functions."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from lib.results import charts
from lib.results import frame as rf
from tests.helpers.results import sample


@pytest.fixture
def frame():
    return rf.to_frame(sample())


def test_accuracy_vs_latency_one_point_per_measured_variant(frame):
    fig = charts.accuracy_vs_latency(frame, 32)
    assert isinstance(fig, go.Figure)
    names = [t.name for t in fig.data]
    assert names == ["fp32", "half", "int8"]  # the failed variant has no point
    int8 = fig.data[2]
    assert list(int8.x) == [80.0] and list(int8.y) == pytest.approx([80.8])
    assert "batch 32" in fig.layout.title.text
    assert "ms" in fig.layout.xaxis.title.text and "%" in fig.layout.yaxis.title.text
    assert "p90" in int8.hovertemplate and "size" in int8.hovertemplate


def test_accuracy_interval_whiskers_when_present():
    rows = sample()
    rows[1]["accuracy_ci"] = [0.79, 0.83]
    fig = charts.accuracy_vs_latency(rf.to_frame(rows), 1)
    half = fig.data[1]
    assert half.error_y.visible
    assert half.error_y.array[0] == pytest.approx(2.0)


def test_colors_are_consistent_across_charts(frame):
    scatter = charts.accuracy_vs_latency(frame, 1)
    bars = charts.metric_bars(frame, "p50_ms")
    s_colors = {t.name: t.marker.color for t in scatter.data}
    b_colors = {t.name: t.marker.color for t in bars.data}
    assert s_colors == b_colors
    assert charts.variant_color("distill:3+int8@ort") == charts.variant_color("distill:3+int8@ort")


def test_metric_bars_per_batch_are_grouped(frame):
    fig = charts.metric_bars(frame, "throughput")
    assert fig.layout.barmode == "group"
    assert [t.name for t in fig.data] == ["fp32", "half", "int8"]
    assert list(fig.data[0].x) == ["batch 1", "batch 32"]
    assert "items/s" in fig.layout.yaxis.title.text


def test_metric_bars_scalar_in_percent(frame):
    fig = charts.metric_bars(frame, "accuracy")
    assert len(fig.data) == 1
    assert list(fig.data[0].x) == ["fp32", "half", "int8"]
    assert list(fig.data[0].y) == pytest.approx([81.2, 81.0, 80.8])
    assert "Accuracy (%)" in fig.layout.title.text


def test_metric_bars_rejects_unknown_metric(frame):
    with pytest.raises(ValueError, match="unknown metric"):
        charts.metric_bars(frame, "vibes")


def test_metric_options_only_those_with_values(frame):
    options = charts.metric_options(frame)
    assert {"accuracy", "p50_ms", "speedup", "size_mb"} <= set(options)
    assert "energy_j_per_1k" not in options


def test_throughput_vs_batch_and_latency_vs_length():
    long = rf.to_long(sample(), seq_len=128)
    fig = charts.throughput_vs_batch(long)
    assert [t.name for t in fig.data] == ["fp32", "half", "int8"]
    assert list(fig.data[2].x) == [1, 32]
    # A sequence-length sweep: the same variants at two lengths.
    sweep = rf.to_long(sample(), seq_len=64)
    both = __import__("pandas").concat([long, sweep])
    fig = charts.latency_vs_length(both)
    assert len(fig.data) == 6  # 3 variants x 2 batch sizes
    assert sorted(fig.data[0].x) == [64, 128]
    assert "tokens" in fig.layout.xaxis.title.text


def test_empty_inputs_give_a_message_not_an_error():
    empty = rf.to_frame([])
    for fig in (
        charts.accuracy_vs_latency(empty, 32),
        charts.metric_bars(empty, "accuracy"),
        charts.throughput_vs_batch(rf.to_long([])),
        charts.latency_vs_length(rf.to_long([])),
    ):
        assert isinstance(fig, go.Figure)
        assert fig.layout.annotations and fig.layout.annotations[0].text

"""The Results page's roofline chart: a pure function of roofline_frame's DataFrame."""

from __future__ import annotations

import pytest

from lib.chart_style import is_empty_figure
from lib.measure.roofline import for_result, roofline_frame
from lib.results.roofline_charts import roofline_chart
from tests.helpers.results import sample

AMX_XEON = {
    "device": "cpu",
    "cpu_model": "Intel Xeon",
    "cpu_flags": ["AVX2", "AVX512F", "AVX512-VNNI", "AVX512-BF16", "AMX-BF16", "AMX-INT8"],
    "threads": 2,
}
HW = {"clock_ghz": 2.0, "clock_source": "test", "physical_cores": 2}


def frame():
    results = [dict(r, flops_per_item=2.0e9) for r in sample() if r["status"] == "ok"]
    for r in results:
        r["roofline"] = for_result(r, AMX_XEON, HW)
    return roofline_frame(results)


def test_one_bar_per_variant_sorted_by_share_with_its_rates():
    fig = roofline_chart(frame(), 32)
    bars = {t.name: t for t in fig.data}
    assert set(bars) == {"fp32", "half", "int8"}
    # fp32 at batch 32: 2e9 x 32 / 0.160 s = 400 GFLOP/s of 2 cores x 2 GHz x 64 = 256 -> 156%
    assert bars["fp32"].x[0] == pytest.approx(100 * 400 / 256, rel=1e-3)
    assert bars["fp32"].text[0] == "400 of 256 GFLOP/s (156%)"
    assert "GOP/s" in bars["int8"].text[0]  # integer maths is counted in operations
    shares = [t.x[0] for t in fig.data]
    assert shares == sorted(shares)  # highest share drawn on top
    assert fig.layout.xaxis.range[1] > max(shares)  # room for the outside labels


def test_a_batch_without_rooflines_is_an_empty_figure():
    assert is_empty_figure(roofline_chart(frame(), 8))
    assert is_empty_figure(roofline_chart(roofline_frame([]), 32))

"""Serving charts follow the one chart style (issue 13): goodput labels that do not overlap,
1-2-5 log ticks on the latency axis, family colours, the legend below the x-axis title."""

from __future__ import annotations

import pandas as pd

from lib import chart_style as style
from lib.serving import charts, frames
from tests.helpers.results import result
from tests.serving.test_charts import load_test, served_results

CROWD = ["fp32", "half", "int8", "int8@ort", "distill:3+int8", "distill:3+int8@ort"]


def _crowded() -> pd.DataFrame:
    """Six variants whose goodput stars sit almost on top of each other."""
    return frames.load_frame(
        [result(v, 0.8, 1, 1, 1, load_test=load_test(100.0 + i)) for i, v in enumerate(CROWD)]
    )


def test_goodput_labels_do_not_pile_up_and_every_star_has_its_hover():
    fig = charts.hockey_stick_chart(_crowded())
    stars = [t for t in fig.data if t.name.endswith(" goodput")]
    assert len(stars) == len(CROWD)
    labelled = [t for t in stars if t.text and t.text[0]]
    assert 1 <= len(labelled) < len(CROWD)  # the old chart wrote all six on one spot
    assert all("goodput" in t.hovertext[0] for t in stars)


def test_hockey_stick_log_axis_has_1_2_5_ticks_and_the_legend_is_below():
    lt = load_test(100.0)
    lt["server_points"][-1]["p99_ms"] = 20_000.0
    fig = charts.hockey_stick_chart(frames.load_frame([result("fp32", 0.8, 1, 1, 1, load_test=lt)]))
    ax = fig.layout.yaxis
    assert ax.type == "log" and ax.tickmode == "array" and len(ax.tickvals) >= 2
    assert all("e" not in t for t in ax.ticktext)
    lg = fig.layout.legend
    assert (lg.orientation, lg.yref, lg.y, lg.yanchor) == ("h", "container", 0, "bottom")


def test_serving_charts_colour_variants_by_family():
    fig = charts.hockey_stick_chart(_crowded())
    colours = {t.name: t.line.color for t in fig.data if t.name in CROWD}
    assert len(set(colours.values())) == len(CROWD)
    for v, c in colours.items():
        assert c in style.FAMILY_SHADES[style.variant_family(v)]
    g = charts.goodput_chart(frames.goodput_frame(served_results()))
    assert list(g.data[0].marker.color) == [
        style.variant_colors(["fp32", "int8@ort"])[v] for v in ("fp32", "int8@ort")
    ]
    assert g.data[0].textposition == "outside"


def test_goodput_with_prices_and_breakdown_keep_their_legends_below():
    g = frames.goodput_frame(served_results())
    priced = pd.DataFrame(
        {
            "variant": ["fp32", "int8@ort"],
            "option": ["c7i", "c7i"],
            "usd_per_million": [0.5, 0.2],
            "basis": ["goodput", "goodput"],
        }
    )
    for fig in (
        charts.goodput_chart(g, priced),
        charts.breakdown_chart(frames.breakdown_frame(served_results())),
    ):
        lg = fig.layout.legend
        assert (lg.yref, lg.y, lg.yanchor) == ("container", 0, "bottom")
        lines = fig.layout.title.text.count("<br>") + 1
        assert fig.layout.margin.t >= lines * style.TITLE_LINE + style.TITLE_TOP

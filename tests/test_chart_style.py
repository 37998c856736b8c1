"""lib.chart_style: one empty figure and one metric descriptor for results, compare and cost charts;
the style rules every chart follows (issue 13): family colours, the legend below the x-axis title,
the title block, 1-2-5 log ticks, frontier-only labels that overlap nothing, bar labels, "–"."""

from __future__ import annotations

import colorsys
import math

import pandas as pd
import plotly.graph_objects as go
import pytest

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


# ------------------------------------------------------------------ the style rules (issue 13)
# The variants of the bundled demo: every family, runtimes, backends, chains.
DEMO_VARIANTS = [
    "fp32",
    "fp32@ort",
    "fp32@compile",
    "half",
    "int8",
    "int8@ort",
    "int8:per-channel",
    "int8:per-tensor@ort",
    "prune-structured:30",
    "prune-unstructured:50",
    "distill:3",
    "distill:3+int8",
    "distill:3+int8@ort",
    "distill:3+prune-structured:30+int8@ort",
    "distill:3+prune-structured:40+int8@ort",
]
# Hue ranges (degrees) of each family's shades; the baseline is grey (low saturation).
HUES = {
    "half": (190, 235),
    "int8": (15, 50),
    "prune": (75, 150),
    "distill": (250, 290),
    "combo": (320, 360),
    "other": (170, 195),
}


def _hsv(hex_colour: str) -> tuple[float, float, float]:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    return h * 360, s, v


@pytest.mark.parametrize(
    "variant, family",
    [
        ("fp32", "baseline"),
        ("fp32@ort", "baseline"),
        ("fp32@compile", "baseline"),
        ("half", "half"),
        ("fp16", "half"),
        ("bf16@compile", "half"),
        ("int8", "int8"),
        ("int8@ort", "int8"),
        ("int8:per-channel", "int8"),
        ("int8:per-tensor@ort", "int8"),
        ("prune-structured:30", "prune"),
        ("prune-unstructured:50", "prune"),
        ("prune50", "prune"),
        ("prune-structured:30+int8@ort", "prune"),
        ("distill:3", "distill"),
        ("distill:3+int8", "distill"),
        ("distill:3+half@ort", "distill"),
        ("student:/models/distilbert", "distill"),
        ("distill:3+prune-structured:30+int8@ort", "combo"),
        ("prune-structured:40+distill:2", "combo"),
        ("mystery", "other"),
    ],
)
def test_a_variant_belongs_to_its_chains_main_technique(variant, family):
    assert style.variant_family(variant) == family


def test_family_shades_share_a_hue_and_the_baseline_is_grey():
    for family, shades in style.FAMILY_SHADES.items():
        assert len(set(shades)) == len(shades) == 6, family
        for colour in shades:
            h, s, v = _hsv(colour)
            if family == "baseline":
                assert s * v < 0.12, colour  # chroma: grey, whatever its tint
            else:
                lo, hi = HUES[family]
                assert lo <= h <= hi, (family, colour, h)


def test_every_variant_is_in_its_familys_hue_and_distinct_variants_get_distinct_colours():
    colours = style.variant_colors(DEMO_VARIANTS)
    assert len(set(colours.values())) == len(DEMO_VARIANTS)  # the old palette repeated greens
    for v, c in colours.items():
        assert c in style.FAMILY_SHADES[style.variant_family(v)], v
    # int8 and the distilled chain with int8 used to share a colour: now not even a family
    assert style.variant_family("int8") != style.variant_family("distill:3+int8")
    # runtimes are shades of their precision's family
    assert colours["fp32@ort"] in style.FAMILY_SHADES["baseline"]
    assert colours["int8@ort"] in style.FAMILY_SHADES["int8"]


def test_variant_colours_are_stable_across_charts_and_sessions():
    full = style.variant_colors(DEMO_VARIANTS)
    assert full == style.variant_colors(list(reversed(DEMO_VARIANTS)))  # order does not matter
    for v in DEMO_VARIANTS:
        alone = style.variant_colors([v])[v]
        assert alone == style.variant_color(v)  # what a variant asks for, stable (no hash salt)
    # a chart holding a subset keeps the colours of the full set where nothing collides
    subset = ["fp32", "half", "int8", "int8@ort", "distill:3+prune-structured:30+int8@ort"]
    assert all(style.variant_colors(subset)[v] == full[v] for v in subset)
    assert style.variant_color("fp32") == "#4B5563" and style.variant_color("half") == "#2563EB"


def _fig_with_traces(names: list[str]) -> go.Figure:
    fig = go.Figure()
    for i, n in enumerate(names):
        fig.add_scatter(x=[i, i + 1], y=[1, 2], name=n, mode="lines+markers")
    return fig


@pytest.mark.parametrize("n", [2, 6, 17])
def test_the_legend_sits_below_the_x_axis_title_and_the_figure_grows_for_it(n):
    names = [DEMO_VARIANTS[i % len(DEMO_VARIANTS)] + f" #{i}" for i in range(n)]
    fig = style.style_layout(_fig_with_traces(names), "A title", "A subtitle", height=440)
    lg = fig.layout.legend
    # In container coordinates at the bottom: plotly reserves its height as a margin and stacks
    # the x axis' automargin (ticks, title) above it, so it can overlap neither.
    assert (lg.orientation, lg.yref, lg.y, lg.yanchor) == ("h", "container", 0, "bottom")
    assert lg.xref == "paper" and lg.x == 0 and lg.xanchor == "left"
    assert fig.layout.xaxis.automargin is True and fig.layout.yaxis.automargin is True
    assert fig.layout.margin.autoexpand is True
    need = style.legend_height(names)
    assert need >= style.LEGEND_ROW * style.legend_rows(names) > 0
    assert fig.layout.height >= 440 + need  # the plot keeps its size
    assert fig.layout.showlegend is True


def test_legend_rows_follow_plotlys_grid():
    assert style.legend_rows([]) == 0
    assert style.legend_rows(["fp32", "half", "int8"]) == 1  # fits on one row
    long = ["distill:3+prune-structured:40+int8@ort"] + ["x"] * 9
    # a grid whose columns are as wide as the widest entry: one column at 440 px
    width = style.LEGEND_ITEM + style.text_width(long[0])
    per_row = max(1, int((440 + style.LEGEND_GAP) // (width + style.LEGEND_GAP)))
    assert style.legend_rows(long) == math.ceil(10 / per_row)
    assert style.legend_rows(long, width=2000) < style.legend_rows(long)


def test_the_title_block_is_wrapped_and_the_top_margin_holds_it():
    subtitle = "Up and left is better · bold: Pareto frontier · open: beaten on both · " * 2
    fig = style.style_layout(
        go.Figure(), "Accuracy vs $ per 1M inferences on every machine", subtitle
    )
    text, lines = style.title_text("Accuracy vs $ per 1M inferences on every machine", subtitle)
    assert fig.layout.title.text == text and lines >= 3
    for line in text.split("<br>"):
        assert len(style.plain_text(line)) <= style.SUBTITLE_CHARS
    assert fig.layout.margin.t >= style.title_height("x", subtitle) >= lines * style.TITLE_LINE
    assert fig.layout.title.yref == "container" and fig.layout.title.yanchor == "top"
    # parts of a subtitle stay whole
    assert style.wrap(
        "goodput higher, $ lower · measured with MLPerf LoadGen on this machine", 50
    ) == [
        "goodput higher, $ lower ·",
        "measured with MLPerf LoadGen on this machine",
    ]


def test_axis_titles_are_wrapped_short():
    t = style.axis_title(
        "p95 latency at batch 1 (ms, log scale; as measured on each run's hardware)"
    )
    assert all(len(line) <= style.AXIS_TITLE_CHARS for line in t.split("<br>"))


ONE_TWO_FIVE = {m * 10.0**e for e in range(-6, 10) for m in (1, 2, 5)}


def _is_125(v: float) -> bool:
    return any(math.isclose(v, t, rel_tol=1e-9) for t in ONE_TWO_FIVE)


@pytest.mark.parametrize(
    "values",
    [[3.0, 250.0], [0.004, 11.0], [0.8, 1.1], [120, 180], [1e3, 1e8], [0.03, 0.05]],
)
def test_log_ticks_are_1_2_5_with_plain_text(values):
    ax = style.log_ticks(values)
    assert ax["type"] == "log" and ax["tickmode"] == "array"
    ticks = ax["tickvals"]
    assert len(ticks) >= 2 and all(_is_125(t) for t in ticks)
    lo, hi = ax["range"]
    assert all(lo <= math.log10(t) <= hi for t in ticks)
    assert lo <= math.log10(min(values)) and math.log10(max(values)) <= hi
    for text in ax["ticktext"]:
        assert "e" not in text and "×" not in text, text  # never 2e3, never minor "3, 2, 9"
    if math.log10(max(values) / min(values)) > 2.5:  # many decades: powers of ten only
        assert all(math.isclose(math.log10(t), round(math.log10(t))) for t in ticks)


def test_log_ticks_exact_prefix_and_plain_numbers():
    ax = style.log_ticks([1, 8, 32, 8], exact=True)
    assert ax["tickvals"] == [1.0, 8.0, 32.0] and ax["ticktext"] == ["1", "8", "32"]
    assert style.log_ticks([0.01, 0.2], prefix="$")["ticktext"][0].startswith("$0.0")
    assert [style.plain_number(v) for v in (0.005, 0.25, 2, 1000, 20000, 2e6)] == [
        "0.005",
        "0.25",
        "2",
        "1,000",
        "20k",
        "2M",
    ]
    assert style.log_ticks([float("nan"), None]) == {"type": "log"}


def test_frontier_mask():
    xs = [10, 20, 30, 15, 40, None]
    ys = [0.80, 0.85, 0.90, 0.79, 0.88, 0.99]
    assert style.frontier_mask(xs, ys) == [True, True, True, False, False, False]
    assert style.label_order(xs, ys, style.frontier_mask(xs, ys)) == [2, 0, 1]


def test_placed_labels_never_overlap_nor_leave_the_plot():
    # 12 points in a tight cluster: some get a label, none overlaps another, none leaves
    xs = [10 + i * 0.3 for i in range(12)]
    ys = [80 + (i % 3) * 0.2 for i in range(12)]
    texts = [f"variant-{i}+int8@ort" for i in range(12)]
    pos = style.place_labels(xs, ys, texts, x_range=(0, 20), y_range=(70, 90))
    assert 0 < sum(p is not None for p in pos) < 12
    px = [x / 20 * style.PLOT_WIDTH for x in xs]
    py = [style.PLOT_HEIGHT - (y - 70) / 20 * style.PLOT_HEIGHT for y in ys]
    boxes = []
    for x, y, t, p in zip(px, py, texts, pos, strict=True):
        if p is None:
            continue
        w = len(t) * style.LABEL_EM * style.LABEL_SIZE
        box = style._label_box(p, x, y, w, style.LABEL_SIZE * 1.3, 7.0)
        assert box[0] >= 0 and box[2] <= style.PLOT_WIDTH and box[1] >= 0
        assert not any(style._overlap(box, b) for b in boxes)
        boxes.append(box)
    # a point near the right edge is labelled on its left
    assert style.place_labels([19.5], [80], ["int8@ort"], x_range=(0, 20), y_range=(70, 90)) in (
        ["top left"],
        ["bottom left"],
    )
    assert style.place_labels([None], [1], ["x"]) == [None]


def test_no_legend_entry_for_a_trace_that_draws_nothing():
    fig = go.Figure()
    fig.add_scatter(x=[1], y=[2], mode="lines", name="Pareto frontier")  # one point: no line
    fig.add_scatter(x=[1, 2], y=[float("nan"), None], mode="markers", name="nothing")
    fig.add_scatter(x=[1, 2], y=[1, 2], mode="lines", name="a line")
    fig.add_bar(x=["a"], y=[1], name="a bar")
    style.style_layout(fig, "t")
    assert [t.showlegend for t in fig.data] == [False, False, None, None]
    assert style.legend_entries(fig) == ["a line", "a bar"]


def test_bar_labels_are_outside_readable_or_absent():
    few = style.bar_label_style(6)
    assert few["textposition"] == "outside" and few["textangle"] == 0
    assert style.bar_label_style(style.MAX_LABELLED_BARS + 1)["textposition"] == "none"
    fig = style.style_layout(go.Figure(go.Bar(x=["a"], y=[1], text=["1"], **few)), "t")
    assert fig.layout.uniformtext.mode == "hide" and fig.layout.uniformtext.minsize >= 10
    assert style.bars_headroom([1.0, 4.0]) == [0.0, pytest.approx(4.6)]


def test_missing_values_are_a_dash():
    assert style.fmt_value(float("nan")) == style.MISSING == "–"
    assert style.fmt_value(None, ",.0f", " ms") == "–"
    assert style.fmt_value(3.14159, ".2f", " ms") == "3.14 ms"


def test_long_category_labels_turned_on_their_side_grow_the_figure_not_squash_the_plot():
    short = go.Figure(go.Bar(x=["fp32", "half", "int8"], y=[1, 2, 3]))
    assert style.category_label_height(short) == 0
    names = list(DEMO_VARIANTS)
    long = go.Figure(go.Bar(x=names, y=list(range(len(names)))))
    grow = style.category_label_height(long)
    widest = style.text_width(max(names, key=len), style.TICK_SIZE)
    assert grow == int(min(widest, style.MAX_TICK_LABEL)) - 2 * style.TICK_SIZE > 0
    assert style.style_layout(long, "t", height=440).layout.height >= 440 + grow
    flat = go.Figure(go.Bar(y=names, x=list(range(len(names))), orientation="h"))
    assert style.category_label_height(flat) == 0  # labels on the left: the y automargin

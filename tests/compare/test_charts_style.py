"""Compare charts follow the one chart style (issue 13): the money chart never adds two runs up,
labels only on frontier points, 1-2-5 log ticks, the legend below the x-axis title, accuracy in
%, family colours, no legend entry that draws nothing, "–" for what is missing."""

from __future__ import annotations

import math

import pytest

from lib import chart_style as style
from lib import compare as cmp
from tests.helpers.runs import GPU_ENV, make_doc, result

OPTIONS = ["c7i.2xlarge", "g4dn.xlarge"]


def _two_runs(same_hardware: bool = False):
    """The demo's shape: two runs with the same variants (fp32, half, int8, prune50)."""
    second = make_doc(
        "r2",
        env=None if same_hardware else GPU_ENV,
        results=[
            result("fp32", "fp32", 0.861, 22, 380, 90.0),
            result("half", "bf16", 0.859, 12, 200, 45.0, p=0.7),
            result("int8", "int8", 0.853, 11, 190, 23.0, p=0.3),
        ],
    )
    return [make_doc(), second]


def _bars(fig):
    """(series name, x, y) of every bar."""
    return [(t.name, x, y) for t in fig.data for x, y in zip(t.x, t.y, strict=True)]


def test_money_chart_puts_two_runs_side_by_side_never_on_top_of_each_other():
    # two CPU runs of the same variants: each run's own $ per 1M on the same machine (the demo's
    # fp32 on c7i.2xlarge showed $5.0 = 2.647 + 2.333, stacked)
    df = cmp.compare_frame(_two_runs(same_hardware=True), 1, OPTIONS)
    fig = cmp.grouped_bars(df, "usd_per_million")
    assert fig.layout.barmode == "group"
    for t in fig.data:  # one bar per variant in each series: nothing for plotly to stack
        assert len(set(t.x)) == len(t.x), t.name
    ok = cmp.ok_candidates(df)
    ok = ok[ok["usd_per_million"].notna()]
    fp32 = [(name, y) for name, x, y in _bars(fig) if x == "fp32"]
    # fp32 on every option priced in each of the 2 runs: one bar each, its own run's value
    assert len(fp32) == (ok["variant"] == "fp32").sum() >= 3
    assert len({n.split(" · ", 1)[1] for n, _ in fp32}) == 2  # both runs
    expected = sorted(ok[ok["variant"] == "fp32"]["usd_per_million"])
    assert sorted(y for _, y in fp32) == pytest.approx(expected)
    c7i = ok[(ok["variant"] == "fp32") & (ok["option"] == "c7i.2xlarge")]["usd_per_million"]
    assert len(c7i) == 2 and c7i.iloc[0] != pytest.approx(c7i.iloc[1])
    assert not any(math.isclose(y, c7i.sum()) for _, y in fp32)  # never the sum of the runs
    # the legend tells the runs apart; the hover names the run
    names = [t.name for t in fig.data]
    assert len(set(names)) == len(names) >= 3
    assert all(" · " in n for n in names)
    assert all("run: " in h for t in fig.data for h in t.hovertext)


def test_money_chart_of_one_run_and_of_two_runs_on_the_same_hardware():
    docs = _two_runs(same_hardware=True)
    df = cmp.compare_frame(docs, 1, OPTIONS)
    fig = cmp.grouped_bars(df, "usd_per_million")
    names = [t.name for t in fig.data]
    assert len(set(names)) == len(names) == 4  # same CPU: still two distinct runs
    one = cmp.grouped_bars(df, "usd_per_million", run_id="r2")
    assert [t.name for t in one.data] == OPTIONS  # one run: one bar per option
    ok = cmp.ok_candidates(df)
    r2 = ok[(ok["run_id"] == "r2") & (ok["option"] == "c7i.2xlarge")].set_index("variant")
    c7i = next(t for t in one.data if t.name == "c7i.2xlarge")
    assert dict(zip(c7i.x, c7i.y, strict=True)) == pytest.approx(r2["usd_per_million"].to_dict())
    assert style.is_empty_figure(cmp.grouped_bars(df, "usd_per_million", run_id="nope"))


def test_measured_bars_are_one_per_run_and_variant_with_readable_labels():
    df = cmp.compare_frame(_two_runs(), 1, OPTIONS)
    fig = cmp.grouped_bars(df, "accuracy")
    pts = cmp.measured_points(df)
    assert len(_bars(fig)) == len(pts)
    for t in fig.data:
        assert t.textposition == "outside" and t.textangle == 0
        assert all(0 <= y <= 100 for y in t.y)  # accuracy in %
    assert "%" in fig.layout.yaxis.title.text
    assert fig.layout.uniformtext.mode == "hide"


def test_crowded_bars_drop_their_labels():
    variants = [f"prune-structured:{p}" for p in range(10, 60, 2)]  # 25 variants, 2 runs
    docs = [
        make_doc(r, results=[result(v, "fp32", 0.8, 10, 100, 50.0) for v in variants])
        for r in ("a", "b")
    ]
    fig = cmp.grouped_bars(cmp.compare_frame(docs, 1, []), "p95_ms")
    assert len(_bars(fig)) > style.MAX_LABELLED_BARS
    assert {t.textposition for t in fig.data} == {"none"}


def test_money_bars_spanning_decades_get_a_log_axis_with_1_2_5_ticks():
    df = cmp.compare_frame([make_doc()], 1, ["c7i.2xlarge", "L4 (owned)"])
    values = cmp.ok_candidates(df)["usd_per_million"]
    fig = cmp.grouped_bars(df, "usd_per_million")
    if values.max() > 20 * values.min():
        ax = fig.layout.yaxis
        assert ax.type == "log" and ax.tickmode == "array"
        assert all(t.startswith("$") and "e" not in t for t in ax.ticktext)
    # money labels are money
    assert all(s.startswith("$") for t in fig.data for s in t.text)


@pytest.fixture
def priced():
    return cmp.compare_frame([make_doc()], 1, OPTIONS)


def _labelled(fig):
    """(variant, text) of every point drawn with a label, and the hover of every point."""
    out = []
    for t in fig.data:
        if t.text is None or t.hovertext is None:
            continue
        out += [(t.name, text, h) for text, h in zip(t.text, t.hovertext, strict=True) if text]
    return out


@pytest.mark.parametrize("chart", [cmp.accuracy_latency_chart, cmp.accuracy_cost_chart])
def test_only_frontier_points_are_labelled_and_every_point_has_a_hover(chart, priced):
    fig = chart(priced)
    labelled = _labelled(fig)
    assert labelled, "the frontier is labelled"
    assert all("on the frontier" in h for _, _, h in labelled)
    for t in fig.data:
        if t.name == "Pareto frontier":
            continue
        assert t.hovertext is not None and len(t.hovertext) == len(t.x)
        if t.opacity < 1:  # beaten: open markers, no text
            assert t.text is None or not any(t.text)
            assert all(s.endswith("-open") for s in t.marker.symbol)
        for h in t.hovertext:
            assert "nan" not in h.lower() and "None" not in h


def test_frontier_labels_do_not_overlap_when_points_crowd():
    results = [result("fp32", "fp32", 0.86, 25, 400, 90.0)]
    # a dense frontier: 12 variants, each a little faster and a little less accurate
    results += [
        result(
            f"prune-structured:{10 + i}+int8@ort", "int8", 0.85 - i * 0.001, 12 - i * 0.2, 200, 20.0
        )
        for i in range(12)
    ]
    fig = cmp.accuracy_latency_chart(cmp.compare_frame([make_doc(results=results)], 1, []))
    labelled = _labelled(fig)
    assert 0 < len(labelled) < 13  # not all of them: the rest are in the hover


def test_log_axes_have_explicit_1_2_5_ticks(priced):
    fig = cmp.accuracy_cost_chart(priced)
    ax = fig.layout.xaxis
    assert ax.type == "log" and ax.tickmode == "array" and len(ax.tickvals) >= 2
    for v, text in zip(ax.tickvals, ax.ticktext, strict=True):
        mantissa = v / 10 ** math.floor(math.log10(v) + 1e-9)
        assert round(mantissa, 6) in (1, 2, 5)
        assert text.startswith("$") and "e" not in text
    gpu = make_doc("r2", env=GPU_ENV, results=[result("fp32", "fp32", 0.9, 0.5, 2, 90.0)])
    lat = cmp.accuracy_latency_chart(cmp.compare_frame([make_doc(), gpu], 1, []))
    assert lat.layout.xaxis.type == "log" and lat.layout.xaxis.tickmode == "array"


@pytest.mark.parametrize(
    "build",
    [
        lambda df: cmp.accuracy_latency_chart(df),
        lambda df: cmp.accuracy_cost_chart(df),
        lambda df: cmp.grouped_bars(df, "usd_per_million"),
        lambda df: cmp.grouped_bars(df, "accuracy"),
    ],
)
def test_every_compare_chart_has_its_legend_below_the_x_axis_title(build, priced):
    fig = build(priced)
    lg = fig.layout.legend
    assert (lg.orientation, lg.yref, lg.y, lg.yanchor) == ("h", "container", 0, "bottom")
    assert fig.layout.xaxis.automargin and fig.layout.yaxis.automargin
    assert fig.layout.height >= 440 + style.legend_height(style.legend_entries(fig)) - 40
    assert fig.layout.margin.t >= style.TITLE_LINE * 2  # the title block fits
    for line in (fig.layout.xaxis.title.text or "").split("<br>"):
        assert len(line) <= style.AXIS_TITLE_CHARS  # was cut to "...hardw" at 600 px


def test_accuracy_is_in_percent_and_colours_follow_the_families(priced):
    fig = cmp.accuracy_latency_chart(priced)
    assert fig.layout.yaxis.title.text == "Accuracy (%)"
    pts = cmp.measured_points(priced).set_index("variant")
    colours = {}
    for t in fig.data:
        if t.name == "Pareto frontier":
            continue
        assert list(t.y) == pytest.approx([pts.loc[t.name, "accuracy"] * 100] * len(t.y))
        colours.setdefault(t.name, set()).add(t.marker.color)
    assert all(len(c) == 1 for c in colours.values())  # frontier and beaten parts agree
    flat = {v: c.pop() for v, c in colours.items()}
    assert len(set(flat.values())) == len(flat)
    for v, c in flat.items():
        assert c in style.FAMILY_SHADES[style.variant_family(v)]


def test_no_pareto_frontier_entry_when_the_frontier_is_one_point():
    # fp32 is faster and more accurate than everything else: a frontier of one point
    doc = make_doc(
        results=[
            result("fp32", "fp32", 0.90, 5, 100, 90.0),
            result("int8", "int8", 0.85, 13, 210, 23.0, p=0.3),
            result("half", "bf16", 0.86, 14, 220, 45.0, p=0.7),
        ]
    )
    fig = cmp.accuracy_latency_chart(cmp.compare_frame([doc], 1, []))
    assert "Pareto frontier" not in [t.name for t in fig.data if t.showlegend is not False]
    assert all(t.showlegend is not False or t.name != "Pareto frontier" for t in fig.data)

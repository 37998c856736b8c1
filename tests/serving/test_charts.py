"""Load-test frames and charts: the hockey stick, goodput at the SLO (and $ per 1M there), the
latency breakdown, the cost basis, the sentence and the SLO filter, on synthetic load tests."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lib import compare as cmp
from lib.chart_style import is_empty_figure
from lib.results import summary
from lib.serving import charts, frames
from tests.helpers.results import result, sample


def load_test(goodput: float, slo: float = 100.0, peak: float | None = None, **extra) -> dict:
    """A synthetic ``load_test`` dict: Server points up to 1.5x goodput, latency rising past it."""
    peak = peak or goodput * 1.6 or 10.0
    loads = [goodput * f for f in (0.25, 0.5, 0.75, 1.0, 1.25, 1.5)] if goodput else [1.0, 2.0]
    points = []
    for q in loads:
        p99 = slo * (0.4 + 0.6 * q / goodput) if goodput else slo * 3
        if goodput and q > goodput:
            p99 = slo * 4 * q / goodput
        points.append(
            {
                "target_qps": q,
                "achieved_qps": q * 0.99,
                "p50_ms": p99 / 3,
                "p99_ms": p99,
                "valid": q <= goodput or not goodput,
                "meets_slo": p99 <= slo,
            }
        )
    return {
        "slo_ms": slo,
        "percentile": 99,
        "tokenizer": "fast",
        "goodput_qps": goodput,
        "single_stream": {"p90_ms": slo / 5},
        "offline": {"qps": peak},
        "server_points": points,
        "breakdown_ms": {"queue": 5.0, "tokenize": 1.0, "model": 20.0, "at": "goodput"},
        "simulated_goodput_qps": goodput * 1.05,
        "simulation": {"error": 0.05 if goodput else None, "within_tolerance": bool(goodput)},
        "note": None if goodput else "Goodput is 0: the SLO is below what this variant reaches.",
        "search": {"converged": True, "bracket": [goodput, goodput * 1.05]},
        **extra,
    }


def served_results() -> list[dict]:
    return [
        result("fp32", 0.81, 10.0, 160.0, 90.0, load_test=load_test(80.0)),
        result("int8@ort", 0.80, 4.0, 60.0, 23.0, load_test=load_test(210.0)),
        result("half", 0.81, 8.0, 100.0, 45.0),  # not load-tested
        {"variant": "int8", "status": "failed", "error": "boom", "load_test": load_test(5.0)},
    ]


# ------------------------------------------------------------------ frames
def test_load_frame_is_long_form_in_run_order_and_by_load():
    df = frames.load_frame(served_results())
    assert list(df.columns) == frames.LOAD_COLUMNS
    assert list(dict.fromkeys(df["variant"])) == ["fp32", "int8@ort"]  # failed/untested left out
    fp32 = df[df["variant"] == "fp32"]
    assert fp32["target_qps"].is_monotonic_increasing and len(fp32) == 6
    assert set(fp32["goodput_qps"]) == {80.0} and set(fp32["slo_ms"]) == {100.0}
    assert fp32["meets_slo"].tolist() == [True, True, True, True, False, False]


def test_frames_of_results_without_a_load_test_are_empty():
    for build in (frames.load_frame, frames.goodput_frame, frames.breakdown_frame):
        assert build(sample()).empty
        assert build([]).empty
    assert not frames.has_load_test(sample())
    assert frames.has_load_test(served_results())


def test_goodput_frame_one_row_per_tested_variant():
    g = frames.goodput_frame(served_results())
    assert g["variant"].tolist() == ["fp32", "int8@ort"]
    row = g.set_index("variant").loc["int8@ort"]
    assert row["goodput_qps"] == 210.0 and row["offline_qps"] == pytest.approx(336.0)
    assert row["p99_at_goodput_ms"] == pytest.approx(100.0)
    assert row["single_stream_p90_ms"] == 20.0 and row["tokenizer"] == "fast"
    assert row["within_tolerance"] is True and row["converged"] is True


def test_breakdown_frame_has_the_three_stages():
    b = frames.breakdown_frame(served_results())
    assert b[b["variant"] == "fp32"]["stage"].tolist() == ["queue", "tokenize", "model"]
    assert b["ms"].sum() == pytest.approx(2 * 26.0)


def test_loose_load_tests_do_not_break_the_frames():
    bad = [
        result("fp32", 0.8, 1, 1, 1, load_test={"server_points": [None, {"p99_ms": 3}]}),
        result("half", 0.8, 1, 1, 1, load_test="nope"),
    ]
    assert frames.load_frame(bad).empty  # a point without an offered load is no point
    g = frames.goodput_frame(bad)
    assert len(g) == 1 and math.isnan(g["goodput_qps"].iloc[0])


# ------------------------------------------------------------------ charts
def test_hockey_stick_has_p99_p50_goodput_star_and_the_slo_line():
    fig = charts.hockey_stick_chart(frames.load_frame(served_results()))
    names = [t.name for t in fig.data]
    assert names == [
        "fp32",
        "fp32 p50",
        "fp32 goodput",
        "int8@ort",
        "int8@ort p50",
        "int8@ort goodput",
    ]
    star = fig.data[5]
    assert star.x == (210.0,) and star.text == ("210 QPS",)
    assert [s.y0 for s in fig.layout.shapes] == [100.0]  # one SLO line
    assert "p99 ≤ 100 ms" in fig.layout.annotations[0].text
    assert "LoadGen on this machine" in fig.layout.title.text
    # invalid points are open markers
    assert "circle-open" in fig.data[0].marker.symbol


def test_hockey_stick_without_goodput_marks_no_star():
    res = [result("fp32", 0.8, 1, 1, 1, load_test=load_test(0.0, slo=5.0))]
    fig = charts.hockey_stick_chart(frames.load_frame(res))
    assert [t.name for t in fig.data] == ["fp32", "fp32 p50"]


def test_hockey_stick_goes_log_when_latency_explodes():
    lt = load_test(100.0)
    lt["server_points"][-1]["p99_ms"] = 20_000.0
    fig = charts.hockey_stick_chart(frames.load_frame([result("fp32", 0.8, 1, 1, 1, load_test=lt)]))
    assert fig.layout.yaxis.type == "log"


@pytest.mark.parametrize(
    "chart", [charts.hockey_stick_chart, charts.goodput_chart, charts.breakdown_chart]
)
def test_empty_input_says_how_to_get_a_load_test(chart):
    for empty in (pd.DataFrame(), None):
        fig = chart(empty)
        assert is_empty_figure(fig)
        text = fig.layout.annotations[0].text
        assert "--load-test" in text and "Run page" in text


def test_goodput_chart_alone_and_with_prices_at_the_slo():
    g = frames.goodput_frame(served_results())
    fig = charts.goodput_chart(g)
    assert len(fig.data) == 1 and list(fig.data[0].y) == [80.0, 210.0]
    assert "Goodput at p99 ≤ 100 ms" in fig.layout.title.text
    priced = pd.DataFrame(
        {
            "variant": ["fp32", "int8@ort", "fp32", "int8@ort", "int8@ort"],
            "option": ["c7i", "c7i", "g4dn", "g4dn", "L4 (owned)"],
            "usd_per_million": [0.5, 0.2, 0.9, 0.4, float("nan")],
            "basis": ["goodput", "goodput", "goodput", "peak", "goodput"],
            "applicable": [True, True, True, True, False],
        }
    )
    fig = charts.goodput_chart(g, priced)
    bars = {t.name: list(t.y) for t in fig.data[1:]}
    assert bars == {"c7i": [0.5, 0.2], "g4dn": [0.9]}  # peak and unpriced rows left out
    assert "$ per 1M requests at the SLO" in [a.text for a in fig.layout.annotations]
    # a table without goodput-basis prices: just goodput
    assert len(charts.goodput_chart(g, priced.assign(basis="peak")).data) == 1


def test_breakdown_is_stacked_by_stage():
    fig = charts.breakdown_chart(frames.breakdown_frame(served_results()))
    assert [t.name for t in fig.data] == ["queue", "tokenize", "model"]
    assert fig.layout.barmode == "stack"
    assert [t.marker.color for t in fig.data] == list(charts.STAGE_COLORS.values())
    assert "LoadGen on this machine" in fig.layout.title.text


# ------------------------------------------------------------------ sentence and notes
def test_serving_sentence_names_the_best_and_fp32():
    line = summary.serving_sentence(served_results())
    assert line == (
        "int8@ort serves 210 requests/s within p99 ≤ 100 ms on this machine (fp32: 80)."
    )
    assert summary.serving_sentence(sample()) is None
    zero = [result("fp32", 0.8, 1, 1, 1, load_test=load_test(0.0, slo=5.0))]
    assert summary.serving_sentence(zero) == (
        "No variant serves any load within p99 ≤ 5 ms on this machine."
    )
    assert "Goodput is 0" in summary.serving_notes(zero)[0]


def test_serving_notes_flag_a_stray_simulation_and_an_unfinished_search():
    lt = load_test(50.0)
    lt["simulation"] = {"error": 0.3, "within_tolerance": False}
    lt["search"] = {"converged": False}
    notes = summary.serving_notes([result("fp32", 0.8, 1, 1, 1, load_test=lt)])
    assert len(notes) == 2 and "+30% off" in notes[1] and "lower bound" in notes[0]


# ------------------------------------------------------------------ cost basis
def test_cost_basis_frame_reads_the_cost_tables_columns():
    table = pd.DataFrame(
        {
            "variant": ["fp32", "int8", "half", "int8"],
            "option": ["c7i", "c7i", "g4dn", "g4dn"],
            "basis": ["goodput", "peak", "goodput", "goodput"],
            "slo_ms": [100.0, float("nan"), 100.0, 100.0],
            "slo_percentile": [99.0, float("nan"), 99.0, 99.0],
            "cost_ratio_vs_peak": [2.0, float("nan"), 1.5, float("nan")],
            "applicable": [True, True, True, False],
            "reason": ["", "", "", "not load-tested on a GPU"],
        }
    )
    b = frames.cost_basis_frame(table)
    assert b["basis"].tolist() == [
        "goodput at p99 ≤ 100 ms",
        "peak throughput (offline)",
        "goodput at p99 ≤ 100 ms",
        "goodput at p99 ≤ 100 ms",
    ]
    assert b["cost_vs_peak"].iloc[0] == 2.0 and math.isnan(b["cost_vs_peak"].iloc[1])
    assert b["applicable"].tolist() == [True, True, True, False]
    assert frames.not_applicable_lines(table) == [
        "**int8** on g4dn: not priced (not load-tested on a GPU)"
    ]
    assert frames.basis_summary(table) == (
        "2 rows costed on goodput at p99 ≤ 100 ms; 1 row costed on peak throughput (offline); "
        "goodput pricing comes to 1.50–2.00× the peak-throughput figure; "
        "1 not applicable (not priced)."
    )
    # the table's own label wins
    labelled = table.assign(basis_label="peak throughput (offline)")
    assert set(frames.cost_basis_frame(labelled)["basis"]) == {"peak throughput (offline)"}
    assert frames.cost_basis_frame(table.drop(columns=["basis", "applicable"])).empty
    assert frames.basis_summary(table.drop(columns=["basis", "applicable"])) == ""


# ------------------------------------------------------------------ the SLO filter (compare)
def _docs() -> list[dict]:
    return [{"run_id": "r1", "results": served_results()}]


def test_latency_target_uses_p99_under_load_where_there_is_a_load_test():
    docs = _docs()
    df = cmp.add_load_latency(cmp.add_latency(cmp.gather(docs), 1), docs, 100.0)
    judged = cmp.apply_targets(df, cmp.Targets(max_p95_ms=100.0))
    by = judged.set_index("variant")
    # fp32's per-batch p95 (~13 ms) would pass either way; int8@ort is judged under load
    assert by.loc["int8@ort", "load_tested"] and by.loc["int8@ort", "meets_latency"]
    assert by.loc["int8@ort", "load_qps_within"] == 210.0
    assert "under load (MLPerf LoadGen)" in by.loc["int8@ort", "latency_basis"]
    assert "up to 210 QPS" in by.loc["int8@ort", "latency_basis"]
    assert not by.loc["half", "load_tested"]
    assert by.loc["half", "latency_basis"].startswith("per-batch p95 estimate")
    # a tighter limit than any point's p99: misses under load, although p95 per batch is fine
    tight = cmp.add_load_latency(cmp.add_latency(cmp.gather(docs), 1), docs, 30.0)
    by = cmp.apply_targets(tight, cmp.Targets(max_p95_ms=30.0)).set_index("variant")
    assert not by.loc["int8@ort", "meets_latency"] and by.loc["half", "meets_latency"]
    assert "above 30 ms at every load tried" in by.loc["int8@ort", "latency_basis"]


def test_latency_note_says_which_latency_was_used():
    docs = _docs()
    df = cmp.add_load_latency(cmp.add_latency(cmp.gather(docs), 1), docs)
    note = cmp.latency_note(df)
    assert "under load" in note and "fp32, int8@ort" in note and "batch 1" in note
    plain = cmp.add_load_latency(
        cmp.add_latency(cmp.gather([{"run_id": "r", "results": sample()}]), 1), []
    )
    assert "no variant here was load-tested" in cmp.latency_note(plain)

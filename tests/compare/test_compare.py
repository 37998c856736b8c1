"""lib.compare on synthetic runs: gathering across runs, Pareto, deltas, targets, the sentence."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lib import compare as cmp
from lib.errors import UserError
from tests.helpers.runs import GPU_ENV, make_doc, result


# ------------------------------------------------------------------ gathering
def test_gather_labels_runs_and_keeps_each_runs_own_baseline():
    gpu = make_doc(
        "r2",
        env=GPU_ENV,
        dataset="/data/tickets.csv",
        results=[
            result("fp32", "fp32", 0.90, 5, 20, 90.0),
            result("int8", "int8", 0.89, 4, 18, 23.0, p=0.04),
        ],
    )
    df = cmp.gather([make_doc(), gpu])
    assert len(df) == 7
    r2 = df[df["run_id"] == "r2"].set_index("variant")
    assert r2.loc["int8", "hardware"] == "NVIDIA H100 80GB HBM3"
    assert r2.loc["int8", "dataset"] == "tickets.csv"
    assert r2.loc["int8", "date"] == "2025-11-21"
    # against its own fp32 (0.90), not the other run's (0.86)
    assert r2.loc["int8", "accuracy_delta_pts"] == pytest.approx(-1.0)
    assert bool(r2.loc["int8", "significant"]) is True
    r1 = df[df["run_id"] == "r1"].set_index("variant")
    assert r1.loc["int8", "accuracy_delta_pts"] == pytest.approx(-0.8)
    assert bool(r1.loc["int8", "significant"]) is False
    assert r1.loc["fp16", "status"] == "failed"
    assert "AMD EPYC 9B14 (2 threads)" in r1.loc["int8", "run_label"]


def test_gather_rejects_what_is_not_a_run_document():
    with pytest.raises(UserError):
        cmp.gather([{"name": "x"}])
    assert cmp.gather([]).empty


@pytest.mark.parametrize(
    "stats, value, word",
    [
        ({"p95": 12.0, "p90": 10.0, "p99": 19.0}, 12.0, "as measured"),
        ({"p90": 10.0, "p99": 19.0}, 15.0, "interpolated"),
        ({"p99": 19.0}, 19.0, "p99 used"),
        ({"p90": 10.0}, 10.0, "p90 used"),
        ({}, math.nan, "not measured"),
    ],
)
def test_p95_estimate_says_how(stats, value, word):
    v, how = cmp.p95_estimate(stats)
    assert (math.isnan(v) and math.isnan(value)) or v == pytest.approx(value)
    assert word in how


def test_latency_at_a_batch_size():
    df = cmp.add_latency(cmp.gather([make_doc()]), batch_size=32)
    r = df.set_index("variant").loc["int8"]
    assert r["p95_ms"] == pytest.approx(210 * 1.1 + (210 * 1.2 - 210 * 1.1) * 5 / 9)
    assert "batch 32" in r["p95_basis"]
    assert r["speedup"] == pytest.approx(400 / 210)


# ------------------------------------------------------------------ Pareto
def test_pareto_frontier_mask():
    df = pd.DataFrame(
        {
            "lat": [10, 20, 30, 15, 40, None],
            "acc": [0.80, 0.85, 0.90, 0.79, 0.88, 0.99],
        }
    )
    mask = cmp.pareto_frontier(df, "lat", "acc")
    assert list(mask) == [True, True, True, False, False, False]


def test_pareto_frontier_directions_and_ties():
    df = pd.DataFrame({"x": [1.0, 2.0, 2.0, 3.0], "y": [5.0, 3.0, 3.0, 1.0]})
    # minimise both: (1,5), (2,3) twice, (3,1) are all non-dominated
    assert list(cmp.pareto_frontier(df, "x", "y", maximize_y=False)) == [True] * 4
    # maximise x, maximise y: (1,5) has the best y, (3,1) the best x; (2,3) is not beaten on both
    assert list(cmp.pareto_frontier(df, "x", "y", minimize_x=False)) == [True] * 4
    assert not cmp.pareto_frontier(pd.DataFrame(), "x", "y").any()


# ------------------------------------------------------------------ deltas and costs
@pytest.fixture(scope="module")
def priced() -> pd.DataFrame:
    return cmp.compare_frame([make_doc()], 1, ["c7i.2xlarge", "g4dn.xlarge"])


def test_costs_per_option_and_ratio_against_the_same_option(priced):
    ok = cmp.ok_candidates(priced)
    assert set(ok["option"]) == {"c7i.2xlarge", "g4dn.xlarge"}
    assert (ok["cost_source"] == "projected").any()
    c7i = ok[ok["option"] == "c7i.2xlarge"].set_index("variant")
    ratio = c7i.loc["fp32", "usd_per_million"] / c7i.loc["int8", "usd_per_million"]
    assert c7i.loc["int8", "cost_ratio_vs_fp32"] == pytest.approx(ratio)
    assert c7i.loc["fp32", "cost_ratio_vs_fp32"] == pytest.approx(1.0)
    assert priced[priced["status"] == "failed"]["variant"].tolist() == ["fp16"]


def test_deltas_table_has_significance(priced):
    t = cmp.deltas(priced)
    assert {"Δ accuracy (pts)", "Significant?", "Speed-up (×)", "Cheaper (×)"} <= set(t.columns)
    sig = dict(zip(t["Variant"], t["Significant?"], strict=False))
    assert sig["fp32"] == "baseline"
    assert sig["prune50"].startswith("yes")
    assert sig["int8"].startswith("no")


def test_unknown_option_is_a_user_error():
    with pytest.raises(UserError, match="Unknown hardware"):
        cmp.compare_frame([make_doc()], 1, ["no-such-box"])


# ------------------------------------------------------------------ targets and the sentence
def test_targets_validate():
    with pytest.raises(UserError):
        cmp.Targets(min_accuracy=85)
    with pytest.raises(UserError):
        cmp.Targets(max_p95_ms=0)
    assert cmp.Targets().describe() == "no target set"
    assert "p95 ≤ 20 ms" in cmp.Targets(max_p95_ms=20).describe()


def test_apply_targets_marks_what_misses():
    df = cmp.compare_frame([make_doc()], 1)
    judged = cmp.apply_targets(df, cmp.Targets(max_p95_ms=20, min_accuracy=0.85)).set_index(
        "variant"
    )
    assert judged.loc["int8", "meets"]
    assert judged.loc["fp32", "misses"] == "latency"  # p95 about 30 ms
    assert judged.loc["prune50", "misses"] == "latency, accuracy"  # p95 about 24 ms, 80%
    assert judged.loc["fp16", "misses"] == "failed"


def test_recommend_cheapest_meeting_the_target(priced):
    rec = cmp.recommend(priced, cmp.Targets(max_p95_ms=20, min_accuracy=0.85))
    assert rec.met
    assert rec.sentence.startswith(
        f"{rec.numbers['variant']} on {rec.numbers['where']} meets your target at $"
    )
    assert "cheaper than fp32 on" in rec.sentence
    assert "not significant" in rec.sentence
    assert rec.numbers["usd_per_million"] > 0
    assert rec.numbers["cheaper_x"] > 1
    assert "interpolated" in rec.numbers["p95_basis"]
    ok = cmp.apply_targets(cmp.ok_candidates(priced), cmp.Targets(max_p95_ms=20, min_accuracy=0.85))
    cheapest = ok[ok["meets"]]["usd_per_million"].min()
    assert rec.numbers["usd_per_million"] == pytest.approx(cheapest)
    table = cmp.numbers_table(rec)
    assert "Recommended" in set(table["What"])


def test_recommend_by_latency_without_prices():
    df = cmp.compare_frame([make_doc()], 1)
    rec = cmp.recommend(df, cmp.Targets(max_p95_ms=20))
    assert rec.met and rec.numbers["variant"] == "int8"
    assert "faster than fp32" in rec.sentence
    assert "AMD EPYC" in rec.sentence


def test_nothing_meets_the_target_says_so_and_names_the_closest(priced):
    rec = cmp.recommend(priced, cmp.Targets(max_p95_ms=1, min_accuracy=0.95))
    assert not rec.met and rec.candidate is None
    assert rec.sentence.startswith("Nothing meets your target (p95 ≤ 1 ms at batch 1")
    assert "closest is" in rec.sentence and "misses on latency, accuracy" in rec.sentence
    assert rec.numbers["meeting_target"] == 0
    assert "Closest" in set(cmp.numbers_table(rec)["What"])


def test_recommend_with_nothing_finished():
    doc = make_doc(results=[result("fp32", "fp32", 0, 0, 0, 0, status="failed")])
    rec = cmp.recommend(cmp.compare_frame([doc]))
    assert not rec.met and "No variant finished" in rec.sentence


def test_different_datasets_get_a_caveat():
    docs = [make_doc(), make_doc("r2", dataset="bbc-news")]
    rec = cmp.recommend(cmp.compare_frame(docs), cmp.Targets(max_p95_ms=20))
    assert any("different datasets" in n for n in rec.notes)


def test_baseline_pick_is_said_plainly():
    doc = make_doc(
        results=[
            result("fp32", "fp32", 0.86, 10, 100, 90.0),
            result("int8", "int8", 0.70, 30, 300, 23.0, p=0.001),
        ]
    )
    rec = cmp.recommend(cmp.compare_frame([doc]), cmp.Targets(min_accuracy=0.8))
    assert rec.met and rec.sentence.startswith("fp32 on")


# ------------------------------------------------------------------ charts
def test_charts_highlight_the_frontier(priced):
    fig = cmp.accuracy_latency_chart(priced)
    names = [t.name for t in fig.data]
    assert "Pareto frontier" in names
    opacities = {t.opacity for t in fig.data if t.name != "Pareto frontier"}
    assert 1.0 in opacities and any(o < 1 for o in opacities)  # prune50 is dominated
    cost = cmp.accuracy_cost_chart(priced)
    assert any(t.name == "Pareto frontier" for t in cost.data)
    assert cmp.accuracy_cost_chart(cmp.compare_frame([make_doc()])).layout.annotations


def test_grouped_bars_for_every_metric(priced):
    metrics = cmp.bar_metrics(priced)
    assert {"accuracy", "p95_ms", "size_mb", "usd_per_million"} <= set(metrics)
    for m in metrics:
        fig = cmp.grouped_bars(priced, m)
        assert fig.data, m
    with pytest.raises(UserError):
        cmp.grouped_bars(priced, "nope")


def test_user_strings_are_escaped_in_charts():
    df = cmp.compare_frame([make_doc(name="<b>x</b>")])
    fig = cmp.accuracy_latency_chart(df)
    text = " ".join(" ".join(t.hovertext or []) for t in fig.data if t.hovertext is not None)
    assert "&lt;b&gt;x&lt;/b&gt;" in text and "<b>x</b>" not in text


def test_deltas_show_the_paired_speed_up_and_its_interval():
    doc = make_doc()
    int8 = doc["results"][2]
    int8["speedup_paired"] = {"1": {"speedup": 1.8, "ci": [1.7, 1.9], "rounds": 5}}
    t = cmp.deltas(cmp.compare_frame([doc], 1, ["c7i.2xlarge"])).set_index("Variant")
    assert t.loc["int8", "Speed-up (×)"] == pytest.approx(1.8)  # not 25 / 13 from the p50s
    assert t.loc["int8", "Speed-up 95% CI"] == "1.70–1.90"
    assert t.loc["half", "Speed-up 95% CI"] == ""
    assert set(t["Runtime"]) == {"eager"}  # to sort ORT and PyTorch rows apart
    assert "Speed-up 95% CI" not in cmp.deltas(cmp.compare_frame([make_doc()], 1, [])).columns


def test_recommendation_says_how_a_gpu_price_was_projected():
    gpu = cmp.recommend(cmp.compare_frame([make_doc()], 1, ["L4 (owned)"]))
    assert gpu.sentence.startswith("half on L4 (owned)")
    assert "(projected from the model's FLOPs on that accelerator)" in gpu.sentence
    # int8 on a GPU is priced as fp16 (its int8 kernels here are CPU ones): the sentence says so.
    only_int8 = make_doc(
        results=[
            result("fp32", "fp32", 0.86, 25, 400, 90.0),
            result("int8", "int8", 0.852, 13, 210, 23.0, p=0.3),
        ]
    )
    int8 = cmp.recommend(cmp.compare_frame([only_int8], 1, ["L4 (owned)"]))
    assert int8.sentence.startswith("int8 on L4 (owned)")
    assert "on that accelerator, its int8 counted as fp16)" in int8.sentence
    cpu = cmp.recommend(cmp.compare_frame([make_doc()], 1, ["c7i.2xlarge"]))
    assert "(projected from AMD EPYC" in cpu.sentence and "FLOPs" not in cpu.sentence

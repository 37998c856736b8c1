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


# ------------------------------------------------------------------ judged under load
def _served_doc() -> dict:
    from tests.serving.test_charts import load_test

    results = [
        result("fp32", "fp32", 0.861, 25, 400, 90.0),
        result("int8@ort", "int8", 0.857, 13, 210, 23.0, p=0.4),
        result("half", "bf16", 0.858, 14, 220, 45.0, p=0.7),  # not load-tested
    ]
    results[0]["load_test"] = load_test(80.0)
    results[1]["load_test"] = load_test(350.0)
    return make_doc(results=results)


def _served(options: list[str], limit: float | None) -> pd.DataFrame:
    docs = [_served_doc()]
    t = cmp.Targets(max_p95_ms=limit)
    df = cmp.compare_frame(docs, 1, options, None, cmp.assumptions_for(t))
    return cmp.add_load_latency(df, docs, limit)


def test_recommendation_judged_under_load_says_so_in_plain_words():
    t = cmp.Targets(max_p95_ms=100, min_accuracy=0.85)
    rec = cmp.recommend(_served(["c7i.2xlarge"], 100.0), t)
    assert rec.met and rec.numbers["variant"] == "int8@ort"
    assert rec.sentence.startswith(
        "int8@ort meets p99 ≤ 100 ms up to 350 requests/s under load (measured with LoadGen), "
        "at $0.14 per 1M on c7i.2xlarge"
    ), rec.sentence
    assert "cheaper than fp32 on c7i.2xlarge" in rec.sentence
    assert "p95" not in rec.sentence  # the per-batch estimate is not what was judged
    assert rec.numbers["judged_under_load"] is True
    assert rec.numbers["load_qps_within"] == pytest.approx(350.0)
    table = dict(zip(*cmp.numbers_table(rec).T.values, strict=True))
    assert table["Most load within the limit"] == "350 requests/s"
    assert table["Goodput (MLPerf LoadGen)"] == "350 requests/s at p99 ≤ 100 ms"
    assert table["p99 under load, at the most load within the limit"].endswith("ms")
    assert "under load (MLPerf LoadGen)" in table["Latency judged on"]
    assert "p95 per batch (estimate, not judged)" in table
    assert "p95 latency" not in table
    # the target says what its latency limit was checked against
    assert table["Your target"].startswith(
        "p99 ≤ 100 ms under load where load-tested, else p95 ≤ 100 ms at batch 1"
    )


def test_judged_under_load_without_prices_compares_the_load_served():
    rec = cmp.recommend(_served([], 100.0), cmp.Targets(max_p95_ms=100, min_accuracy=0.85))
    assert rec.sentence.startswith(
        "int8@ort on AMD EPYC 9B14 (2 threads) meets p99 ≤ 100 ms up to 350 requests/s under "
        "load (measured with LoadGen), serving 4.4x more load than fp32 (80 requests/s)"
    ), rec.sentence
    assert rec.numbers["more_load_x"] == pytest.approx(350 / 80)
    assert "More load by" in set(cmp.numbers_table(rec)["What"])


def test_a_variant_not_load_tested_is_said_as_before():
    # 30 ms: no Server point of a load test stays within it, so half (not load-tested) wins
    # on its per-batch p95 and the sentence reads as it always has.
    rec = cmp.recommend(_served(["c7i.2xlarge"], 30.0), cmp.Targets(max_p95_ms=30))
    assert rec.numbers["variant"] == "half"
    assert rec.sentence.startswith("half on c7i.2xlarge meets your target at $")
    assert "judged_under_load" not in rec.numbers
    table = cmp.numbers_table(rec)
    assert "p95 latency" in set(table["What"]) and "Goodput (MLPerf LoadGen)" not in set(
        table["What"]
    )
    # no latency target: the load test's numbers are shown, the sentence is unchanged
    free = cmp.recommend(_served(["c7i.2xlarge"], None), cmp.Targets(min_accuracy=0.85))
    assert free.sentence.startswith("int8@ort on c7i.2xlarge meets your target at $")
    assert free.numbers["judged_under_load"] is False
    assert "Most load within its SLO" in set(cmp.numbers_table(free)["What"])


def test_nothing_meets_names_the_closest_by_its_latency_under_load():
    t = cmp.Targets(max_p95_ms=100, min_accuracy=0.99)
    rec = cmp.recommend(_served(["c7i.2xlarge"], 100.0), t)
    assert not rec.met
    assert rec.sentence.startswith(
        "Nothing meets your target (p99 ≤ 100 ms under load where load-tested, else p95 ≤ 100 "
        "ms at batch 1, accuracy ≥ 99.0%). The closest is fp32 on c7i.2xlarge (p99 under load "
        "≤ 100 ms up to 80 requests/s, accuracy 86.1%"
    ), rec.sentence
    assert "misses on accuracy" in rec.sentence
    # only load-tested variants, none within 5 ms at any load: the closest says so
    tested = _served([], 5.0).query("variant != 'half'")
    tight = cmp.recommend(tested, cmp.Targets(max_p95_ms=5))
    assert tight.sentence.startswith("Nothing meets your target (p99 ≤ 5 ms under load).")
    assert "(p99 under load above 5 ms at every load tried, accuracy" in tight.sentence


def test_targets_describe_what_the_latency_limit_is_checked_against():
    t = cmp.Targets(max_p95_ms=100, min_accuracy=0.85)
    df = _served([], 100.0)
    assert t.describe() == "p95 ≤ 100 ms at batch 1, accuracy ≥ 85.0%"
    assert t.describe(df).startswith("p99 ≤ 100 ms under load where load-tested, else p95")
    tested = df[df["load_tested"]]
    assert t.describe(tested) == "p99 ≤ 100 ms under load, accuracy ≥ 85.0%"
    plain = cmp.compare_frame([make_doc()], 1)
    assert t.describe(plain) == t.describe()  # nothing load-tested: as before
    assert cmp.Targets(min_accuracy=0.85).describe(df) == "accuracy ≥ 85.0%"


def test_deltas_show_the_latency_under_load_where_there_is_one():
    t = cmp.deltas(_served([], 100.0)).set_index("Variant")
    assert t.loc["int8@ort", "Goodput (req/s)"] == pytest.approx(350.0)
    assert t.loc["int8@ort", "p99 under load (ms)"] <= 100
    assert math.isnan(t.loc["half", "Goodput (req/s)"])
    plain = cmp.deltas(cmp.compare_frame([make_doc()], 1)).columns
    assert "Goodput (req/s)" not in plain and "p99 under load (ms)" not in plain


# ------------------------------------------------------------------ servable on that hardware
def test_a_row_not_servable_there_is_never_recommended():
    df = cmp.compare_frame([make_doc()], 1, ["c7i.2xlarge", "g4dn.xlarge"])
    assert {"applicable", "cost_reason", "priced_as"} <= set(df.columns)
    before = cmp.recommend(df, cmp.Targets(min_accuracy=0.85))
    picked = (df["variant"] == before.numbers["variant"]) & (
        df["option"] == before.numbers["where"]
    )
    df = df.assign(applicable=True, cost_reason="")
    df["applicable"] = df["applicable"].astype(object)
    df.loc[picked, "applicable"] = False
    df.loc[picked, "cost_reason"] = "not servable on this accelerator"
    rec = cmp.recommend(df, cmp.Targets(min_accuracy=0.85))
    assert rec.met and rec.candidate != before.candidate
    assert rec.numbers["not_applicable"] == 1
    assert "Left out: not servable on that hardware" in set(cmp.numbers_table(rec)["What"])
    judged = cmp.apply_targets(cmp.ok_candidates(df), cmp.Targets())
    row = judged[picked[judged.index]].iloc[0]
    assert not row["meets"]
    assert row["misses"] == "not applicable (not servable on this accelerator)"
    # nothing servable at all: said plainly, nothing recommended
    none = cmp.recommend(df.assign(applicable=False, cost_reason="CPU kernels only"))
    assert not none.met and none.candidate is None
    assert none.sentence.startswith("None of these variants can be served on the hardware picked")
    assert "CPU kernels only" in none.sentence


def test_cpu_int8_on_a_gpu_that_cannot_be_priced_is_left_out():
    # without FLOPs nothing can be projected on a GPU: int8 (CPU kernels) is not applicable
    # there, and the fastest choice is fp32, not int8.
    results = [
        result("fp32", "fp32", 0.86, 25, 400, 90.0),
        result("int8", "int8", 0.852, 13, 210, 23.0, p=0.3),
    ]
    for r in results:
        del r["flops_per_item"], r["num_layers"]
    df = cmp.compare_frame([make_doc(results=results)], 1, ["L4 (owned)"])
    by = df.set_index("variant")
    assert not by.loc["int8", "applicable"] and "CPU" in by.loc["int8", "cost_reason"]
    rec = cmp.recommend(df)
    assert rec.numbers["variant"] == "fp32" and rec.numbers["not_applicable"] == 1


def test_priced_as_its_gpu_servable_equivalent_is_read_from_the_cost_table():
    gpu = cmp.compare_frame([make_doc()], 1, ["L4 (owned)"])
    int8 = gpu[gpu["variant"] == "int8"].iloc[0]
    assert int8["priced_as"] == "half" and int8["applicable"]
    rec = cmp.recommend(gpu[gpu["variant"].isin(["fp32", "int8"])])
    assert rec.numbers["priced_as"] == "half"
    assert "on that accelerator, its int8 counted as fp16)" in rec.sentence
    assert "Priced as (GPU-servable equivalent)" in set(cmp.numbers_table(rec)["What"])
    # the column decides, not the assumptions' wording
    reworded = gpu.assign(
        cost_assumptions=gpu["cost_assumptions"].str.replace(cmp.INT8_AS_FP16, "")
    )
    assert "counted as fp16" in cmp.recommend(reworded[reworded["variant"] == "int8"]).sentence
    unmarked = gpu.assign(priced_as="")
    assert "counted as fp16" not in cmp.recommend(unmarked[unmarked["variant"] == "int8"]).sentence
    # priced from a measured equivalent: says which
    measured = gpu.assign(cost_source="measured", priced_as="distill:3+half")
    text = cmp.recommend(measured[measured["variant"] == "int8"]).sentence
    assert "(priced as distill:3+half, its GPU-servable equivalent)" in text

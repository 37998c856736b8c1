"""One-off cost and payback (issue 18), against hand-computed cases."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from lib.cost import payback as pb
from lib.cost.catalog import load_catalog
from lib.cost.formulas import HOURS_PER_MONTH
from lib.errors import UserError

RATE = pb.MachineRate(
    0.10, "c6i.xlarge", "2 vCPUs at c6i.xlarge's rate", "test catalogue", "2025-05", ""
)


def _doc() -> dict:
    return {
        "environment": {"device": "cpu", "cpu_model": "AMD EPYC", "threads": 2},
        "baseline": {"adapt_seconds": 360.0, "adapt_cached": True},
        "results": [
            {"variant": "fp32", "status": "ok", "build_seconds": 0.01, "notes": {}},
            # cached: build_seconds is tiny, the notes keep the first build's seconds
            {
                "variant": "distill:3",
                "status": "ok",
                "build_seconds": 0.5,
                "notes": {"distill_seconds": 180.0, "cached": True},
            },
            {
                "variant": "distill:3+prune-structured:30",
                "status": "ok",
                "notes": {
                    "distill_seconds": 180.0,
                    "importance_seconds": 18.0,
                    "recovery_seconds": 162.0,
                },
            },
            {
                "variant": "int8@ort-static",
                "status": "ok",
                "calibration_seconds": 36.0,
                "notes": {},
            },
            {"variant": "half", "status": "ok", "build_seconds": 0.2, "notes": {}},
            {"variant": "broken", "status": "failed", "notes": {"distill_seconds": 1.0}},
        ],
    }


def test_one_off_seconds_come_from_what_each_build_trained_or_calibrated():
    builds = pb.one_offs(_doc())
    assert "broken" not in builds
    secs = {v: b.seconds for v, (b, _) in builds.items()}
    assert secs == {
        "fp32": 360.0,  # adapting the head: the baseline's, shared by every variant
        "distill:3": 180.0,
        "distill:3+prune-structured:30": 360.0,  # a chain sums its steps
        "int8@ort-static": 36.0,
        "half": 0.0,  # nothing to train or calibrate
    }
    d, _ = builds["distill:3"]
    assert (
        d.cached and d.built_on == "AMD EPYC (2 threads)" and d.describe() == "distillation 180 s"
    )
    assert builds["half"][0].describe() == "nothing to train or calibrate"


def test_a_build_is_priced_on_the_machine_that_trained_it():
    # A sweep measured this run on an AMD node, but the bundle (baseline and distilled student)
    # was trained on an H100 node: the one-off cost is that machine's hours, not the AMD's.
    h100 = {"device": "cuda", "gpu_name": "NVIDIA H100 80GB HBM3", "threads": 8}
    doc = _doc()
    doc["baseline"]["adapt_built_on"] = h100
    doc["results"][1]["notes"]["built_on"] = h100
    builds = pb.one_offs(doc)
    assert builds["fp32"][0].built_on == "NVIDIA H100 80GB HBM3"
    assert builds["distill:3"][0].built_on == "NVIDIA H100 80GB HBM3"
    assert builds["distill:3"][1]["device"] == "cuda"  # the environment machine_rate prices
    # nothing recorded (a result from before the record, or static calibration done in the
    # measuring process): built where it was measured
    assert builds["int8@ort-static"][0].built_on == "AMD EPYC (2 threads)"
    rate = pb.machine_rate(builds["distill:3"][1], load_catalog())
    assert rate.option == "p5.4xlarge"


def test_payback_arithmetic():
    assert pb.one_off_usd(3600, RATE) == pytest.approx(0.10)
    # $0.04 once, $420 a month saved: 0.04 / 420 months = 4.2 minutes
    months = pb.payback_months(0.04, 420.0)
    assert months == pytest.approx(0.04 / 420)
    assert pb.payback_text(months) == "in 4 minutes"
    assert pb.payback_text(pb.payback_months(500.0, 250.0)) == "in 2.0 months"
    assert pb.payback_text(pb.payback_months(10.0, 10.0 * HOURS_PER_MONTH / 5)) == "in 5 hours"
    assert pb.payback_months(0.0, 100.0) == 0 and pb.payback_text(0.0) == "at once"
    # a variant that costs more to serve, or saves nothing, never pays back
    assert math.isinf(pb.payback_months(0.04, -30.0)) and pb.payback_text(math.inf) == "never"
    assert math.isinf(pb.payback_months(0.04, 0.0))
    assert math.isnan(pb.payback_months(0.04, math.nan)) and pb.payback_text(math.nan) == ""


def _table() -> pd.DataFrame:
    rows = []
    for option, monthly in (
        ("c7i.2xlarge", {"fp32": 6254.64, "distill:3": 2606.10, "half": 7000.0}),
        ("g4dn.xlarge", {"fp32": 383.98, "distill:3": 383.98, "half": 383.98}),
    ):
        for v, m in monthly.items():
            rows.append(
                {
                    "variant": v,
                    "option": option,
                    "option_kind": "cloud",
                    "monthly_usd": m,
                    "instances_needed": 1,
                    "requests_per_day": 5e7,
                }
            )
    return pd.DataFrame(rows)


def test_payback_frame_by_hand():
    frame = pb.payback_frame(_doc(), _table(), RATE).set_index(["variant", "option"])
    d = frame.loc[("distill:3", "c7i.2xlarge")]
    assert d["one_off_usd"] == pytest.approx(180 / 3600 * 0.10)  # $0.005
    assert d["monthly_saving_usd"] == pytest.approx(6254.64 - 2606.10)
    assert d["payback_months"] == pytest.approx(0.005 / 3648.54)
    base = frame.loc[("fp32", "c7i.2xlarge")]
    assert base["one_off_usd"] == pytest.approx(0.01) and math.isnan(base["payback_months"])
    # costs more to serve: never
    h = frame.loc[("half", "c7i.2xlarge")]
    assert h["monthly_saving_usd"] < 0 and math.isinf(h["payback_months"])
    # the same one instance on a GPU: saves nothing at this volume
    g = frame.loc[("distill:3", "g4dn.xlarge")]
    assert g["monthly_saving_usd"] == 0 and g["payback"] == "never"
    sentence = pb.payback_sentence(
        frame.reset_index().iloc[list(frame.index).index(("distill:3", "c7i.2xlarge"))]
    )
    assert sentence == (
        "distill:3 cost $0.0050 to train once and saves $3,649 a month on c7i.2xlarge: "
        "pays back in under a minute."
    )
    h_sentence = pb.payback_sentence(
        frame.loc[("half", "c7i.2xlarge")].to_dict() | {"variant": "half", "option": "c7i.2xlarge"}
    )
    assert "has nothing to train" in h_sentence and "a month more to serve" in h_sentence
    assert "never pays back" in h_sentence


def test_cost_rows_carry_one_off_and_payback():
    from lib.cost.table import table_records

    out = pb.add_payback_columns(_table(), _doc(), RATE)
    recs = {(r["variant"], r["option"]): r for r in table_records(out)}
    assert recs[("fp32", "c7i.2xlarge")]["payback_months"] is None  # the baseline
    assert recs[("half", "c7i.2xlarge")]["payback_months"] == "never"
    assert recs[("distill:3", "c7i.2xlarge")]["one_off_usd"] == pytest.approx(0.005)
    json.dumps(list(recs.values()))


def test_machine_rates_from_the_catalogue():
    cat = load_catalog()
    cpu = pb.machine_rate({"device": "cpu", "cpu_model": "AMD EPYC", "threads": 2}, cat)
    # no catalogue row has this CPU: the cheapest x86 $/vCPU (c6i.xlarge, $0.17 for 4) x 2
    assert cpu.option == "c6i.xlarge" and cpu.hourly_usd == pytest.approx(0.17 / 4 * 2)
    assert "no catalogue instance has this CPU" in cpu.estimate
    assert cpu.price_source and cpu.price_date.startswith("2025")
    intel = pb.machine_rate(
        {"device": "cpu", "cpu_model": "Intel(R) Xeon(R) Platinum 8488C", "threads": 4}, cat
    )
    assert intel.option.startswith("c7i.") and intel.hourly_usd == pytest.approx(0.357 / 8 * 4)
    gpu = pb.machine_rate({"device": "cuda", "gpu_name": "NVIDIA H100 80GB HBM3"}, cat)
    assert gpu.option == "p5.4xlarge" and gpu.hourly_usd == pytest.approx(6.88)
    picked = pb.machine_rate({"device": "cpu"}, cat, "g4dn.xlarge")
    assert picked.picked and picked.hourly_usd == pytest.approx(0.526)
    with pytest.raises(UserError, match="Unknown cloud instance"):
        pb.machine_rate({}, cat, "no-such-box")
    with pytest.raises(UserError, match="pick a cloud instance"):
        pb.machine_rate({"device": "mps", "gpu_name": "Apple MPS"}, cat)


def test_the_recommendation_says_what_the_pick_cost_once_and_when_it_pays_back():
    from lib import compare as cmp
    from lib.compare.recommendation import add_payback
    from lib.cost.formulas import CostAssumptions
    from lib.paths import REPO_DATA

    doc = json.loads((REPO_DATA / "demo" / "cpu-techniques-and-runtimes.json").read_text())
    doc["results"] = [r for r in doc["results"] if r["variant"] in ("fp32", "distill:3")]
    a = CostAssumptions(requests_per_day=50e6)
    df = cmp.compare_frame([doc], 32, ["c7i.2xlarge"], None, a)
    df = add_payback(df, [doc], None, a)
    rec = cmp.recommend(df, cmp.Targets())
    assert rec.candidate == "distill:3 on c7i.2xlarge"
    # distill_seconds 180.7 s on 2 vCPUs at the cheapest x86 rate ($0.17 / 4 x 2 per hour)
    assert rec.numbers["one_off_usd"] == pytest.approx(180.6725 / 3600 * 0.085, rel=1e-3)
    assert "it cost $0.0043 to train once and saves $" in rec.sentence
    assert "against fp32 on c7i.2xlarge: pays back in under a minute" in rec.sentence
    table = cmp.numbers_table(rec)
    assert "Pays back" in set(table["What"])

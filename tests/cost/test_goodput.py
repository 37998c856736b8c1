"""Cost from goodput: hand-computed examples, physical cores, the GPU-servable rule and the
simulated-queue projection (docs/cost.md, "Cost from goodput")."""

import json
import math

import pandas as pd
import pytest

from lib.cli.main import main as cli_main
from lib.cost.answer import only_options
from lib.cost.catalog import load_catalog, load_user_catalog
from lib.cost.formulas import (
    CostAssumptions,
    instances_for_goodput,
    peak_qps,
    usd_per_million,
    usd_per_million_from_goodput,
)
from lib.cost.goodput import (
    GOODPUT_MEASURED,
    GOODPUT_REPLICAS,
    GOODPUT_SIMULATED,
    PEAK_LABEL,
    LoadTest,
    projected_goodput,
    threads_per_core,
)
from lib.cost.hardware import hardware_options
from lib.cost.servable import gpu_servability
from lib.cost.table import cost_table, table_records
from lib.errors import UserError
from lib.serving.simulate import ServiceCurve

SIZES = [1, 2, 4, 8, 16, 32]
LENGTHS = [16, 40, 64, 96, 128]
CURVE = ServiceCurve(
    SIZES,
    LENGTHS,
    [[0.012 + 0.004 * b + 0.00005 * b * n for n in LENGTHS] for b in SIZES],
    jitter=[0.9, 1.0, 1.0, 1.1, 1.3],
)
LOCAL_ENV = {"run_id": "local", "cpu_model": "AMD EPYC 7B13", "threads": 2, "device": "cpu"}
C7I_ENV = {"run_id": "c7i", "cpu_model": "Intel(R) Xeon(R) Platinum 8488C", "threads": 8}
L4_ENV = {"run_id": "l4", "cpu_model": "x", "threads": 4, "device": "cuda", "gpu_name": "NVIDIA L4"}


def load_test(goodput: float = 50.0, offline: float = 80.0, **extra) -> dict:
    return {
        "slo_ms": 100.0,
        "percentile": 99.0,
        "tokenizer": "fast",
        "goodput_qps": goodput,
        "single_stream": {"p90_ms": 20.0},
        "offline": {"qps": offline},
        "server_points": [
            {"target_qps": 40.0, "achieved_qps": 40.0, "p50_ms": 30, "p99_ms": 80, "valid": True}
        ],
        "breakdown_ms": {"queue": 10.0, "tokenize": 1.0, "model": 30.0},
        "simulated_goodput_qps": 46.0,
        "simulation": {"service_curve": CURVE.to_dict()},
        "batcher": {"max_batch": 32, "max_delay_ms": 5.0},
        "loadgen": {"settings": {"min_duration_ms": 5000, "min_query_count": 100, "seed": 0}},
        **extra,
    }


def row(
    variant, precision="fp32", lt=None, flops=2.9e9, runtime="eager", layers=6, **extra
) -> dict:
    out = {
        "variant": variant,
        "status": "ok",
        "precision": precision,
        "runtime": runtime,
        "accuracy": 0.81,
        "throughput_per_s": {"1": 40.0, "32": 60.0},
        "latency_ms": {"1": {"p50": 25.0, "p90": 27.0}, "32": {"p50": 530.0, "p90": 560.0}},
        "params": 22_700_000,
        "flops_per_item": flops,
        "num_layers": layers,
        **extra,
    }
    if lt is not None:
        out["load_test"] = lt
    return out


def run(env: dict, rows: list[dict]) -> dict:
    return {"run_id": env["run_id"], "spec": {}, "environment": env, "results": rows}


def at(table: pd.DataFrame, variant: str, option: str) -> pd.Series:
    return table[(table["variant"] == variant) & (table["option"] == option)].iloc[0]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


# --- the formulas, by hand ------------------------------------------------------------------


def test_cost_from_goodput_by_hand():
    # 50 QPS within the SLO on a $0.357/h instance: 0.357 / (50 x 3600) x 1e6, no utilisation
    assert usd_per_million_from_goodput(0.357, 50) == pytest.approx(1.98333, rel=1e-5)
    # 5M requests/day, peak-to-average 3: 173.6 QPS at peak -> 4 replicas of 50 QPS
    assert peak_qps(5_000_000, 3) == pytest.approx(173.61, rel=1e-4)
    assert instances_for_goodput(5_000_000, 3, 50) == 4
    assert instances_for_goodput(1000, 3, 50) == 1  # always one
    with pytest.raises(UserError, match="Goodput must be a positive"):
        usd_per_million_from_goodput(0.357, 0)


def test_a_load_test_on_the_instance_itself_prices_it_from_goodput(catalog):
    a = CostAssumptions(requests_per_day=5_000_000, peak_to_average=3)
    doc = run(C7I_ENV, [row("fp32", lt=load_test(50.0))])
    table = cost_table([doc], only_options(catalog, ["c7i.2xlarge"]), a)
    r = at(table, "fp32", "c7i.2xlarge")
    assert r["basis"] == "goodput" and r["goodput_source"] == GOODPUT_MEASURED
    assert r["basis_label"] == f"goodput at p99 <= 100 ms, {GOODPUT_MEASURED}"
    assert r["goodput_qps"] == 50.0 and r["replicas"] == 1 and r["slo_ms"] == 100.0
    assert r["usd_per_million"] == pytest.approx(1.98333, rel=1e-5)
    assert r["instances_needed"] == 4 and r["monthly_usd"] == pytest.approx(0.357 * 4 * 730)
    assert r["usd_per_million_commit_3y"] == pytest.approx(1.98333 * 0.40, rel=1e-4)
    # the old figure stays, labelled, with the ratio between them
    old = usd_per_million(0.357, r["throughput_per_s"], a.utilisation)
    assert r["usd_per_million_peak"] == pytest.approx(old)
    assert r["cost_ratio_vs_peak"] == pytest.approx(r["usd_per_million"] / old)
    assert r["instances_needed_peak"] == math.ceil(173.61 / r["throughput_per_s"])
    assert r["offline_qps"] == 80.0 and r["applicable"] and r["reason"] == ""


def test_without_a_load_test_nothing_changes(catalog):
    plain = cost_table([run(LOCAL_ENV, [row("fp32")])], catalog)
    assert set(plain["basis"]) == {"peak"} and set(plain["basis_label"]) == {PEAK_LABEL}
    costed = plain[plain["usd_per_million"].notna()]
    pd.testing.assert_series_equal(
        costed["usd_per_million_peak"], costed["usd_per_million"], check_names=False
    )
    assert plain["cost_ratio_vs_peak"].isna().all() and plain["goodput_qps"].isna().all()
    n2 = at(plain, "fp32", "n2-standard-4")  # the vCPU scaling of the peak figure, as before
    assert n2["throughput_per_s"] == pytest.approx(40.0 * 4 / 2)
    assert n2["cores_assumption"] == "4 vCPUs counted as cores (peak figure): x2 the 2-thread run"
    # with a load test the peak columns are the same numbers
    options = ["c7i.2xlarge", "g4dn.xlarge", "L4 (owned)"]
    tested = cost_table(
        [run(LOCAL_ENV, [row("fp32", lt=load_test())])], only_options(catalog, options)
    )
    for option in options:
        assert at(tested, "fp32", option)["usd_per_million_peak"] == pytest.approx(
            at(plain, "fp32", option)["usd_per_million"]
        )
        assert at(tested, "fp32", option)["basis"] == "goodput"


# --- physical cores -----------------------------------------------------------------------------


def test_cpu_instances_count_physical_cores(catalog):
    options = ["c7i.2xlarge", "c7i.xlarge", "c7g.xlarge", "n2-standard-4"]
    doc = run(LOCAL_ENV, [row("fp32", lt=load_test(50.0))])
    table = cost_table([doc], only_options(catalog, options))
    c7i = at(table, "fp32", "c7i.2xlarge")  # 8 vCPUs = 4 cores = 2 replicas of the 2-thread run
    assert c7i["physical_cores"] == 4 and c7i["threads_per_core"] == 2 and c7i["replicas"] == 2
    assert c7i["goodput_qps"] == pytest.approx(100.0) and c7i["goodput_source"] == GOODPUT_REPLICAS
    assert c7i["cores_assumption"].startswith("8 vCPUs = 4 physical cores (2 threads per core")
    assert "2 replicas" in c7i["cores_assumption"]
    assert c7i["usd_per_million"] == pytest.approx(usd_per_million_from_goodput(0.357, 100))
    assert at(table, "fp32", "c7i.xlarge")["replicas"] == 1  # 4 vCPUs = 2 cores
    graviton = at(table, "fp32", "c7g.xlarge")  # 4 vCPUs = 4 cores: no SMT on Graviton
    assert graviton["threads_per_core"] == 1 and graviton["replicas"] == 2
    # today's peak figure of the same row still counts vCPUs (x4)
    assert c7i["throughput_per_s"] == pytest.approx(40.0 * 8 / 2)


def test_threads_per_core_from_the_catalogue_else_from_the_cpu(tmp_path, catalog):
    by_name = {o.name: o for o in hardware_options(catalog)}
    assert threads_per_core(by_name["c7g.xlarge"])[0] == 1
    assert threads_per_core(by_name["c7i.2xlarge"]) == (2, "catalogue")
    assert threads_per_core(by_name["CPU server (2-socket) (owned)"])[0] == 2  # x86, no column
    # a user's file without the column: Arm by its CPU text, x86 otherwise
    path = tmp_path / "cloud.csv"
    path.write_text(
        "provider,instance,vcpus,cpu,on_demand_usd_per_hour,price_source,price_date\n"
        "aws,m7g.xlarge,4,AWS Graviton3,0.16,me,2026-01\n"
        "aws,m7i.xlarge,4,Intel Xeon 8488C,0.20,me,2026-01\n"
    )
    mine = {o.name: o for o in hardware_options(load_user_catalog(path, catalog))}
    assert threads_per_core(mine["m7g.xlarge"])[0] == 1
    assert threads_per_core(mine["m7i.xlarge"])[0] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text(
        path.read_text()
        .replace("vcpus,cpu", "vcpus,threads_per_core,cpu")
        .replace(",4,AWS", ",4,0,AWS")
        .replace(",4,Intel", ",4,2,Intel")
    )
    with pytest.raises(UserError, match="threads_per_core.*greater than 0"):
        load_user_catalog(bad, catalog)


# --- a CPU-only runtime is never priced on a GPU -----------------------------------------------


def test_cpu_only_runtimes_and_their_gpu_equivalents():
    ort = gpu_servability("distill:3+int8@ort")
    assert not ort.servable and ort.equivalent == "distill:3+half"
    assert ort.reason == (
        "int8@ort runs on ONNX Runtime's CPU kernels: not servable on this accelerator"
    )
    for text in ("int8", "int8:per-tensor", "int8:per-channel", "prune-structured:30+int8"):
        s = gpu_servability(text)
        assert not s.servable and "torch's dynamic int8" in s.reason
    assert gpu_servability("int8:per-channel").equivalent == "half"
    assert gpu_servability("prune-structured:30+int8").equivalent == "prune-structured:30+half"
    assert gpu_servability("int8", runtime="ort").equivalent == "half"
    for text in ("fp32", "half", "int8:torchao", "distill:3+half@compile", "fp32@ort"):
        assert gpu_servability(text).servable, text


def test_openvino_and_static_int8_are_cpu_only():
    cases = {
        "fp32@openvino": "fp32",
        "half@openvino": "half",
        "int8@openvino": "half",
        "distill:3+int8:static@openvino": "distill:3+half",
        "int8:static@ort": "half",
        "prune-structured:30+int8:static": "prune-structured:30+half",
    }
    for text, equivalent in cases.items():
        s = gpu_servability(text)
        assert not s.servable and s.equivalent == equivalent, text
    assert "Intel's CPU plugin" in gpu_servability("half@openvino").reason
    assert "CPU int8 kernels" in gpu_servability("prune-structured:30+int8:static").reason


def test_a_gpu_row_is_priced_from_the_named_equivalent(catalog):
    options = ["g6.xlarge", "c7i.2xlarge"]
    ort = row("distill:3+int8@ort", "int8", runtime="ort", throughput_per_s={"1": 90, "32": 140})
    half = row("distill:3+half", "fp16", throughput_per_s={"1": 30, "32": 45}, accuracy=0.8)
    table = cost_table([run(LOCAL_ENV, [ort, half])], only_options(catalog, options))
    g6 = at(table, "distill:3+int8@ort", "g6.xlarge")
    assert g6["applicable"] and g6["priced_as"] == "distill:3+half"
    assert "priced as distill:3+half, its GPU-servable equivalent" in g6["note"]
    assert g6["throughput_assumptions"].startswith(
        "priced as distill:3+half, its GPU-servable equivalent (measured in these results"
    )
    assert g6["usd_per_million"] == pytest.approx(
        at(table, "distill:3+half", "g6.xlarge")["usd_per_million"]
    )
    cpu = at(table, "distill:3+int8@ort", "c7i.2xlarge")  # a CPU row: its own measurement
    assert cpu["priced_as"] == "" and cpu["throughput_per_s"] == pytest.approx(90 * 8 / 2)
    # not in the results: projected from the variant's own FLOPs as the half chain
    alone = cost_table([run(LOCAL_ENV, [ort])], only_options(catalog, options))
    g6 = at(alone, "distill:3+int8@ort", "g6.xlarge")
    assert g6["priced_as"] == "distill:3+half" and g6["throughput_source"] == "projected"
    assert "projected from this variant's FLOPs" in g6["throughput_assumptions"]


def test_a_gpu_row_that_cannot_be_priced_is_not_applicable(catalog, tmp_path, capsys):
    ort = row("distill:3+int8@ort", "int8", runtime="ort", flops=None)
    doc = run(LOCAL_ENV, [ort])
    table = cost_table([doc], only_options(catalog, ["g6.xlarge", "c7i.2xlarge"]))
    g6 = at(table, "distill:3+int8@ort", "g6.xlarge")
    assert not g6["applicable"] and math.isnan(g6["usd_per_million"])
    assert g6["reason"] == (
        "int8@ort runs on ONNX Runtime's CPU kernels: not servable on this accelerator"
    )
    assert at(table, "distill:3+int8@ort", "c7i.2xlarge")["applicable"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc))
    assert cli_main(["cost", "--results", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    gpu = [r for r in rows if r["accelerator"]]
    assert gpu and all(r["applicable"] is False and "not servable" in r["reason"] for r in gpu)
    assert all(r["basis"] == "peak" for r in rows)
    cpu = next(r for r in rows if r["option"] == "c7i.2xlarge")
    assert cpu["applicable"] is True and cpu["reason"] == ""
    assert cli_main(["cost", "--results", str(path)]) == 0
    out = capsys.readouterr().out
    assert "n/a: distill:3+int8@ort on g6.xlarge: int8@ort runs on ONNX Runtime's CPU" in out


# --- the simulated-queue projection ------------------------------------------------------------


def test_projected_goodput_reproduces_the_measurement_and_is_monotone():
    lt = LoadTest.from_dict(load_test(50.0))
    assert lt is not None and lt.tokenize_share == pytest.approx(1 / 31)
    assert projected_goodput(lt, 1.0)[0] == pytest.approx(50.0)  # anchored to the measurement
    ratios = [0.5, 0.9, 1.0, 1.1, 1.5, 2, 4, 10, 30, 100, 300]
    goodputs = [projected_goodput(lt, r)[0] for r in ratios]
    assert goodputs == sorted(goodputs)
    assert goodputs[-1] > 20 * goodputs[2]
    for r in ratios:  # never more than the projected peak
        g, peak, _ = projected_goodput(lt, r)
        assert g <= peak + 1e-9


def test_gpus_without_a_load_test_get_a_simulated_queue(catalog):
    options = ["g4dn.xlarge", "g6.xlarge", "p5.4xlarge", "L4 (owned)"]
    # BERT-base-sized (22 GFLOP, 12 layers): compute-bound at batch 32 on every GPU, so each
    # has its own speed (a small model is launch-bound there, the same on an L4 as an H100)
    doc = run(LOCAL_ENV, [row("fp32", lt=load_test(50.0), flops=22.35e9, layers=12)])
    table = cost_table([doc], only_options(catalog, options))
    rows = [at(table, "fp32", o) for o in options]
    for r in rows:
        assert r["basis"] == "goodput" and r["goodput_source"] == GOODPUT_SIMULATED
        assert r["basis_label"] == f"goodput at p99 <= 100 ms, {GOODPUT_SIMULATED}"
        assert "speed ratio" in r["goodput_assumptions"] and r["speed_ratio"] > 1
        assert r["usd_per_million"] == pytest.approx(
            usd_per_million_from_goodput(r["hourly_usd"], r["goodput_qps"])
        )
    by_speed = sorted(rows, key=lambda r: r["speed_ratio"])
    assert [r["option"] for r in by_speed][0] == "g4dn.xlarge"  # T4 slowest, H100 fastest
    assert by_speed[-1]["option"] == "p5.4xlarge"
    goodputs = [r["goodput_qps"] for r in by_speed]
    assert goodputs == sorted(goodputs)  # a faster machine never gets a lower goodput
    l4, owned = at(table, "fp32", "g6.xlarge"), at(table, "fp32", "L4 (owned)")
    assert l4["goodput_qps"] == owned["goodput_qps"]  # the same card, the same queue


def test_a_load_test_on_a_gpu_is_measured_there_and_scales_by_gpus(catalog):
    doc = run(L4_ENV, [row("fp32", lt=load_test(900.0, 1500.0), flops=22.35e9, layers=12)])
    table = cost_table([doc], only_options(catalog, ["g6.xlarge", "p5.4xlarge", "c7i.2xlarge"]))
    g6 = at(table, "fp32", "g6.xlarge")
    assert g6["goodput_source"] == GOODPUT_MEASURED and g6["goodput_qps"] == 900.0
    h100 = at(table, "fp32", "p5.4xlarge")
    assert h100["goodput_source"] == GOODPUT_SIMULATED and h100["goodput_qps"] > 900.0
    assert at(table, "fp32", "c7i.2xlarge")["basis"] == "peak"  # no CPU load test


def test_goodput_zero_is_not_costed_and_records_carry_the_new_keys(catalog):
    doc = run(C7I_ENV, [row("fp32", lt=load_test(0.0))])
    table = cost_table([doc], only_options(catalog, ["c7i.2xlarge"]))
    r = at(table, "fp32", "c7i.2xlarge")
    assert r["basis"] == "goodput" and math.isnan(r["usd_per_million"])
    assert "no offered rate met p99 <= 100 ms" in r["note"]
    assert r["usd_per_million_peak"] > 0
    (rec,) = table_records(table)
    for key in (
        "basis",
        "basis_label",
        "applicable",
        "reason",
        "priced_as",
        "goodput_qps",
        "goodput_source",
        "usd_per_million_peak",
        "cost_ratio_vs_peak",
        "cores_assumption",
        "physical_cores",
        "threads_per_core",
        "replicas",
    ):
        assert key in rec
    assert rec["usd_per_million"] is None and rec["applicable"] is True


def test_row_story_and_display_of_a_goodput_row(catalog):
    from lib.cost import explain

    a = CostAssumptions(requests_per_day=5_000_000, peak_to_average=3)
    doc = run(C7I_ENV, [row("fp32", lt=load_test(50.0))])
    table = cost_table([doc], only_options(catalog, ["c7i.2xlarge", "g6.xlarge"]), a)
    r = at(table, "fp32", "c7i.2xlarge")
    story = explain.row_story(r, "on_demand", a)
    assert f"**Goodput** 50.0 QPS at p99 <= 100 ms, **{GOODPUT_MEASURED}**" in story
    assert f"/ (50.0 QPS x 3600) x 1e6 = **{explain.usd(r['usd_per_million'])}**" in story
    assert "no utilisation guessed; from peak throughput (offline)" in story
    assert "÷ 50.0 QPS goodput) = **4**" in story
    shown = explain.display_table(table, "on_demand")
    c7i = shown[shown["Hardware"] == "c7i.2xlarge"].iloc[0]
    assert c7i["Basis"] == f"goodput at p99 <= 100 ms, {GOODPUT_MEASURED}"
    assert c7i["Goodput (QPS)"] == 50.0 and c7i["x peak"] == pytest.approx(r["cost_ratio_vs_peak"])
    assert c7i["$ per 1M at peak throughput (offline)"] == pytest.approx(r["usd_per_million_peak"])

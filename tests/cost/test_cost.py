"""The cost model against hand-computed examples, the cost table, the charts and the CLI."""

import json
import math

import pytest

from lib.cli.main import main as cli_main
from lib.cost.catalog import load_catalog, merge_rows
from lib.cost.charts import (
    accuracy_cost_chart,
    cost_per_million_chart,
    cumulative_cost_chart,
    pareto_frontier,
    sensitivity_chart,
)
from lib.cost.formulas import (
    CostAssumptions,
    breakeven_months,
    capex_per_hour,
    carbon_intensity_g_per_kwh,
    energy_kwh_per_million_estimated,
    energy_kwh_per_million_measured,
    instances_needed,
    monthly_usd,
    owned_hourly,
    power_kw,
    usd_per_million,
)
from lib.cost.scenarios import breakeven_table, sensitivity_table
from lib.cost.table import cost_table, table_records
from lib.errors import UserError
from lib.format import format_months


def _run(env, rows):
    return {"run_id": env.get("run_id", "r"), "spec": {}, "environment": env, "results": rows}


def _row(variant, precision, tput, lat_p90, accuracy, **extra):
    return {
        "variant": variant,
        "status": "ok",
        "precision": precision,
        "accuracy": accuracy,
        "throughput_per_s": {str(b): t for b, t in tput.items()},
        "latency_ms": {str(b): {"p50": v * 0.9, "p90": v} for b, v in lat_p90.items()},
        "params": 22_700_000,
        "flops_per_item": 2.9e9,
        "num_layers": 6,
        **extra,
    }


LOCAL = _run(
    {
        "run_id": "local",
        "cpu_model": "AMD EPYC 7B13",
        "threads": 2,
        "cores": 2,
        "device": "cpu",
        "gpu_name": None,
    },
    [
        _row(
            "fp32", "fp32", {1: 40.0, 32: 48.0}, {1: 27.0, 32: 670.0}, 0.81, energy_j_per_1k=900.0
        ),
        _row("int8", "int8", {1: 80.0, 32: 100.0}, {1: 14.0, 32: 320.0}, 0.80),
        {"variant": "broken", "status": "error"},
    ],
)
C7I = _run(
    {
        "run_id": "c7i",
        "cpu_model": "Intel(R) Xeon(R) Platinum 8488C",
        "threads": 8,
        "device": "cpu",
    },
    [_row("fp32", "fp32", {1: 150.0, 32: 200.0}, {1: 8.0, 32: 160.0}, 0.81, energy_j_per_1k=400.0)],
)
L4_RUN = _run(
    {"run_id": "l4", "cpu_model": "x", "threads": 4, "device": "cuda", "gpu_name": "NVIDIA L4"},
    [_row("fp32", "fp32", {1: 150.0, 64: 3000.0}, {1: 7.0, 64: 21.0}, 0.81)],
)


# --- formulas, by hand ------------------------------------------------------------------------


def test_cloud_cost_per_million_by_hand():
    # g4dn.xlarge at 100 inferences/s, busy half the time: 0.526 / (100 * 3600 * 0.5) * 1e6
    assert usd_per_million(0.526, 100, 0.5) == pytest.approx(2.922222, rel=1e-6)
    assert usd_per_million(0.526, 100, 1.0) == pytest.approx(1.461111, rel=1e-6)


def test_instances_for_peak_and_monthly():
    # 1M/day = 11.57/s average, x3 at peak = 34.7/s; 10/s per machine -> 4 machines
    assert instances_needed(1_000_000, 3, 10) == 4
    assert instances_needed(1_000, 3, 10) == 1  # always at least one
    assert instances_needed(864_000, 1, 10) == 1  # exactly 10/s fits one
    assert monthly_usd(0.526, 4) == pytest.approx(0.526 * 4 * 730)


def test_owned_server_worked_example():
    # A 10,000 $ box, 100 W idle / 500 W max, half busy, 4 years, PUE 1.5, 0.10 $/kWh,
    # colocation 200 $/kW/month on 0.5 kW, operations 10% of capex a year.
    a = CostAssumptions(
        utilisation=0.5,
        amortisation_years=4,
        pue=1.5,
        electricity_usd_per_kwh=0.10,
        colocation_usd_per_kw_month=200,
        operations_share=0.10,
    )
    h = owned_hourly(10_000, 100, 500, a)
    assert power_kw(100, 500, 0.5) == pytest.approx(0.3)
    assert h.capex_per_h == pytest.approx(10_000 / 35_040)  # 0.285388
    assert h.power_per_h == pytest.approx(0.3 * 1.5 * 0.10)  # 0.045
    assert h.colocation_per_h == pytest.approx(0.5 * 200 / 730)  # 0.136986
    assert h.operations_per_h == pytest.approx(1_000 / 8_760)  # 0.114155
    assert h.total == pytest.approx(0.581530, abs=1e-6)
    # At 1,000 inferences/s: 0.58153 / (1000 * 3600 * 0.5) * 1e6 = 0.323072 $/1M
    assert usd_per_million(h.total, 1000, 0.5) == pytest.approx(0.323072, abs=1e-6)
    # Break-even vs a cloud bill of 1,000 $/month: 10,000 / (1000 - running 0.296141 * 730) = 12.758
    running_monthly = h.running * 730
    assert running_monthly == pytest.approx(216.183, abs=1e-3)
    assert breakeven_months(10_000, 1_000, running_monthly) == pytest.approx(12.7581, abs=1e-4)


def test_financing_is_an_annuity():
    # 10,000 $ at 6%/year over 4 years: 234.85 $/month (standard annuity), / 730 h
    assert capex_per_hour(10_000, 4, 0.06) * 730 == pytest.approx(234.85, abs=0.01)
    assert capex_per_hour(10_000, 4, 0.0) == pytest.approx(10_000 / 35_040)


def test_breakeven_never_when_cloud_is_cheaper_to_run():
    assert math.isinf(breakeven_months(10_000, 100, 150))
    assert math.isinf(breakeven_months(10_000, 100, 100))
    assert format_months(math.inf) == "never" and format_months(12.25) == "12.2 months"


@pytest.mark.parametrize("throughput", [0, -1, None, float("nan")])
def test_zero_or_missing_throughput_is_a_user_error(throughput):
    with pytest.raises(UserError, match="Throughput"):
        usd_per_million(1.0, throughput, 0.5)


@pytest.mark.parametrize("u", [0, 1.5, -0.1])
def test_utilisation_out_of_range_is_a_user_error(u):
    with pytest.raises(UserError, match="Utilisation"):
        usd_per_million(1.0, 10, u)
    with pytest.raises(UserError, match="Utilisation"):
        CostAssumptions(utilisation=u)


def test_energy_and_carbon():
    # 900 J per 1k = 900 kJ per 1M = 0.25 kWh, x PUE 1.1
    assert energy_kwh_per_million_measured(900, 1.1) == pytest.approx(0.275)
    # 70 W flat at 100/s, u=1: 1e6/100 s = 2.778 h -> 0.19444 kWh
    assert energy_kwh_per_million_estimated(70, 70, 100, 1.0, 1.0) == pytest.approx(
        0.194444, rel=1e-5
    )
    assert carbon_intensity_g_per_kwh("USA") == pytest.approx(369.473)
    assert carbon_intensity_g_per_kwh("France") < 100
    with pytest.raises(UserError, match="country"):
        carbon_intensity_g_per_kwh("Atlantis")


# --- the table --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def table():
    return cost_table([LOCAL, C7I, L4_RUN], load_catalog(), CostAssumptions())


def _at(table, variant, option):
    return table[(table["variant"] == variant) & (table["option"] == option)].iloc[0]


def test_table_measured_where_a_run_exists(table):
    g6 = _at(table, "fp32", "g6.xlarge")
    assert g6["throughput_source"] == "measured" and g6["throughput_per_s"] == 3000.0
    assert g6["usd_per_million"] == pytest.approx(usd_per_million(0.8048, 3000, 0.5))
    assert g6["hourly_usd"] == 0.8048 and g6["price_date"] and g6["price_source"]
    assert g6["usd_per_million_spot"] == pytest.approx(g6["usd_per_million"] * 0.5)
    assert _at(table, "fp32", "L4 (owned)")["throughput_source"] == "measured"
    c7i = _at(table, "fp32", "c7i.2xlarge")  # same CPU, 8 threads = 8 vCPUs
    assert c7i["throughput_source"] == "measured" and c7i["batch_size"] == 1  # 32 breaks 100 ms
    assert c7i["energy_source"].startswith("measured")
    assert c7i["energy_kwh_per_million"] == pytest.approx(400 * 1000 / 3.6e6 * 1.1)
    small = _at(table, "fp32", "c7i.xlarge")  # same CPU, half the vCPUs: scaled, so projected
    assert small["throughput_source"] == "projected" and small["throughput_per_s"] == pytest.approx(
        75.0
    )


def test_table_projected_elsewhere(table):
    t4 = _at(table, "fp32", "g4dn.xlarge")
    assert t4["throughput_source"] == "projected" and t4["projection"]["peak_tflops"] == 8.1
    assert "T4" in t4["throughput_assumptions"] and t4["energy_source"].startswith("estimated")
    n2 = _at(table, "int8", "n2-standard-4")  # no run on that CPU: local x 4 vCPUs / 2 threads
    assert n2["throughput_source"] == "projected" and n2["throughput_per_s"] == pytest.approx(160.0)
    inf2 = _at(table, "fp32", "inf2.xlarge")
    assert inf2["throughput_source"] == "unavailable" and "peak" in inf2["note"]
    assert "broken" not in set(table["variant"])
    owned = _at(table, "fp32", "L4 (owned)")
    assert owned["capex_usd"] == pytest.approx(2500 + 17500 / 4)
    assert owned["breakeven_vs"] and not math.isnan(owned["breakeven_months"])


def test_cloud_cheaper_than_owning_forever():
    catalog = load_catalog()
    dear = catalog.hardware.copy()
    dear.loc[dear["name"] == "L4", "idle_w"] = 5000
    dear.loc[dear["name"] == "L4", "max_w"] = (
        9000  # absurd power: running costs beat any cloud bill
    )
    catalog = merge_rows(catalog, hardware=dear)
    t = cost_table(L4_RUN, catalog, CostAssumptions(requests_per_day=1000))
    row = _at(t, "fp32", "L4 (owned)")
    assert math.isinf(row["breakeven_months"])
    rec = [r for r in table_records(t) if r["option"] == "L4 (owned)"][0]
    assert rec["breakeven_months"] == "never"
    bt = breakeven_table(t, "fp32", "L4 (owned)")
    assert (bt[bt["cloud_option"] == "g6.xlarge"]["breakeven"] == "never").all()


def test_no_throughput_at_all_is_a_user_error():
    zero = _run({"device": "cpu", "threads": 2}, [_row("fp32", "fp32", {1: 0.0}, {1: 10.0}, 0.8)])
    with pytest.raises(UserError, match="throughput"):
        cost_table(zero)
    with pytest.raises(UserError, match="results"):
        cost_table({"nope": 1})


def test_sensitivity_and_charts(table):
    sens = sensitivity_table(
        [LOCAL, L4_RUN],
        utilisations=(0.25, 0.5, 1.0),
        volumes=(1e5, 1e8),
        variant="fp32",
        options=["g6.xlarge", "L4 (owned)"],
    )
    u = sens[(sens["axis"] == "utilisation") & (sens["option"] == "g6.xlarge")].sort_values(
        "utilisation"
    )
    assert list(u["usd_per_million"]) == sorted(
        u["usd_per_million"], reverse=True
    )  # busier = cheaper
    v = sens[(sens["axis"] == "requests_per_day") & (sens["option"] == "g6.xlarge")].sort_values(
        "requests_per_day"
    )
    assert list(v["instances_needed"]) == [1, 2]  # 1e8/day x3 at peak = 3472/s; 3000/s per L4
    assert len(sensitivity_chart(sens).data) == 4

    fig = cost_per_million_chart(table)
    names = {trace.name for trace in fig.data}
    assert "fp32 (projected)" in names and "fp32 (measured)" in names
    projected = next(t for t in fig.data if t.name == "fp32 (projected)")
    assert projected.marker.pattern.shape == "/" and projected.marker.opacity < 1
    assert projected.customdata is not None and "utilisation" in projected.hovertemplate
    cum = cumulative_cost_chart(table, "fp32", "L4 (owned)", ["g6.xlarge", "g4dn.xlarge"])
    assert any("(projected)" in (t.name or "") for t in cum.data)
    acc = accuracy_cost_chart(table)
    assert any(t.name == "Pareto frontier" for t in acc.data)


def test_pareto_frontier():
    import pandas as pd

    pts = pd.DataFrame(
        {"usd_per_million": [1.0, 2.0, 0.5, 3.0], "accuracy": [0.80, 0.85, 0.70, 0.84]}
    )
    front = pareto_frontier(pts)
    assert list(front["usd_per_million"]) == [0.5, 1.0, 2.0]


# --- CLI --------------------------------------------------------------------------------------


def _cli(argv):
    return cli_main(["cost", *argv])


def test_cli_json(tmp_path, capsys):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(LOCAL))
    assert (
        _cli(
            [
                "--results",
                str(path),
                "--requests-per-day",
                "50000",
                "--utilisation",
                "0.4",
                "--json",
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert {r["variant"] for r in rows} == {"fp32", "int8"}
    c7i = next(r for r in rows if r["variant"] == "fp32" and r["option"] == "c7i.2xlarge")
    for key in (
        "hourly_usd",
        "throughput_per_s",
        "utilisation",
        "throughput_source",
        "usd_per_million",
        "monthly_usd",
        "price_source",
        "price_date",
    ):
        assert key in c7i
    assert c7i["utilisation"] == 0.4 and c7i["throughput_source"] == "projected"
    assert c7i["usd_per_million"] == pytest.approx(
        usd_per_million(0.357, c7i["throughput_per_s"], 0.4)
    )
    assert c7i["monthly_usd"] == pytest.approx(0.357 * 730)


def test_cli_table_and_bad_input(tmp_path, capsys):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(LOCAL))
    assert _cli(["--results", str(path)]) == 0
    out = capsys.readouterr().out
    assert "g4dn.xlarge" in out and "projected" in out
    assert _cli(["--results", str(path), "--utilisation", "1.5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Utilisation") and err.count("\n") == 1
    assert _cli(["--results", str(tmp_path / "missing.json")]) == 2
    bad = tmp_path / "cat.csv"
    bad.write_text(
        "provider,instance,vcpus,on_demand_usd_per_hour,price_source,price_date\naws,x,4,,me,2026-01\n"
    )
    assert _cli(["--results", str(path), "--catalog", str(bad)]) == 2
    assert "row 1 (x), column 'on_demand_usd_per_hour'" in capsys.readouterr().err

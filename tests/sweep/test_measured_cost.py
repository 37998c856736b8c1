"""Cost: a sweep's measurement on a machine kind that is a catalogue row is used as measured,
labelled "measured on <host>", instead of projected."""

from __future__ import annotations

from lib.cost.catalog import load_catalog
from lib.cost.hardware import hardware_options
from lib.cost.measured import option_matches
from lib.cost.projection import measurements_from_results
from lib.cost.table import cost_table
from tests.sweep.helpers import sweep_doc


def _options():
    return {o.name: o for o in hardware_options(load_catalog())}


def test_labels_match_catalogue_rows():
    opts = _options()
    eight = measurements_from_results([sweep_doc("r", "c7i", {"fp32": 10.0}, cpus=8)])[0]
    assert eight.machine == "c7i" and eight.host == "c7i-host" and eight.node_cpus == 8
    assert option_matches(opts["c7i.2xlarge"], eight)  # 8 vCPUs: the whole instance
    assert not option_matches(opts["c7i.xlarge"], eight)  # 4 vCPUs: another size
    exact = measurements_from_results([sweep_doc("r", "c7i.xlarge", {"fp32": 10.0}, cpus=3)])[0]
    assert option_matches(opts["c7i.xlarge"], exact)
    gpu = measurements_from_results(
        [sweep_doc("r", "l4", {"fp32": 1.0}, device="cuda", gpu="NVIDIA L4")]
    )[0]
    assert option_matches(opts["L4 (owned)"], gpu)
    assert not option_matches(opts["c7i.2xlarge"], gpu)


def test_cost_table_uses_the_sweeps_measurement():
    doc = sweep_doc("sw1", "c7i", {"fp32": 10.0, "int8": 5.0}, host="ip-10-0-0-7", cpus=8)
    table = cost_table([doc])
    row = table[(table["option"] == "c7i.2xlarge") & (table["variant"] == "int8")].iloc[0]
    assert row["throughput_source"] == "measured"
    assert row["throughput_assumptions"].startswith("measured on ip-10-0-0-7 (c7i node, run sw1)")
    # batch 32: 32 / 0.05 s = 640/s, the measured figure itself (no vCPU scaling)
    assert round(row["throughput_per_s"]) == 640
    other = table[(table["option"] == "c6i.2xlarge") & (table["variant"] == "int8")].iloc[0]
    assert other["throughput_source"] == "projected"

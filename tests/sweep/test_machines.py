"""Compare's machine pivot: the same variant across hardware, the ranking per machine, and a
warning when the winner changes from one machine to another."""

from __future__ import annotations

from lib.compare import machines
from tests.sweep.helpers import sweep_doc

DOCS = [
    # On c7i int8 is the fastest; on l4 half is.
    sweep_doc("r1", "c7i", {"fp32": 10.0, "half": 8.0, "int8": 5.0}),
    sweep_doc("r2", "l4", {"fp32": 4.0, "half": 1.0, "int8": 3.0}),
]


def test_pivot_ranks_and_the_winner_change():
    frame = machines.machine_frame(DOCS, 1)
    assert machines.machines(frame) == ["c7i", "l4"]
    pivot = machines.machine_pivot(frame, "throughput").set_index("variant")
    assert round(pivot.loc["int8", "c7i"]) == 200 and round(pivot.loc["half", "l4"]) == 1000
    ranks = machines.machine_ranking(frame, "throughput").set_index("variant")
    assert ranks.loc["int8", "c7i"] == 1 and ranks.loc["int8", "l4"] == 2
    assert ranks.loc["half", "l4"] == 1
    (warning,) = machines.winner_changes(frame, "throughput")
    assert "int8 on c7i" in warning and "half on l4" in warning
    lat = machines.machine_pivot(frame, "latency").set_index("variant")
    assert lat.loc["fp32", "c7i"] == 10.0
    assert machines.winner_changes(frame, "latency") == [
        warning.replace("throughput", "p50 latency")
    ]


def test_no_warning_when_one_variant_wins_everywhere_and_newest_run_counts():
    docs = [
        sweep_doc("r1", "c7i", {"fp32": 10.0, "int8": 5.0}, date="2026-11-01"),
        sweep_doc("r3", "c7i", {"fp32": 10.0, "int8": 2.0}, date="2026-12-01"),  # re-measured
        sweep_doc("r2", "c6g", {"fp32": 12.0, "int8": 6.0}),
    ]
    frame = machines.machine_frame(docs, 1)
    assert machines.winner_changes(frame) == []
    row = frame[(frame["machine"] == "c7i") & (frame["variant"] == "int8")]
    assert list(row["run_id"]) == ["r3"] and list(row["host"]) == ["c7i-host"]


def test_runs_outside_a_sweep_use_their_hardware():
    doc = sweep_doc("r9", "x", {"fp32": 10.0})
    doc["environment"].pop("cluster")
    frame = machines.machine_frame([doc], 1)
    assert machines.machines(frame) == [frame["machine"][0]] and frame["machine"][0] != "x"

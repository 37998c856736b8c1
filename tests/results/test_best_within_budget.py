"""``best_within_budget``: the fastest variant across techniques and runtimes that keeps its
accuracy within a budget (pure dicts, no model)."""

from __future__ import annotations

import pytest

from lib.results.advice import best_within_budget, is_full_size


def r(variant, acc, p50s, paired=None, runtime=None, status="ok", **kw):
    steps = variant.rsplit("@", 1)[0].split("+")
    out = {
        "variant": variant,
        "steps": steps,
        "runtime": runtime or (variant.rsplit("@", 1)[1] if "@" in variant else "eager"),
        "status": status,
        "accuracy": acc,
        "latency_ms": {b: {"p50": p} for b, p in p50s.items()},
        **kw,
    }
    if paired:
        out["speedup_paired"] = {b: {"speedup": s} for b, s in paired.items()}
    return out


RUN = [
    r("fp32", 0.819, {"1": 20.0, "32": 470.0}),
    r("int8:per-tensor", 0.799, {"1": 12.0, "32": 270.0}, {"1": 1.7, "32": 1.75}),
    r("int8@ort", 0.815, {"1": 12.5, "32": 300.0}, {"1": 1.6, "32": 1.6}),
    r(
        "int8:static@openvino",
        0.819,
        {"1": 6.9, "32": 160.0},
        {"1": 2.9, "32": 2.95},
        roofline={"share": {"32": 0.05}},
    ),  # fmt: skip
    r("half@openvino", 0.819, {"1": 7.2, "32": 250.0}, {"1": 2.8, "32": 1.9}),
    r(
        "distill:3+prune-structured:40+int8:static@openvino",
        0.812,
        {"1": 2.5, "32": 55.0},
        {"1": 8.0, "32": 8.5},
    ),  # fmt: skip
    r("distill:2+int8@ort", 0.790, {"1": 1.5, "32": 40.0}, {"1": 12.0, "32": 11.0}),
    r("int8:static:300/keep-ends@ort", None, {}, status="failed"),
]


def test_the_fastest_within_one_point_across_techniques_and_runtimes():
    rows = best_within_budget(RUN)
    assert [row["batch"] for row in rows] == [1, 32]
    b1, b32 = rows
    assert b32["variant"] == "distill:3+prune-structured:40+int8:static@openvino"
    assert b32["accuracy_delta_points"] == pytest.approx(-0.7)
    assert b32["speedup_vs_fp32"] == 8.5 and b32["ranked_by"] == "p50 latency"
    # distill:2 was faster but lost 2.9 points: named, not chosen.
    assert [o["variant"] for o in b32["faster_outside_budget"]] == ["distill:2+int8@ort"]
    assert b32["runner_up"]["variant"] == "int8:static@openvino"
    assert "distill:2+int8@ort was faster" in b32["sentence"]
    assert b1["variant"] == b32["variant"] and b1["within_budget"] == 5


def test_full_size_only_and_a_tighter_budget():
    b1, b32 = best_within_budget(RUN, full_size_only=True)
    assert b32["variant"] == "int8:static@openvino" and b32["roofline_share"] == 0.05
    assert "5% of this CPU's peak" in b32["sentence"]
    assert [o["variant"] for o in b32["faster_outside_budget"]] == []
    # half@openvino and int8@ort are slower at batch 32; int8:per-tensor lost 2 points.
    rows = best_within_budget(RUN, 0.0, full_size_only=True)
    assert rows[1]["variant"] == "int8:static@openvino"
    rows = best_within_budget([RUN[0], RUN[1]], 1.0)
    assert rows[1]["variant"] == "fp32"  # nothing faster kept its accuracy: the baseline
    assert rows[1]["faster_outside_budget"][0]["variant"] == "int8:per-tensor"
    assert is_full_size(RUN[3]) and not is_full_size(RUN[5])


def test_ranking_by_paired_speedup_and_fallbacks():
    # By p50 half@openvino (250 ms) beats int8@ort (300 ms); by paired speed-up too (1.9 > 1.6).
    rows = best_within_budget(RUN[:5], 1.0, rank_by="paired")
    assert rows[1]["ranked_by"] == "paired speed-up"
    assert rows[1]["variant"] == "int8:static@openvino"
    # A p50 ranking and a paired one can disagree on a loaded machine: the option says which.
    loaded = [
        RUN[0],
        r("a@ort", 0.819, {"1": 20.0}, {"1": 20.0}),
        r("b", 0.819, {"1": 8.0}, {"1": 12.0}),
    ]
    assert best_within_budget(loaded)[0]["variant"] == "b"
    assert best_within_budget(loaded, rank_by="paired")[0]["variant"] == "a@ort"
    # Without paired rounds for every variant, the paired ranking falls back to p50.
    run = [RUN[0], r("int8@ort", 0.815, {"32": 300.0}), r("half", 0.819, {"32": 250.0})]
    (row,) = [x for x in best_within_budget(run, rank_by="paired") if x["batch"] == 32]
    assert row["variant"] == "half" and row["ranked_by"] == "p50 latency"
    assert row["speedup_vs_fp32"] == pytest.approx(470 / 250)
    assert best_within_budget(RUN[1:]) == []
    with pytest.raises(ValueError):
        best_within_budget(RUN, rank_by="fastest")

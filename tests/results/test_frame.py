"""lib.results.frame: result dicts -> tidy frames and the one-sentence verdict."""

from __future__ import annotations

import math

import pytest

from lib.results import frame as rf
from tests.helpers.results import lat, result, sample


def test_wide_frame_one_row_per_variant_with_per_batch_columns():
    df = rf.to_frame(sample())
    assert list(df["variant"]) == ["fp32", "half", "int8", "int8@ort"]
    for col in ("p50_ms_b1", "p99_ms_b32", "throughput_b32", "speedup_vs_fp32_b32", "accuracy_low"):
        assert col in df.columns
    int8 = df.set_index("variant").loc["int8"]
    assert int8["speedup_vs_fp32_b32"] == pytest.approx(2.0)
    assert int8["speedup_vs_fp32_b1"] == pytest.approx(10 / 6)
    assert int8["accuracy_delta_pts"] == pytest.approx(-0.4)
    assert int8["size_ratio_vs_fp32"] == pytest.approx(90 / 23)
    assert int8["throughput_b32"] == pytest.approx(400.0)
    assert "int8 backend: torch.ao dynamic" in int8["notes"]
    failed = df.set_index("variant").loc["int8@ort"]
    assert failed["status"] == "failed" and failed["error"] == "onnx export failed"
    assert math.isnan(failed["accuracy"]) and math.isnan(failed["p50_ms_b32"])


def test_paired_rounds_give_the_speed_up_and_its_interval():
    rows = sample()
    rows[2]["speedup_paired"] = {"32": {"speedup": 1.7, "ci": [1.6, 1.8], "rounds": 5}}
    df = rf.to_frame(rows).set_index("variant")
    assert df.loc["int8", "speedup_vs_fp32_b32"] == pytest.approx(1.7)  # not 2.0 from the p50s
    assert df.loc["int8", "speedup_basis_b32"] == "paired rounds"
    assert (df.loc["int8", "speedup_low_b32"], df.loc["int8", "speedup_high_b32"]) == (1.6, 1.8)
    assert df.loc["int8", "speedup_vs_fp32_b1"] == pytest.approx(10 / 6)  # no rounds at b1
    assert df.loc["int8", "speedup_basis_b1"] == "separate timings"
    assert df.loc["fp32", "speedup_vs_fp32_b32"] == 1.0
    shown = rf.display_frame(rf.to_frame(rows)).set_index("Variant")
    assert shown.loc["int8", "Speed-up b32 95% CI (paired)"] == "1.60 – 1.80"
    assert shown.loc["half", "Speed-up b32 95% CI (paired)"] == ""


def test_optional_fields_are_rendered_when_present():
    rows = sample()
    rows[2] |= {
        "accuracy_ci": [0.78, 0.83],
        "p_value_vs_baseline": 0.41,
        "energy_j_per_1k": 12.5,
        "stability": {"unstable": True},
        "expectations": [{"level": "info", "message": "int8 helps on VNNI CPUs"}],
    }
    df = rf.to_frame(rows).set_index("variant")
    assert df.loc["int8", "accuracy_low"] == 0.78 and df.loc["int8", "accuracy_high"] == 0.83
    assert df.loc["int8", "p_value_vs_baseline"] == 0.41
    assert df.loc["int8", "energy_j_per_1k"] == 12.5
    assert df.loc["int8", "unstable"] is True or df.loc["int8", "unstable"] == True  # noqa: E712
    assert df.loc["int8", "expectations"] == "int8 helps on VNNI CPUs"
    shown = rf.display_frame(rf.to_frame(rows))
    assert "Accuracy 95% CI (%)" in shown.columns and "p-value vs fp32" in shown.columns
    assert "Energy (J per 1k)" in shown.columns
    assert shown.loc[2, "Accuracy 95% CI (%)"] == "78.0 – 83.0"
    assert shown.loc[2, "Timing stable"] == "no"


def test_display_frame_units_and_failure_reason():
    shown = rf.display_frame(rf.to_frame(sample()))
    assert shown.loc[0, "Accuracy (%)"] == pytest.approx(81.2)
    assert shown.loc[2, "Speed-up b32 (×)"] == pytest.approx(2.0)
    assert "p50 b1 (ms)" in shown.columns and "Throughput b32 (items/s)" in shown.columns
    assert shown.loc[3, "Notes"] == "onnx export failed"
    # Columns that only exist with the newer fields stay out when absent.
    assert "Accuracy 95% CI (%)" not in shown.columns


def test_long_frame_one_row_per_variant_and_batch():
    long = rf.to_long(sample(), seq_len=128)
    assert len(long) == 6  # 3 measured variants x 2 batch sizes; the failed one is left out
    row = long[(long["variant"] == "half") & (long["batch_size"] == 32)].iloc[0]
    assert row["p50_ms"] == 100.0 and row["throughput_per_s"] == pytest.approx(320.0)
    assert row["speedup_vs_fp32"] == pytest.approx(1.6) and row["seq_len"] == 128


def test_summary_sentence_names_speed_and_accuracy_cost():
    s = rf.summary_sentence(rf.to_frame(sample()), 32)
    assert (
        s
        == "int8 is 2.0x faster than fp32 at batch 32, 3.9x smaller, and loses 0.4 accuracy points."
    )


def test_summary_prefers_a_variant_that_keeps_accuracy():
    rows = sample()
    rows[2]["accuracy"] = 0.70  # int8 fastest but loses 11 points
    s = rf.summary_sentence(rf.to_frame(rows), 32)
    assert s.startswith("half is 1.6x faster than fp32 at batch 32")


def test_summary_mentions_significance_and_slowdowns():
    rows = sample()[:2]
    rows[1]["latency_ms"]["32"] = lat(320.0)
    rows[1]["p_value_vs_baseline"] = 0.6
    s = rf.summary_sentence(rf.to_frame(rows), 32)
    assert "2.0x slower than fp32" in s and "(not significant)" in s


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], "nothing to compare"),
        ([{"variant": "fp32", "status": "failed", "error": "boom"}], "nothing to compare"),
        ([result("fp32", 0.8, 10, 100, 90)], "Only the fp32 baseline"),
        ([result("int8", 0.8, 10, 100, 23)], "baseline was not measured"),
    ],
)
def test_summary_edge_cases(rows, expected):
    assert expected in rf.summary_sentence(rf.to_frame(rows))


def test_empty_results_give_empty_frames():
    assert rf.to_frame([]).empty
    assert rf.to_long([]).empty
    assert rf.batch_sizes([]) == []


def test_length_frame_from_a_sweep():
    from lib.results.frame import to_length_frame

    results = [
        {"variant": "fp32", "status": "ok", "sweep_batch_size": 1,
         "latency_by_seq_len_ms": {"32": {"p50": 10.0, "p90": 12.0}, "128": {"p50": 40.0, "p90": 44.0}}},
        {"variant": "int8", "status": "ok", "latency_by_seq_len_ms": {}},
        {"variant": "bad", "status": "failed"},
    ]  # fmt: skip
    frame = to_length_frame(results)
    assert frame[["variant", "seq_len", "p50_ms"]].values.tolist() == [
        ["fp32", 32, 10.0],
        ["fp32", 128, 40.0],
    ]
    assert frame["throughput_per_s"].tolist() == [100.0, 25.0]
    assert to_length_frame([{"variant": "x", "status": "ok"}]).empty


def test_rows_group_by_runtime_or_technique_keeping_run_order_inside():
    rows = [
        result("fp32", 0.9, 10, 100, 90),
        result("int8", 0.89, 6, 50, 23),
        result("fp32", 0.9, 8, 90, 90),
        result("half", 0.9, 9, 95, 45),
        result("int8", 0.89, 4, 40, 23),
    ]
    rows[2].update(variant="fp32@ort", runtime="ort")
    rows[4].update(variant="int8@ort", runtime="ort")
    frame = rf.to_frame(rows)
    assert list(rf.group_rows(frame)["variant"]) == ["fp32", "int8", "fp32@ort", "half", "int8@ort"]
    by_runtime = rf.group_rows(frame, "runtime")["variant"]
    assert list(by_runtime) == ["fp32", "int8", "half", "fp32@ort", "int8@ort"]
    by_technique = rf.group_rows(frame, "technique")["variant"]
    assert list(by_technique) == ["fp32", "fp32@ort", "int8", "int8@ort", "half"]
    assert rf.technique_of("distill:3+int8@ort") == "distill:3+int8"
    with pytest.raises(ValueError):
        rf.group_rows(frame, "colour")


def test_typed_results_give_the_same_frame():
    from lib.schema import VariantResult

    results = [
        {"variant": "fp32", "accuracy": 0.9, "latency_ms": {"1": lat(10.0)}, "size_mb": 100},
        {"variant": "int8", "accuracy": 0.88, "latency_ms": {"1": lat(5.0)}, "size_mb": 25},
        {"variant": "half", "status": "failed", "error": "boom"},
    ]
    typed = [VariantResult.from_dict(r) for r in results]
    frame = rf.to_frame(results)
    assert rf.to_frame(typed).equals(frame)
    assert frame.loc[1, "speedup_vs_fp32_b1"] == pytest.approx(2.0)
    assert rf.to_long(typed).equals(rf.to_long(results))


def test_summary_does_not_lead_with_a_slower_variant_when_a_faster_one_exists():
    """The AVX2 demo said 'half is 5.9x slower than fp32' as its headline: the sentence must lead
    with the fact (nothing that keeps accuracy is faster) and name the trade."""
    rows = sample()
    rows[1]["latency_ms"]["32"] = lat(940.0)  # half: keeps accuracy, much slower (no bf16)
    rows[2]["accuracy"] = 0.70  # int8: faster, loses the accuracy
    s = rf.summary_sentence(rf.to_frame(rows), 32)
    assert s.startswith("No variant that keeps accuracy within 1 point of fp32 is faster")
    assert "(half is" in s and "slower than fp32)" in s
    assert "the fastest, int8," in s and "loses" in s

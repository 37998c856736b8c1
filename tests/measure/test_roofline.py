"""The roofline: peaks per precision from the CPU flags, achieved GFLOP/s and share, against
hand-computed cases (no model, no torch)."""

from __future__ import annotations

import pytest

from lib.measure import roofline

XEON = {
    "device": "cpu",
    "cpu_model": "Intel(R) Xeon(R) Processor",
    "cpu_flags": [
        "AVX512-VNNI",
        "AVX-VNNI",
        "AMX-INT8",
        "AMX-BF16",
        "AVX512-BF16",
        "AVX512F",
        "AVX2",
    ],
    "cores": 2,
    "threads": 2,
}
EPYC_ZEN3 = {"device": "cpu", "cpu_model": "AMD EPYC 7B13", "cpu_flags": ["AVX2"], "cores": 2}
EPYC_ZEN4 = {
    "device": "cpu",
    "cpu_model": "AMD EPYC 9B14",
    "cpu_flags": ["AVX512-VNNI", "AVX512-BF16", "AVX512F", "AVX2"],
    "cores": 2,
}
HW = {"clock_ghz": 2.6, "clock_source": "test", "physical_cores": 2}
MINILM_FLOPS = 2_869_200_384.0  # flops_per_item of MiniLM-L6 at 128 tokens (the demo runs)


def result(precision="fp32", p50s=None, threads=2, **kw):
    p50s = p50s or {"1": 10.0, "32": 250.0}
    return {
        "variant": kw.pop("variant", "v"),
        "status": "ok",
        "device": "cpu",
        "precision": precision,
        "threads": threads,
        "flops_per_item": MINILM_FLOPS,
        "latency_ms": {b: {"p50": p} for b, p in p50s.items()},
        **kw,
    }


def test_peaks_per_precision_from_the_flags():
    # Intel AVX-512: 2 FMA units x 16 lanes x 2 flops; VNNI 4x; AMX-BF16 1024; AMX-INT8 2048.
    assert roofline.ops_per_cycle("fp32", XEON["cpu_flags"]) == ("AVX512F FMA", 64)
    assert roofline.ops_per_cycle("bf16", XEON["cpu_flags"]) == ("AMX-BF16", 1024)
    assert roofline.ops_per_cycle("int8", XEON["cpu_flags"]) == ("AMX-INT8", 2048)
    assert roofline.ops_per_cycle("int8", XEON["cpu_flags"], vector_only=True) == (
        "AVX512-VNNI",
        256,
    )
    assert roofline.ops_per_cycle("bf16", ["AVX512-BF16", "AVX512F"])[1] == 128
    # AVX2 only (Zen 3): 2 x 8 x 2 = 32; bf16 computed as fp32; int8 without VNNI 2x fp32.
    assert roofline.ops_per_cycle("fp32", ["AVX2"])[1] == 32
    assert roofline.ops_per_cycle("bf16", ["AVX2"])[1] == 32
    assert roofline.ops_per_cycle("int8", ["AVX2"])[1] == 64
    # AMD Zen 4: 512-bit instructions on 256-bit datapaths, half Intel's rate.
    assert roofline.ops_per_cycle("fp32", EPYC_ZEN4["cpu_flags"], "AMD EPYC")[1] == 32
    assert roofline.ops_per_cycle("int8", EPYC_ZEN4["cpu_flags"], "AMD EPYC")[1] == 128
    assert roofline.ops_per_cycle("fp16", ["AVX2"])[1] == 32  # fp16 reads the fp32 table


def test_a_hand_computed_int8_result_on_the_xeon():
    roof = roofline.for_result(result("int8", {"1": 6.7, "32": 155.0}), XEON, HW)
    # Peak: 2 cores x 2.6 GHz x 2048 (AMX-INT8) = 10,649.6 GOP/s; AVX512-VNNI: x256 = 1,331.2.
    assert roof["peak_gflops"] == pytest.approx(10649.6)
    assert roof["vector_peak_gflops"] == pytest.approx(1331.2)
    # Achieved at batch 32: 2.8692 GFLOP x 32 / 0.155 s = 592.35 GOP/s.
    assert roof["achieved_gflops"]["32"] == pytest.approx(592.35, abs=0.01)
    assert roof["share"]["32"] == pytest.approx(592.35 / 10649.6, abs=1e-4)
    assert roof["vector_share"]["32"] == pytest.approx(592.35 / 1331.2, abs=1e-4)
    # Batch 1: 2.8692 / 0.0067 = 428.24.
    assert roof["achieved_gflops"]["1"] == pytest.approx(428.24, abs=0.01)
    assert roof["precision"] == "int8" and roof["units"] == "AMX-INT8" and roof["cores"] == 2
    assert any("2.6 GHz" in a for a in roof["assumptions"])


def test_the_issue_figures_on_two_zen4_cores():
    # The issue: ~600 GOP/s is 63-90% of two Zen 4 cores' VNNI peak at 2.6-3.7 GHz; fp32 tops
    # out near 170-240 GFLOP/s.
    for clock, share in ((2.6, 0.90), (3.7, 0.63)):
        hw = {**HW, "clock_ghz": clock}
        peak, _ = roofline.peak_gflops("int8", EPYC_ZEN4["cpu_flags"], 2, clock, "AMD EPYC")
        assert 600 / peak == pytest.approx(share, abs=0.01)
        roof = roofline.for_result(result("fp32"), EPYC_ZEN4, hw)
        assert roof["peak_gflops"] == pytest.approx(2 * clock * 32)
    assert "vector_peak_gflops" not in roof  # no AMX


def test_fp32_on_avx2_and_cores_capped_by_physical_cores():
    roof = roofline.for_result(result("fp32", {"32": 1000.0}, threads=4), EPYC_ZEN3, HW)
    # 2 physical cores (not the 4 threads) x 2.6 GHz x 32 = 166.4 GFLOP/s.
    assert roof["cores"] == 2 and roof["peak_gflops"] == pytest.approx(166.4)
    # 2.8692 x 32 / 1.0 s = 91.81 GFLOP/s: 55% of the roof.
    assert roof["achieved_gflops"]["32"] == pytest.approx(91.81, abs=0.01)
    assert roof["share"]["32"] == pytest.approx(91.81 / 166.4, abs=1e-4)


def test_no_roofline_without_what_it_needs():
    assert roofline.for_result({**result(), "status": "failed"}, XEON, HW) is None
    assert roofline.for_result({**result(), "device": "cuda"}, XEON, HW) is None
    assert roofline.for_result({**result(), "flops_per_item": None}, XEON, HW) is None


def test_clock_and_cores_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor : 0\nphysical id : 0\ncore id : 0\ncpu MHz : 2599.998\n\n"
        "processor : 1\nphysical id : 0\ncore id : 0\ncpu MHz : 3100.5\n\n"
        "processor : 2\nphysical id : 0\ncore id : 1\ncpu MHz : 2000\n"
    )
    assert roofline.cpu_clock_ghz(info) == (3.1, "/proc/cpuinfo cpu MHz")
    assert roofline.physical_cores(info) == 2  # two hyper-threads on core 0
    empty = tmp_path / "none"
    clock, source = roofline.cpu_clock_ghz(empty)
    assert clock == roofline.ASSUMED_CLOCK_GHZ and "assumed" in source


def test_roofline_frame_for_the_results_page():
    rows = [
        result("int8", {"1": 6.7, "32": 155.0}, variant="int8:static@openvino"),
        result("bf16", {"1": 7.3, "32": 248.0}, variant="half@openvino"),
        {"variant": "broken", "status": "failed"},
    ]
    rows[0]["roofline"] = roofline.for_result(rows[0], XEON, HW)
    frame = roofline.roofline_frame(rows, XEON)  # the second gets one computed from env
    assert list(frame.columns) == [
        "variant",
        "batch",
        "precision",
        "p50_ms",
        "achieved_gflops",
        "peak_gflops",
        "share",
        "units",
        "vector_peak_gflops",
        "vector_share",
    ]
    assert len(frame) == 4 and set(frame["variant"]) == {"int8:static@openvino", "half@openvino"}
    row = frame[(frame["variant"] == "int8:static@openvino") & (frame["batch"] == 32)].iloc[0]
    assert row["achieved_gflops"] == pytest.approx(592.35, abs=0.01)
    assert row["p50_ms"] == 155.0 and row["units"] == "AMX-INT8"
    assert roofline.roofline_frame([], XEON).empty

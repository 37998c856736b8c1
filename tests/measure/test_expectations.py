"""Expectations before a run, on fake environments, and the verdict after it."""

from __future__ import annotations

import pytest

from lib.measure.expectations import (
    Expectation,
    check_against_measurement,
    compare,
    expectations_for,
)
from lib.techniques import Step, Variant

AVX2_ONLY = {"device": "cpu", "cpu_model": "AMD EPYC", "cpu_flags": ["AVX2"]}
SAPPHIRE = {
    "device": "cpu",
    "cpu_model": "Intel Xeon Platinum 8480",
    "cpu_flags": ["AVX2", "AVX512F", "AVX512-VNNI", "AVX512-BF16", "AMX-INT8", "AMX-BF16"],
}
GPU = {"device": "cuda", "cpu_model": "AMD EPYC", "cpu_flags": ["AVX2"], "gpu_name": "H100"}


def v(*steps, runtime="eager"):
    parsed = []
    for s in steps:
        name, _, param = s.partition(":")
        parsed.append(Step(name, param or None))
    return Variant(
        "+".join(steps) + ("" if runtime == "eager" else f"@{runtime}"), tuple(parsed), runtime
    )


def directions(variant, env):
    return [e.expected_speedup for e in expectations_for(variant, env)]


def test_baseline_has_no_expectation():
    assert expectations_for(v("fp32"), AVX2_ONLY) == []


def test_half_on_a_cpu_without_bf16_is_expected_slower():
    (e,) = expectations_for(v("half"), AVX2_ONLY)
    assert e.level == "warn" and e.expected_speedup == "slower"
    assert "AVX512-BF16" in e.message and "6x slower" in e.message


def test_half_on_a_cpu_with_bf16_or_on_a_gpu_is_expected_faster():
    assert directions(v("half"), SAPPHIRE) == ["faster"]
    (e,) = expectations_for(v("half"), GPU)
    assert e.level == "info" and e.expected_speedup == "faster"


def test_int8_without_vnni_expects_little_gain_and_with_vnni_a_gain():
    (e,) = expectations_for(v("int8"), AVX2_ONLY)
    assert e.level == "warn" and e.expected_speedup == "none" and "VNNI" in e.message
    assert directions(v("int8:per-channel"), SAPPHIRE) == ["faster"]
    assert directions(v("int8"), {**AVX2_ONLY, "cpu_flags": ["AVX2", "AVX-VNNI"]}) == ["faster"]


def test_torchao_int8_eager_is_expected_slower_but_not_when_compiled():
    (e,) = expectations_for(v("int8:torchao"), SAPPHIRE)
    assert e.level == "warn" and e.expected_speedup == "slower" and "compile" in e.message
    (e,) = expectations_for(v("int8:torchao", runtime="compile"), SAPPHIRE)
    assert e.level == "info" and e.expected_speedup is None


def test_torch_int8_on_cuda_is_unsupported():
    (e,) = expectations_for(v("int8"), GPU)
    assert e.level == "warn" and e.expected_speedup is None and "only on a CPU" in e.message


def test_unstructured_pruning_is_expected_to_give_no_speed():
    for step in ("prune:unstructured-50", "prune-unstructured", "sparsity:0.9"):
        (e,) = expectations_for(v(step), SAPPHIRE)
        assert e.level == "warn" and e.expected_speedup == "none" and "dense" in e.message


def test_structured_pruning_and_distillation_are_expected_faster():
    assert directions(v("prune-structured:30/magnitude"), AVX2_ONLY) == ["faster"]
    assert directions(v("distill:3"), AVX2_ONLY) == ["faster"]


def test_variant_text_is_parsed():
    assert directions("half", AVX2_ONLY) == ["slower"]


# ---------------------------------------------------------------- after the run
SLOWER = Expectation("warn", "", "slower")
NONE = Expectation("warn", "", "none")
FASTER = Expectation("info", "", "faster")


def test_verdict_texts():
    assert check_against_measurement(SLOWER, 0.17) == "expected slower, measured 0.17x: as expected"
    assert check_against_measurement([NONE], 1.04).endswith("as expected")
    assert check_against_measurement(FASTER, 1.9) == "expected faster, measured 1.90x: as expected"
    assert check_against_measurement(SLOWER, 1.5).endswith("better than expected")
    assert check_against_measurement(FASTER, 0.5).endswith("worse than expected")
    assert check_against_measurement(NONE, 0.7).endswith("worse than expected")
    assert "no expectation" in check_against_measurement([], 1.3)
    assert check_against_measurement(SLOWER, None).startswith("not measured")
    assert "uncertain" in check_against_measurement(SLOWER, 0.2, unstable=True)


@pytest.mark.parametrize(
    "speedup, measured", [(0.89, "slower"), (0.95, "none"), (1.1, "none"), (1.11, "faster")]
)
def test_band_of_no_change(speedup, measured):
    assert compare(NONE, speedup)["measured"] == measured


def test_chain_combines_expectations():
    # int8 with VNNI (faster) after unstructured pruning (no gain): the chain is expected faster.
    exps = expectations_for(v("prune:unstructured-50", "int8"), SAPPHIRE)
    assert compare(exps, 1.8)["agrees"] is True
    assert compare([FASTER, SLOWER], 0.5)["expected"] == "slower"


# ---------------------------------------------------------------- OpenVINO and static int8
def test_static_int8_needs_int8_dot_products_to_pay():
    (e,) = expectations_for("int8:static@ort", AVX2_ONLY)
    assert e.level == "warn" and e.expected_speedup == "none" and "VNNI" in e.message
    (e,) = expectations_for("int8:static@openvino", SAPPHIRE)
    assert e.expected_speedup == "faster" and "calibrated once on train texts" in e.message
    # OpenVINO's plain int8 is NNCF's calibrated int8, not torch's dynamic one
    (e,) = expectations_for("int8@openvino", SAPPHIRE)
    assert "calibrated" in e.message and "dynamic int8 runs" not in e.message


def test_openvino_half_without_bf16_units_is_expected_to_fail():
    (e,) = expectations_for("half@openvino", AVX2_ONLY)
    assert e.level == "warn" and e.expected_speedup is None and "will fail" in e.message
    assert directions("half@openvino", SAPPHIRE) == ["faster"]
    assert expectations_for("fp32@openvino", SAPPHIRE) == []


@pytest.mark.parametrize("variant", ["fp32@openvino", "half@openvino", "int8@openvino"])
def test_openvino_on_a_gpu_is_one_clear_warning(variant):
    (e,) = expectations_for(variant, GPU)
    assert e.level == "warn" and "Intel's CPU plugin" in e.message and "will fail" in e.message


def test_static_int8_on_a_gpu_is_expected_to_fail():
    (e,) = expectations_for("int8:static@ort", GPU)
    assert e.level == "warn" and "will fail on cuda" in e.message

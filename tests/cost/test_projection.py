"""Projection: FLOPs counted on a tiny model, the calibrated model vs the H200 reference."""

import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from lib.cost.projection import (
    DEFAULT_CALIBRATION,
    calibrate,
    cpu_matches,
    hardware_key,
    measurements_from_results,
    pick_batch,
    project_cpu,
    project_gpu,
    projection_error,
    projection_error_summary,
)
from lib.errors import UserError
from lib.measure.flops import count_flops

PEAKS = {
    "accelerator_model": "X1",
    "fp32_tflops": 10.0,
    "fp16_tflops": 100.0,
    "bf16_tflops": 100.0,
    "mem_bw_gb_s": 500.0,
}


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=2,
    )
    return BertForSequenceClassification(config)


def test_flops_counted_and_linear_in_batch(tiny_model):
    one = count_flops(tiny_model, batch_size=1, seq_len=16)
    four = count_flops(tiny_model, batch_size=4, seq_len=16)
    assert one.flops_per_item > 0 and one.n_layers == 2 and one.params > 0
    assert four.flops_per_item == pytest.approx(one.flops_per_item, rel=1e-6)
    # Hand count of the matmuls: per layer Q,K,V,O (4 x 2*s*h*h) + attention (2 x 2*s*s*h)
    # + FFN (2 x 2*s*h*i); plus pooler (2*h*h) and classifier (2*h*2).
    s, h, i = 16, 32, 64
    per_layer = 4 * 2 * s * h * h + 2 * 2 * s * s * h + 2 * 2 * s * h * i
    assert one.flops_per_item == 2 * per_layer + 2 * h * h + 2 * h * 2
    assert count_flops(tiny_model, 1, 32).flops_per_item > one.flops_per_item


def test_projection_monotone_in_peak():
    tputs = []
    for peak in (5, 10, 50, 100, 400, 1000):
        p = project_gpu(
            2e9, "fp16", PEAKS | {"fp16_tflops": peak}, n_layers=6, latency_target_ms=100
        )
        assert p.throughput_source == "projected" and p.peak_tflops == peak
        tputs.append(p.throughput_per_s)
    assert tputs == sorted(tputs) and tputs[-1] > tputs[0]


def test_projection_formula_and_assumptions():
    eff = DEFAULT_CALIBRATION.efficiency["fp32"]
    p = project_gpu(1e9, "fp32", PEAKS, n_layers=None, batch_sizes=(256,))
    expected_latency = max(DEFAULT_CALIBRATION.floor_s_default, 256e9 / (10e12 * eff))
    assert p.latency_ms == pytest.approx(expected_latency * 1e3)
    assert p.throughput_per_s == pytest.approx(256 / expected_latency)
    assert p.efficiency == eff and p.flops_per_item == 1e9 and "efficiency" in p.summary()
    # small batches hit the floor: throughput = batch / floor
    small = project_gpu(1e9, "fp32", PEAKS, n_layers=12, batch_sizes=(1,))
    assert small.latency_ms == pytest.approx(12 * DEFAULT_CALIBRATION.floor_s_per_layer * 1e3)
    # int8 on a GPU is projected at the fp16 peak, and says so
    q = project_gpu(1e9, "int8", PEAKS)
    assert q.compute_precision == "fp16" and "fp16" in q.summary()
    # the latency target limits the batch
    tight = project_gpu(1e9, "fp32", PEAKS, n_layers=6, latency_target_ms=10)
    assert tight.latency_ms <= 10


def test_projection_unavailable_raises():
    with pytest.raises(UserError, match="No bf16 peak"):
        project_gpu(1e9, "bf16", {"accelerator_model": "T4", "fp32_tflops": 8.1, "fp16_tflops": 65})
    with pytest.raises(UserError, match="FLOPs"):
        project_gpu(None, "fp32", PEAKS)


def test_calibration_constants_match_the_fit():
    fitted = calibrate()
    assert fitted.efficiency == pytest.approx(DEFAULT_CALIBRATION.efficiency)
    assert fitted.floor_s_per_layer == pytest.approx(DEFAULT_CALIBRATION.floor_s_per_layer)
    assert fitted.floor_s_default == pytest.approx(DEFAULT_CALIBRATION.floor_s_default)


def test_projection_error_vs_h200_within_aim():
    summary = projection_error_summary()
    big = summary[summary["batch"].isin([64, 256])]
    assert len(big) == 8  # fp32, tf32, fp16, bf16 x batch 64, 256
    assert (big["median_abs_error"] <= 0.25).all(), big
    err = projection_error()
    err = err[err["batch"].isin([64, 256])]
    assert err["rel_error"].abs().mean() <= 0.20
    assert (err["rel_error"].abs() <= 0.25).mean() >= 0.75


def test_hardware_names_match():
    assert hardware_key("NVIDIA H100 80GB HBM3") == hardware_key("H100 SXM5") == "h100"
    assert hardware_key("NVIDIA H100 PCIe") == hardware_key("H100 PCIe") != "h100"
    assert hardware_key("NVIDIA A10G") == "a10g" and hardware_key("NVIDIA A10") == "a10"
    assert hardware_key("NVIDIA A100-SXM4-40GB") == hardware_key("A100 PCIe 80GB") == "a100"
    assert hardware_key("Tesla T4") == "t4" and hardware_key("NVIDIA L4") == "l4"
    assert cpu_matches("Intel(R) Xeon(R) Platinum 8488C", "8488c")
    assert not cpu_matches("AMD EPYC 7B13", "8488c")


def test_cpu_projection_scales_by_vcpus():
    run = {
        "environment": {"cpu_model": "AMD EPYC", "threads": 2, "device": "cpu"},
        "results": [
            {
                "variant": "fp32",
                "precision": "fp32",
                "throughput_per_s": {"1": 40.0, "32": 48.0},
                "latency_ms": {"1": {"p50": 25, "p90": 27}, "32": {"p50": 660, "p90": 670}},
            }
        ],
    }
    (m,) = measurements_from_results(run)
    assert pick_batch(m.throughput_per_s, m.latency_ms, None)[:2] == (32, 48.0)
    assert pick_batch(m.throughput_per_s, m.latency_ms, 100)[:2] == (1, 40.0)
    p = project_cpu(m, 8, "c7i.2xlarge", latency_target_ms=100)
    assert p.throughput_per_s == pytest.approx(160.0) and p.throughput_source == "projected"
    assert "CPU model differs" in p.summary()


def test_measurements_read_through_the_schema():
    """A results file, its RunDocument and its dict give the same measurements; failed
    variants are skipped and a file that is not a run document says what it needs."""
    from pathlib import Path

    from lib.schema import RunDocument

    path = Path(__file__).resolve().parents[1] / "fixtures" / "run-969b95f.json"
    from_path = measurements_from_results(path)
    assert [m.variant for m in from_path] == [
        "fp32",
        "int8",
        "half",
        "prune-structured:30",
        "int8@ort",
    ]
    assert measurements_from_results(RunDocument.load_json(path)) == from_path
    assert measurements_from_results(RunDocument.load_json(path).to_dict()) == from_path
    assert all(m.run_id == "56b609f5f031" and m.flops_per_item for m in from_path)
    assert set(from_path[0].latency_ms) == {1, 4}
    with pytest.raises(UserError, match="'results' list"):
        measurements_from_results({"nope": 1})

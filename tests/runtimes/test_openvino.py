"""The OpenVINO runtime on tiny models of every encoder family (from_config, no download):
export and parity with PyTorch on padded inputs of other shapes than traced, the precision set
and recorded, hints per batch size, int8 through NNCF, and what it refuses."""

from __future__ import annotations

import copy

import pytest
import torch

from lib.errors import UserError
from lib.runtimes import openvino as ov_runtime
from lib.runtimes import registry as runtimes
from lib.techniques import BuildContext, apply_chain, parse_variant
from tests.helpers.tiny import one_thread, tiny_data  # noqa: F401 (one_thread: autouse fixture)
from tests.models.families.tiny_families import (
    FAMILIES,
    family_tokenizer,
    logits_of,
    padded_batch,
    tiny_family_model,
)

pytest.importorskip("openvino")

# Every family lib/models/families registers (DeBERTa both as v2 and v3); families added later
# are picked up from tests/models/families/tiny_families.FAMILIES.
ALL_FAMILIES = list(FAMILIES)


def _prepare(model, variant: str, name: str, tmp_path, shapes=((1, 12), (4, 12))):
    ctx = BuildContext(
        base_path="", tokenizer=family_tokenizer(tmp_path, name), train=tiny_data(32)
    )
    parsed = parse_variant(variant)
    built = apply_chain(copy.deepcopy(model), parsed, ctx)
    examples = [padded_batch(name, rows=r, length=n, seed=3) for r, n in shapes]
    predictor = runtimes.runtimes()[parsed.runtime].prepare(built, ctx, examples)
    return built, predictor, ctx


def test_openvino_is_registered_and_parses():
    assert "openvino" in runtimes.runtimes()
    assert len(runtimes.runtimes()["openvino"].summary) > 40
    for text in (
        "fp32@openvino",
        "half@openvino",
        "int8@openvino",
        "distill:3+int8:static@openvino",
    ):
        assert parse_variant(text).runtime == "openvino"


@pytest.mark.parametrize("name", ALL_FAMILIES)
def test_fp32_export_matches_pytorch_on_padded_inputs(name, tmp_path):
    model = tiny_family_model(name)
    built, predictor, _ = _prepare(model, "fp32@openvino", name, tmp_path)
    notes = predictor.notes
    assert notes["openvino_max_logit_diff"] < 1e-4
    assert notes["openvino_inference_precision"] == "f32"  # set, not the CPU's bf16 default
    assert set(notes["openvino_matmul_precisions"]) == {"f32"}
    # Checked on other shapes than the export was traced with, most rows padded.
    for rows, length, seed in ((5, 20, 1), (1, 7, 2), (3, 33, 4)):
        batch = padded_batch(name, rows=rows, length=length, seed=seed)
        torch.testing.assert_close(predictor(batch), logits_of(built, batch), rtol=1e-3, atol=1e-4)


def test_hints_threads_and_size_are_recorded(tmp_path):
    model = tiny_family_model("bert")
    _, predictor, _ = _prepare(model, "fp32@openvino", "bert", tmp_path)
    hints = predictor.notes["openvino_hints"]
    assert hints["1"]["hint"] == "LATENCY" and hints["4"]["hint"] == "THROUGHPUT"
    assert hints["1"]["threads"] == predictor.notes["openvino_threads"] == torch.get_num_threads()
    assert predictor.served_size_mb and predictor.served_size_mb > 0
    assert predictor.runtime == "openvino"


def test_half_is_bf16_where_the_cpu_has_it_and_refused_where_not(tmp_path, monkeypatch):
    model = tiny_family_model("bert")
    if ov_runtime.cpu_supports_bf16(ov_runtime._core()[1]):
        built, predictor, ctx = _prepare(model, "half@openvino", "bert", tmp_path)
        assert ctx.precision == "bf16"
        assert predictor.notes["openvino_inference_precision"] == "bf16"
        assert set(predictor.notes["openvino_matmul_precisions"]) == {"bf16"}
        assert predictor.notes["openvino_served_max_logit_diff"] < 0.05
    monkeypatch.setattr(ov_runtime, "cpu_supports_bf16", lambda core: False)
    with pytest.raises(UserError, match="needs a CPU with bf16 units"):
        _prepare(model, "half@openvino", "bert", tmp_path)


@pytest.mark.parametrize("name", ["bert", "distilbert", "roberta"])
def test_int8_through_nncf_is_calibrated_and_close(name, tmp_path):
    model = tiny_family_model(name)
    variant = "int8@openvino" if name == "bert" else "int8:static:16/keep-head@openvino"
    built, predictor, ctx = _prepare(model, variant, name, tmp_path)
    notes = {**ctx.notes, **predictor.notes}
    assert ctx.precision == "int8"
    assert notes["int8_backend"].startswith("openvino NNCF post-training")
    assert notes["calibration"]["split"] == "train" and notes["calibration_seconds"] > 0
    assert set(notes["openvino_matmul_precisions"]) & {"i8", "u8"}
    assert notes["openvino_inference_precision"] == "f32"
    if name != "bert":
        assert notes["calibration"]["n"] == 16
        assert notes["int8_kept_float"] and "f32" in notes["openvino_matmul_precisions"]
    batch = padded_batch(name)
    torch.testing.assert_close(predictor(batch), logits_of(model, batch), atol=0.05, rtol=0)


def test_a_pruned_chain_then_static_int8(tmp_path):
    model = tiny_family_model("distilbert")
    built, predictor, ctx = _prepare(
        model,
        "prune-structured:50/magnitude/norecover+int8:static:16@openvino",
        "distilbert",
        tmp_path,
    )
    batch = padded_batch("distilbert")
    torch.testing.assert_close(predictor(batch), logits_of(built, batch), atol=0.05, rtol=0)


def test_refusals(tmp_path):
    model = tiny_family_model("bert")
    ctx = BuildContext(base_path="", tokenizer=None, train=None)
    torch_int8 = apply_chain(copy.deepcopy(model), parse_variant("int8"), ctx)
    with pytest.raises(UserError, match="quantized by PyTorch"):
        ov_runtime.prepare(torch_int8, ctx, [padded_batch("bert")])
    with pytest.raises(UserError, match="CPU only"):
        ov_runtime.prepare(
            model, BuildContext("", None, None, device="cuda"), [padded_batch("bert")]
        )
    with pytest.raises(UserError, match="needs the train split"):
        apply_chain(copy.deepcopy(model), parse_variant("int8@openvino"), ctx)

"""Every family through the family-agnostic techniques and runtimes: the ONNX export agrees with
PyTorch on padded batches of other shapes than it was traced with (pruned models included), ONNX
Runtime's int8 of it runs, and torch's int8 (each backend) and half run."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
import torch

from lib.runtimes import ort
from lib.techniques import BuildContext, apply_chain, parse_variant
from tests.helpers.tiny import one_thread  # noqa: F401 (one_thread: autouse fixture)
from tests.models.families.tiny_families import (
    FAMILIES,
    RESIZABLE,
    logits_of,
    padded_batch,
    tiny_family_model,
)

pytest.importorskip("onnxruntime")

# XLM-RoBERTa and CamemBERT run RoBERTa's code under other names (their pruning and distillation
# are tested all the same); two layers: export time grows with depth, and depth adds nothing here.
ARCHITECTURES = [name for name in FAMILIES if name not in ("xlm-roberta", "camembert")]
LAYERS = 2


def _ctx() -> BuildContext:
    return BuildContext(base_path="", tokenizer=None, train=None)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_onnx_export_matches_pytorch_on_padded_inputs(name, tmp_path, monkeypatch):
    """Pruned first where the family can be: the export of a resized model is the harder one."""
    # The export lands in tmp_path (ort's own tempfile module is left alone: onnxruntime uses it).
    monkeypatch.setattr(ort, "tempfile", SimpleNamespace(mkdtemp=lambda prefix="": str(tmp_path)))
    model = tiny_family_model(name, layers=LAYERS)
    variant = parse_variant(
        ("prune-structured:50/magnitude/norecover" if name in RESIZABLE else "fp32") + "@ort"
    )
    ctx = _ctx()
    built = apply_chain(copy.deepcopy(model), variant, ctx)
    # Traced on 4 rows of 12 tokens; checked on padded batches of other shapes.
    predictor = ort.prepare(built, ctx, [padded_batch(name, rows=4, length=12, seed=3)])
    assert predictor.notes["ort_max_logit_diff"] < 1e-4
    batches = [padded_batch(name, rows=r, length=n, seed=s) for r, n, s in ((5, 20, 1), (1, 7, 2))]
    batches.append(padded_batch(name, rows=3, length=33, seed=4))  # past ModernBERT's window
    for batch in batches:
        torch.testing.assert_close(predictor(batch), logits_of(built, batch), rtol=1e-3, atol=1e-4)

    # int8@ort quantizes this same export (lib/runtimes/ort.py), which it finds in tmp_path.
    ort.quantize_int8(tmp_path / "model.onnx", tmp_path / "model.int8.onnx")
    names = tuple(n for n in ort.INPUT_NAMES if n in batches[0])
    int8 = ort._runner(ort.make_session(tmp_path / "model.int8.onnx", 1), names)
    got, want = int8(batches[0]), logits_of(built, batches[0])
    assert got.shape == want.shape and got.isfinite().all()
    assert (got - want).abs().max() < 0.1 * max(1.0, float(want.abs().max()))


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_torch_int8_and_half_run(name):
    model = tiny_family_model(name, layers=LAYERS)
    batch = padded_batch(name)
    reference = logits_of(model, batch)
    for variant, precision in (("int8", "int8"), ("int8:per-channel", "int8"), ("half", "bf16")):
        ctx = _ctx()
        built = apply_chain(copy.deepcopy(model), parse_variant(variant), ctx)
        assert ctx.precision == precision
        got = logits_of(built, batch)
        assert got.shape == reference.shape and got.isfinite().all()


def test_int8_on_ort_leaves_the_model_float_for_the_runtime():
    ctx = _ctx()
    ctx.runtime = "ort"
    built = apply_chain(
        tiny_family_model("modernbert", layers=LAYERS), parse_variant("int8@ort"), ctx
    )
    assert ctx.pending_int8 is not None and ctx.precision == "int8"
    assert next(built.parameters()).dtype == torch.float32


def test_int8_torchao_runs_where_torchao_is_installed():
    pytest.importorskip("torchao")
    built = apply_chain(tiny_family_model("modernbert"), parse_variant("int8:torchao"), _ctx())
    assert logits_of(built, padded_batch("modernbert")).isfinite().all()

"""Pruning on a tiny BERT: shapes, save/load, no-op at 0%, chains, errors."""

from __future__ import annotations

import pytest
import torch

from lib.errors import UserError
from lib.models import checkpoint as pruned_io
from lib.techniques import apply_chain, parse_variant
from lib.techniques.prune import kept_counts
from tests.helpers.tiny import logits, make_ctx, one_thread, tiny_model  # noqa: F401 (one_thread: autouse fixture)


def test_kept_counts_keep_one_head_and_align():
    assert kept_counts(12, 1536, 30) == (8, 1072)  # 1075 rounded down to a multiple of 16
    assert kept_counts(12, 1536, 0) == (12, 1536)
    assert kept_counts(4, 64, 95) == (1, 3)  # at least one head; tiny widths are not aligned


def test_structured_shapes_and_param_counts(tmp_path):
    model, ctx = tiny_model(), make_ctx(tmp_path)
    before = sum(p.numel() for p in model.parameters())
    model = apply_chain(model, parse_variant("prune-structured:30/norecover"), ctx)
    for layer in model.bert.encoder.layer:
        att = layer.attention.self
        assert att.query.weight.shape == (24, 32)  # 3 of 4 heads of 8 dims
        assert att.key.weight.shape == att.value.weight.shape == (24, 32)
        assert layer.attention.output.dense.weight.shape == (32, 24)
        assert att.num_attention_heads == 3 and att.all_head_size == 24
        assert layer.intermediate.dense.weight.shape == (32, 32)  # 44 -> multiple of 16
        assert layer.output.dense.weight.shape == (32, 32)
    after = sum(p.numel() for p in model.parameters())
    # per layer: q,k,v lose 8 rows of 32 (+8 bias), out loses 8 columns; FFN loses 32 neurons
    per_layer = 3 * (8 * 32 + 8) + 8 * 32 + (32 * 32 + 32) + 32 * 32
    assert before - after == 4 * per_layer
    assert model.config.leanbench_pruned == {"heads": [3] * 4, "intermediate": [32] * 4}
    assert ctx.notes["params_after"] == after
    assert logits(model, ctx.tokenizer).shape == (2, 2)  # still runs (sdpa path)


def test_structured_eager_attention_runs(tmp_path):
    model, ctx = tiny_model(), make_ctx(tmp_path)
    model.config._attn_implementation = "eager"
    model = apply_chain(model, parse_variant("prune-structured:50/magnitude/norecover"), ctx)
    assert logits(model, ctx.tokenizer).isfinite().all()


def test_gradient_importance_removes_the_useless_head(tmp_path):
    model, ctx = tiny_model(), make_ctx(tmp_path)
    with torch.no_grad():  # head 2 of every layer contributes nothing to the output
        for layer in model.bert.encoder.layer:
            layer.attention.output.dense.weight[:, 16:24] = 0
    model = apply_chain(model, parse_variant("prune-structured:25/norecover"), ctx)
    ref = tiny_model()
    for layer, orig in zip(model.bert.encoder.layer, ref.bert.encoder.layer, strict=True):
        q = orig.attention.self.query.weight
        kept = torch.cat([q[0:16], q[24:32]])
        assert torch.equal(layer.attention.self.query.weight, kept)


def test_save_load_round_trip(tmp_path):
    model, ctx = tiny_model(), make_ctx(tmp_path)
    model = apply_chain(model, parse_variant("prune-structured:40/norecover"), ctx)
    expected = logits(model, ctx.tokenizer)
    pruned_io.save_pruned(model, tmp_path / "saved")
    loaded = pruned_io.load_pruned(tmp_path / "saved")
    assert loaded.config.leanbench_pruned == model.config.leanbench_pruned
    torch.testing.assert_close(logits(loaded, ctx.tokenizer), expected)


def test_zero_percent_changes_nothing(tmp_path):
    for variant in ("prune-structured:0", "prune-unstructured:0"):
        model, ctx = tiny_model(), make_ctx(tmp_path)
        expected = logits(model, ctx.tokenizer)
        model = apply_chain(model, parse_variant(variant), ctx)
        torch.testing.assert_close(logits(model, ctx.tokenizer), expected, rtol=0, atol=0)


def test_unstructured_sparsity_and_sparse_size(tmp_path):
    model, ctx = tiny_model(), make_ctx(tmp_path)
    model = apply_chain(model, parse_variant("prune-unstructured:50"), ctx)
    assert ctx.notes["sparsity_pruned_weights"] == pytest.approx(0.5, abs=0.01)
    assert 0 < ctx.notes["sparsity_all_params"] < 0.5
    dense_mb = sum(t.numel() * t.element_size() for t in model.state_dict().values()) / 1e6
    assert ctx.notes["size_mb_sparse"] < dense_mb
    w = model.bert.encoder.layer[0].attention.self.query.weight
    assert not hasattr(model.bert.encoder.layer[0].attention.self.query, "weight_orig")
    assert w.shape == (32, 32)  # same shape: dense kernels are not faster


def test_recovery_runs_and_caches(tmp_path):
    model, ctx = tiny_model(), make_ctx(tmp_path, cache=True)
    pruned = apply_chain(model, parse_variant("prune-structured:50/recover=5"), ctx)
    assert ctx.notes["recovery_steps"] >= 1 and "recovery_seconds" in ctx.notes
    expected = logits(pruned, ctx.tokenizer)
    ctx2 = make_ctx(tmp_path, cache=True)
    again = apply_chain(tiny_model(), parse_variant("prune-structured:50/recover=5"), ctx2)
    assert ctx2.notes["cached"] is True
    assert ctx2.notes["recovery_steps"] == ctx.notes["recovery_steps"]
    torch.testing.assert_close(logits(again, ctx.tokenizer), expected)


def test_chain_with_int8_and_half(tmp_path):
    for variant, precision in (
        ("prune-structured:30/norecover+int8", "int8"),
        ("prune-unstructured:30+half", "bf16"),
    ):
        ctx = make_ctx(tmp_path)
        model = apply_chain(tiny_model(), parse_variant(variant), ctx)
        assert ctx.precision == precision
        assert logits(model, ctx.tokenizer).shape == (2, 2)


def test_prune_after_int8_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="prune-structured:30' of 'int8\\+prune-structured:30'"):
        apply_chain(tiny_model(), parse_variant("int8+prune-structured:30"), make_ctx(tmp_path))


@pytest.mark.parametrize(
    "variant, fragment",
    [
        ("prune-structured:120", "Step 'prune-structured:120'"),
        ("prune-structured", "Step 'prune-structured'"),
        ("prune-structured:30/fast", "unknown option 'fast'"),
        ("prune-structured:30/norecover/recover=5", "not both"),
        ("prune-unstructured:100", "Step 'prune-unstructured:100'"),
        ("prune-unstructured:half", "not a whole number"),
        ("prune-sideways:30", "Unknown step 'prune-sideways'"),
    ],
)
def test_bad_parameters_name_the_step(variant, fragment):
    with pytest.raises(UserError, match=fragment.replace("(", r"\(")):
        parse_variant(variant)

"""A new family is one adapter: NomicBERT (separate q/k/v/o projections, a SwiGLU feed-forward
with separate gate and up projections, no head-count attribute) is unknown to Leanbench; the
adapter below, and nothing else, gives it structured pruning, pruned checkpoints, distillation
and the early applicability check."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoConfig, AutoModelForSequenceClassification

from lib.models import checkpoint, families
from lib.models.families import FamilyAdapter, Projection
from lib.techniques import BuildContext, apply_chain, parse_variant
from lib.techniques.applicability import applicability, describe_model
from tests.helpers.tiny import one_thread, tiny_data  # noqa: F401 (one_thread: autouse fixture)
from tests.models.families.tiny_families import SIZES, family_tokenizer, logits_of, padded_batch


class NomicBert(FamilyAdapter):
    """The whole of what a family needs (as docs/architecture.md shows)."""

    name = "NomicBERT"
    model_types = ("nomic_bert",)
    layers_path = "layers"
    attention = "self_attn"
    head_inputs = (
        Projection("self_attn.q_proj"),
        Projection("self_attn.k_proj"),
        Projection("self_attn.v_proj"),
    )
    head_output = "self_attn.o_proj"
    ffn_inputs = (Projection("mlp.gate_proj"), Projection("mlp.up_proj"))
    ffn_output = "mlp.down_proj"
    head_size_attr = "head_dim"
    head_count_attrs = ()
    head_width_attrs = ()


@pytest.fixture
def nomic():
    adapter = families.register(NomicBert())
    yield adapter
    families.unregister(adapter)


def _model():
    torch.manual_seed(0)
    config = AutoConfig.for_model("nomic_bert", **SIZES)
    return AutoModelForSequenceClassification.from_config(config).eval()


def test_unknown_until_its_adapter_is_registered():
    config = _model().config
    reason = applicability(config, "prune-structured:30")
    assert reason is not None and "'nomic_bert' models" in reason
    assert "ModernBERT (modernbert)" in reason and "int8, prune-unstructured" in reason
    assert applicability(config, "int8@ort") is None  # family-agnostic
    adapter = families.register(NomicBert())
    try:
        assert applicability(config, "prune-structured:30+distill:2") is None
        assert describe_model(config)["family"] == "NomicBERT"
    finally:
        families.unregister(adapter)
    assert families.for_config(config) is None


def test_one_adapter_gives_pruning_checkpoints_and_distillation(nomic, tmp_path):
    ctx = BuildContext(
        base_path="", tokenizer=family_tokenizer(tmp_path, "bert"), train=tiny_data(32)
    )
    variant = parse_variant("prune-structured:50/norecover+distill:2/examples=16")
    model = apply_chain(_model(), variant, ctx)
    assert model.config.leanbench_pruned == {"heads": [2, 2], "intermediate": [32, 32]}
    layer = model.base_model.layers[1]
    assert layer.self_attn.q_proj.out_features == 16 and layer.mlp.up_proj.out_features == 32
    batch = padded_batch("bert")
    checkpoint.save_pruned(model, tmp_path / "nomic")
    loaded = checkpoint.load_pruned(tmp_path / "nomic")
    torch.testing.assert_close(logits_of(loaded, batch), logits_of(model, batch))

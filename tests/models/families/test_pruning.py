"""Structured pruning on a tiny model of every family: shapes follow the record, a pruned model
saves and loads back to the same logits, and removing a head or neuron that contributes nothing
changes nothing (fused QKV and GLU rows, MPNet's shared position bias kept consistent)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lib.models import checkpoint, families
from lib.models.families.base import get_path
from lib.techniques import BuildContext, apply_chain, parse_variant
from lib.techniques.prune import kept_counts
from tests.helpers.tiny import one_thread, tiny_data  # noqa: F401 (one_thread: autouse fixture)
from tests.models.families.tiny_families import (
    RESIZABLE,
    family_tokenizer,
    logits_of,
    padded_batch,
    tiny_family_model,
)


def _ctx(tmp_path, name: str) -> BuildContext:
    return BuildContext(
        base_path="", tokenizer=family_tokenizer(tmp_path, name), train=tiny_data(64)
    )


def _rows(adapter, layer, projections) -> list[int]:
    return [
        get_path(layer, p.path).out_features
        for p in projections
        if get_path(layer, p.path) is not None
    ]


@pytest.mark.parametrize("name", RESIZABLE)
def test_pruned_shapes_follow_the_record_and_reload(tmp_path, name):
    model, ctx = tiny_family_model(name), _ctx(tmp_path, name)
    adapter = families.for_model(model)
    before = sum(p.numel() for p in model.parameters())
    # Gradient importance: hooks on the family's output projections.
    model = apply_chain(model, parse_variant("prune-structured:50/norecover"), ctx)
    heads, width = kept_counts(4, 64, 50)
    record = model.config.leanbench_pruned
    assert record == {"heads": [heads] * 4, "intermediate": [width] * 4}
    assert ctx.notes["heads_per_layer"] == record["heads"]
    for layer in adapter.layers(model):
        d = adapter.head_size(layer)
        for p in adapter.head_inputs:
            linear = get_path(layer, p.path)
            if linear is not None:
                assert linear.out_features == p.groups * heads * d
        assert adapter.head_output_layer(layer).in_features == heads * d
        for p in adapter.ffn_inputs:
            assert get_path(layer, p.path).out_features == p.groups * width
        assert adapter.ffn_output_layer(layer).in_features == width
    assert ctx.notes["params_after"] == sum(p.numel() for p in model.parameters()) < before

    batch = padded_batch(name)
    expected = logits_of(model, batch)
    assert expected.isfinite().all()
    checkpoint.save_pruned(model, tmp_path / "saved")
    loaded = checkpoint.load_pruned(tmp_path / "saved")
    assert loaded.config.leanbench_pruned == record
    torch.testing.assert_close(logits_of(loaded, batch), expected)


@pytest.mark.parametrize("name", RESIZABLE)
def test_removing_a_silent_head_and_neuron_changes_nothing(name):
    """A head whose output columns are zero, and neurons whose output columns are zero, add
    nothing: pruning exactly those must leave the logits as they were (wrong rows kept in a
    fused projection, or the wrong heads' position bias, would change them)."""
    model = tiny_family_model(name)
    adapter = families.for_model(model)
    layers = adapter.layers(model)
    with torch.no_grad():
        for i, layer in enumerate(layers):
            d = adapter.head_size(layer)
            silent = i % 4  # a different head in each layer
            adapter.head_output_layer(layer).weight[:, silent * d : (silent + 1) * d] = 0
            adapter.ffn_output_layer(layer).weight[:, 10:30] = 0
    batch = padded_batch(name)
    expected = logits_of(model, batch)
    for i, layer in enumerate(layers):
        adapter.prune_heads(layer, [h for h in range(4) if h != i % 4])
        adapter.prune_neurons(layer, [n for n in range(64) if not 10 <= n < 30])
    assert adapter.widths(model) == {"heads": [3] * 4, "intermediate": [44] * 4}
    torch.testing.assert_close(logits_of(model, batch), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["mpnet", "modernbert", "deberta-v3"])
def test_pruning_twice_and_magnitude_ranking(tmp_path, name):
    model, ctx = tiny_family_model(name), _ctx(tmp_path, name)
    variant = "prune-structured:25/magnitude/norecover+prune-structured:50/magnitude/norecover"
    model = apply_chain(model, parse_variant(variant), ctx)
    assert model.config.leanbench_pruned["heads"] == [1] * 4  # 4 -> 3 -> 1 (at least one kept)
    batch = padded_batch(name)
    checkpoint.save_pruned(model, tmp_path / "twice")
    loaded = checkpoint.load_pruned(tmp_path / "twice")
    torch.testing.assert_close(logits_of(loaded, batch), logits_of(model, batch))


def test_unstructured_pruning_prunes_the_layers_of_any_family(tmp_path):
    for name in ("modernbert", "albert"):
        model = tiny_family_model(name)
        ctx = BuildContext(base_path="", tokenizer=None, train=None)
        model = apply_chain(model, parse_variant("prune-unstructured:50"), ctx)
        assert ctx.notes["sparsity_pruned_weights"] == pytest.approx(0.5, abs=0.01)
        head = [m for n, m in model.named_modules() if n.endswith("classifier")][0]
        assert np.count_nonzero(head.weight.detach().numpy()) == head.weight.numel()

"""Resizing the layers of a BERT-family classifier: finding them, pruning heads and neurons.

A structurally pruned model has fewer heads and feed-forward neurons in some layers than its
config says; the kept widths are recorded in the config under ``PRUNED_KEY``
(``{"heads": [...], "intermediate": [...]}``, one entry per layer), so that
``lib.models.checkpoint`` can rebuild the same shapes before loading the weights.
"""

from __future__ import annotations

from typing import cast

import torch

from lib.errors import UserError

PRUNED_KEY = "leanbench_pruned"


def encoder_layers(model) -> list:
    """The transformer layers of a BERT-family classifier (BERT, RoBERTa, ELECTRA, MiniLM...)."""
    base = getattr(model, "base_model", model)
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if layers is None or not len(layers):
        raise UserError(
            f"works on BERT-family models (an encoder with .layer blocks); "
            f"{type(model).__name__} has none"
        )
    layer = layers[0]
    needed = (
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "intermediate.dense",
        "output.dense",
    )
    for name in needed:
        obj = layer
        for part in name.split("."):
            obj = getattr(obj, part, None)
        if not isinstance(obj, torch.nn.Linear):
            raise UserError(
                f"works on BERT-family models with 32-bit Linear layers; {type(model).__name__} "
                f"has no Linear '{name}' in its layers (put int8 or half after this step)"
            )
    return list(layers)


def prune_layer(layer, keep_heads: list[int], keep_neurons: list[int]) -> None:
    """Keep only these attention heads and feed-forward neurons of one BERT layer, in place."""
    from transformers.pytorch_utils import prune_linear_layer

    att = layer.attention.self
    d = att.attention_head_size
    n_heads = att.num_attention_heads
    if len(keep_heads) < n_heads:
        idx = torch.cat([torch.arange(h * d, (h + 1) * d) for h in sorted(keep_heads)])
        # prune_linear_layer's index is annotated as the legacy LongTensor type: a long tensor.
        idx = cast(torch.LongTensor, idx.to(att.query.weight.device))
        att.query = prune_linear_layer(att.query, idx, dim=0)
        att.key = prune_linear_layer(att.key, idx, dim=0)
        att.value = prune_linear_layer(att.value, idx, dim=0)
        out = layer.attention.output
        out.dense = prune_linear_layer(out.dense, idx, dim=1)
        # BertSelfAttention.forward reshapes with (-1, attention_head_size), so the head count
        # follows the weights; these two attributes are kept true for anyone who reads them.
        att.num_attention_heads = len(keep_heads)
        att.all_head_size = len(keep_heads) * d
    width = layer.intermediate.dense.out_features
    if len(keep_neurons) < width:
        idx = torch.as_tensor(sorted(keep_neurons), dtype=torch.long)
        idx = cast(torch.LongTensor, idx.to(layer.intermediate.dense.weight.device))
        layer.intermediate.dense = prune_linear_layer(layer.intermediate.dense, idx, dim=0)
        layer.output.dense = prune_linear_layer(layer.output.dense, idx, dim=1)


def layer_widths(model) -> dict[str, list[int]]:
    """Heads and feed-forward width per layer, as they are now."""
    layers = encoder_layers(model)
    return {
        "heads": [int(layer.attention.self.num_attention_heads) for layer in layers],
        "intermediate": [int(layer.intermediate.dense.out_features) for layer in layers],
    }


def apply_widths(model, widths: dict[str, list[int]]) -> None:
    """Resize a freshly built model's layers to recorded widths (weights to be loaded after)."""
    layers = encoder_layers(model)
    heads, inter = widths.get("heads", []), widths.get("intermediate", [])
    if len(heads) != len(layers) or len(inter) != len(layers):
        raise UserError(
            f"the saved pruning record has {len(heads)} layers, the model has {len(layers)}"
        )
    for layer, h, n in zip(layers, heads, inter, strict=True):
        prune_layer(layer, list(range(int(h))), list(range(int(n))))

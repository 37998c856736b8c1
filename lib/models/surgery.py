"""Resizing a classifier's layers, whatever its family: pruning heads and neurons, keeping layers.

The work is the family's adapter's (``lib.models.families``); this module is what pruning,
distillation and pruned checkpoints call, so none of them names a family. A structurally pruned
model has fewer heads and feed-forward neurons in some layers than its config says; the kept
widths are recorded in the config under ``PRUNED_KEY`` (``{"heads": [...], "intermediate":
[...]}``, one entry per layer), so that ``lib.models.checkpoint`` can rebuild the same shapes
before loading the weights.
"""

from __future__ import annotations

from lib.models import families
from lib.models.families import PRUNED_KEY, FamilyAdapter

__all__ = [
    "PRUNED_KEY",
    "adapter_for",
    "apply_widths",
    "encoder_layers",
    "keep_layers",
    "layer_widths",
    "prune_layer",
    "widths_are_full",
]


def adapter_for(model, technique: str | None = None) -> FamilyAdapter:
    """The model's family adapter; UserError (in one sentence) when ``technique`` cannot resize
    this family, or the family is unknown."""
    if technique is None:
        return families.for_model(model)
    return families.require(model, technique)


def encoder_layers(model, technique: str | None = None) -> list:
    """The transformer layers, checked to be float Linear layers surgery can resize."""
    return adapter_for(model, technique).checked_layers(model)


def prune_layer(adapter: FamilyAdapter, layer, keep_heads: list[int], keep_neurons: list[int]):
    """Keep only these attention heads and feed-forward neurons of one layer, in place."""
    adapter.prune_heads(layer, keep_heads)
    adapter.prune_neurons(layer, keep_neurons)


def layer_widths(model) -> dict[str, list[int]]:
    """Heads and feed-forward width per layer, as they are now."""
    return adapter_for(model).widths(model)


def widths_are_full(model, widths: dict[str, list[int]]) -> bool:
    """True when no layer is narrower than the config says (nothing to record)."""
    heads, ffn = adapter_for(model).full_widths(model.config)
    return all(h == heads for h in widths["heads"]) and all(
        n == ffn for n in widths["intermediate"]
    )


def apply_widths(model, widths: dict[str, list[int]]) -> None:
    """Resize a freshly built model's layers to recorded widths (weights to be loaded after)."""
    adapter_for(model).apply_widths(model, widths)


def keep_layers(model, chosen: list[int]) -> None:
    """Keep only the layers at ``chosen``, in place (a distillation student's layout)."""
    adapter_for(model, "distill").keep_layers(model, chosen)

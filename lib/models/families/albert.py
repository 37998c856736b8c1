"""ALBERT: one layer's weights shared by all its layers (``encoder.albert_layer_groups[g]
.albert_layers[i]``, applied ``num_hidden_layers`` times).

Structured pruning and distillation work layer by layer, and ALBERT has no separate layers: a
head removed from the shared layer is removed from all twelve, and a student keeps the one
shared layer whatever number it keeps, so both are refused with that reason. The family-agnostic
techniques (half, int8, unstructured pruning) and every runtime apply.
"""

from __future__ import annotations

from lib.models.families.base import FamilyAdapter, Projection

_SHARED = "its {layers} layers are one shared layer applied {layers} times"


class Albert(FamilyAdapter):
    name = "ALBERT"
    model_types = ("albert",)
    examples = "albert-base-v2"
    layers_path = "encoder.albert_layer_groups"
    attention = "attention"
    head_inputs = (
        Projection("attention.query"),
        Projection("attention.key"),
        Projection("attention.value"),
    )
    head_output = "attention.dense"
    ffn_inputs = (Projection("ffn"),)
    ffn_output = "ffn_output"
    not_applicable = {
        "prune-structured": _SHARED + ", so heads and neurons cannot be removed from one layer "
        "without removing them from all",
        "distill": _SHARED + ", so there are no separate layers for a student to keep",
    }

    def layers(self, model) -> list:
        """The distinct (shared) layers: usually one."""
        groups = super().layers(model)
        return [layer for group in groups for layer in group.albert_layers]

    def n_layers(self, model) -> int:
        return int(model.config.num_hidden_layers)

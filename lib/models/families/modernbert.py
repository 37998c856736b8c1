"""ModernBERT: ``layers[i].attn.Wqkv`` (one fused query-key-value projection: all query heads,
then all keys, then all values), ``attn.Wo``, and a fused GLU ``mlp.Wi`` (value half, then gate
half) with ``mlp.Wo``.

Layers alternate global and local (sliding-window) attention; each layer records its own type and
the config lists them (``layer_types``), so a student keeps its layers' types in the config it is
rebuilt from.
"""

from __future__ import annotations

from lib.models.families.base import FamilyAdapter, Projection


class ModernBert(FamilyAdapter):
    name = "ModernBERT"
    model_types = ("modernbert",)
    examples = "ModernBERT-base, ModernBERT-large"
    layers_path = "layers"
    attention = "attn"
    head_inputs = (Projection("attn.Wqkv", groups=3),)
    head_output = "attn.Wo"
    ffn_inputs = (Projection("mlp.Wi", groups=2),)
    ffn_output = "mlp.Wo"
    head_size_attr = "head_dim"
    head_count_attrs = ()
    head_width_attrs = ()

    def after_layers_kept(self, model, chosen: list[int]) -> None:
        types = getattr(model.config, "layer_types", None)
        if types:
            model.config.layer_types = [types[i] for i in chosen]

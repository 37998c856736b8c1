"""DistilBERT: ``transformer.layer[i].attention.{q,k,v,out}_lin`` and ``ffn.lin1/lin2``; its config
names its sizes ``dim``, ``n_heads``, ``n_layers`` and ``hidden_dim`` (the feed-forward width)."""

from __future__ import annotations

from lib.models.families.base import FamilyAdapter, Projection


class DistilBert(FamilyAdapter):
    name = "DistilBERT"
    model_types = ("distilbert",)
    examples = "distilbert-base-uncased and its fine-tunes (e.g. -finetuned-sst-2-english)"
    layers_path = "transformer.layer"
    attention = "attention"
    head_inputs = (
        Projection("attention.q_lin"),
        Projection("attention.k_lin"),
        Projection("attention.v_lin"),
    )
    head_output = "attention.out_lin"
    ffn_inputs = (Projection("ffn.lin1"),)
    ffn_output = "ffn.lin2"
    head_count_attrs = ("n_heads",)
    head_width_attrs = ()
    layer_count_attrs = ("n_layers",)  # the Transformer module keeps its own count
    ffn_config_attr = "hidden_dim"

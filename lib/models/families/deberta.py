"""DeBERTa-v2 and v3: ``encoder.layer[i].attention.self.{query,key,value}_proj``.

Relative positions are embedded once in the encoder (``rel_embeddings``) and projected in every
layer by that layer's own key and query projections (v3, ``share_att_key``) or by separate
``pos_key_proj`` / ``pos_query_proj`` (v2 configs without sharing); either way the projections are
the layer's, so keeping a head keeps its rows in all of them.
"""

from __future__ import annotations

from lib.models.families.base import FamilyAdapter, Projection


class DebertaV2(FamilyAdapter):
    name = "DeBERTa-v2/v3"
    model_types = ("deberta-v2",)
    examples = "deberta-v3-small, deberta-v3-base, deberta-v2-xlarge"
    layers_path = "encoder.layer"
    attention = "attention.self"
    head_inputs = (
        Projection("attention.self.query_proj"),
        Projection("attention.self.key_proj"),
        Projection("attention.self.value_proj"),
        Projection("attention.self.pos_key_proj", optional=True),
        Projection("attention.self.pos_query_proj", optional=True),
    )
    head_output = "attention.output.dense"
    ffn_inputs = (Projection("intermediate.dense"),)
    ffn_output = "output.dense"

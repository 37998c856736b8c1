"""BERT-like encoders: BERT, MiniLM, RoBERTa, XLM-RoBERTa, ELECTRA, CamemBERT.

All of them keep transformers' BERT layout (``encoder.layer[i].attention.self.{query,key,value}``,
``attention.output.dense``, ``intermediate.dense``, ``output.dense``); RoBERTa and its kin differ
only in embeddings and head, which surgery never touches.
"""

from __future__ import annotations

from lib.models.families.base import FamilyAdapter, Projection


class BertLike(FamilyAdapter):
    name = "BERT-like"
    model_types = ("bert", "roberta", "xlm-roberta", "electra", "camembert")
    examples = "BERT, MiniLM, RoBERTa, XLM-RoBERTa, ELECTRA, CamemBERT"
    layers_path = "encoder.layer"
    attention = "attention.self"
    head_inputs = (
        Projection("attention.self.query"),
        Projection("attention.self.key"),
        Projection("attention.self.value"),
    )
    head_output = "attention.output.dense"
    ffn_inputs = (Projection("intermediate.dense"),)
    ffn_output = "output.dense"

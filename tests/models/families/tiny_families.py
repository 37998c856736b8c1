"""A tiny model of every supported family, built from its config (no download), a word-level
tokenizer and padded batches, for the family tests."""

from __future__ import annotations

import torch
from transformers import AutoConfig, AutoModelForSequenceClassification, BertTokenizer

from tests.helpers.tiny import WORDS

VOCAB = 32  # the tokenizer's 15 tokens fit, with room for random ids
SIZES = dict(
    vocab_size=VOCAB,
    hidden_size=32,
    num_hidden_layers=4,
    num_attention_heads=4,
    intermediate_size=64,
    max_position_embeddings=64,
    pad_token_id=0,
    num_labels=2,
)
# name -> (model_type, config fields beyond SIZES); every family of lib/models/families, with
# DeBERTa both as v3 (keys shared with positions) and as v2 (separate position projections).
FAMILIES = {
    "bert": ("bert", {}),
    "roberta": ("roberta", {}),
    "xlm-roberta": ("xlm-roberta", {}),
    "electra": ("electra", {"embedding_size": 16}),
    "camembert": ("camembert", {}),
    "distilbert": ("distilbert", {"dim": 32, "n_layers": 4, "n_heads": 4, "hidden_dim": 64}),
    "mpnet": ("mpnet", {}),
    "deberta-v3": (
        "deberta-v2",
        {
            "relative_attention": True,
            "pos_att_type": ["p2c", "c2p"],
            "position_buckets": 16,
            "max_relative_positions": 32,
            "share_att_key": True,
        },
    ),
    "deberta-v2": (
        "deberta-v2",
        {"relative_attention": True, "pos_att_type": ["p2c", "c2p"], "share_att_key": False},
    ),
    "modernbert": (
        "modernbert",
        {
            "global_attn_every_n_layers": 2,
            "local_attention": 8,  # windows shorter than the test texts: local attention matters
            "bos_token_id": 2,
            "cls_token_id": 2,
            "eos_token_id": 3,
            "sep_token_id": 3,
        },
    ),
    "albert": ("albert", {"embedding_size": 16}),
}
RESIZABLE = [name for name in FAMILIES if name != "albert"]  # ALBERT shares its layers
NO_TOKEN_TYPES = ("distilbert", "mpnet", "modernbert")


def tiny_config(name: str, layers: int = 4):
    model_type, extra = FAMILIES[name]
    fields = {**SIZES, **extra}
    if model_type == "distilbert":
        fields = {k: v for k, v in fields.items() if k not in ("hidden_size", "intermediate_size")}
        fields.pop("num_hidden_layers")
        fields.pop("num_attention_heads")
        fields["n_layers"] = layers
    else:
        fields["num_hidden_layers"] = layers
    return AutoConfig.for_model(model_type, **fields)


def tiny_family_model(name: str, layers: int = 4, seed: int = 0):
    torch.manual_seed(seed)
    return AutoModelForSequenceClassification.from_config(tiny_config(name, layers)).eval()


def family_tokenizer(tmp_path, name: str) -> BertTokenizer:
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    inputs = ["input_ids", "attention_mask"]
    if name not in NO_TOKEN_TYPES:
        inputs.insert(1, "token_type_ids")
    return BertTokenizer(vocab_file=str(vocab), model_input_names=inputs)


def padded_batch(name: str, rows: int = 5, length: int = 20, seed: int = 1) -> dict:
    """Random ids, every row but the first padded (some to a few tokens)."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, VOCAB, (rows, length), generator=g)
    mask = torch.ones_like(ids)
    for i in range(1, rows):
        mask[i, max(2, length - 4 * i) :] = 0
    ids[mask == 0] = 0
    batch = {"input_ids": ids, "attention_mask": mask}
    if name not in NO_TOKEN_TYPES:
        batch["token_type_ids"] = torch.zeros_like(ids)
    return batch


def logits_of(model, batch: dict) -> torch.Tensor:
    with torch.no_grad():
        return model(**batch).logits.float()

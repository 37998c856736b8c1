"""A full-size encoder with random weights, from a family's published config: for speed figures
only, where no real checkpoint of that family is at hand (issue 14's benchmark had none offline).

Its accuracy after adaptation means nothing (a random encoder predicts one class), so never
quote it; latency, throughput and size are those of the real architecture. The tokenizer is the
built-in MiniLM's (BERT WordPiece, 30,522 tokens), which fits the vocabularies below.

    python -m scripts.random_weights_model mpnet-base /tmp/mpnet-base-random
    python -m lib run --model /tmp/mpnet-base-random --dataset rotten-tomatoes ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Published configs (config.json on the Hugging Face Hub), the architecture fields only.
CONFIGS = {
    # sentence-transformers/all-mpnet-base-v2
    "mpnet-base": dict(
        model_type="mpnet",
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        vocab_size=30527,
        max_position_embeddings=514,
        relative_attention_num_buckets=32,
        layer_norm_eps=1e-5,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    ),
    # distilbert-base-uncased
    "distilbert-base": dict(
        model_type="distilbert", dim=768, n_layers=6, n_heads=12, hidden_dim=3072, vocab_size=30522
    ),
    # microsoft/deberta-v3-base (its real vocabulary is 128k SentencePiece; 30,522 here)
    "deberta-v3-base": dict(
        model_type="deberta-v2",
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        vocab_size=30522,
        relative_attention=True,
        position_buckets=256,
        pos_att_type=["p2c", "c2p"],
        max_relative_positions=-1,
        position_biased_input=False,
        norm_rel_ebd="layer_norm",
        share_att_key=True,
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("family", choices=sorted(CONFIGS))
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    from lib.paths import asset_path

    fields = dict(CONFIGS[args.family])
    config = AutoConfig.for_model(fields.pop("model_type"), **fields)
    torch.manual_seed(args.seed)
    model = AutoModel.from_config(config)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    AutoTokenizer.from_pretrained(asset_path("minilm-l6")).save_pretrained(args.out)
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.family}: {params / 1e6:.1f}M parameters, random weights, in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

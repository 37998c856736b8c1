"""Which tokenizer serves: the fast Rust one as loaded, or its slow Python twin, and how far it
truncates.

Transformers 5 loads the Rust tokenizer whatever ``use_fast`` says, and keeps a Python
implementation only for WordPiece (``BertTokenizerLegacy``). The slow tokenizer is built from the
fast one's vocabulary and normalizer, and checked to give the same ids on the texts to be
served, so that a "slow" result measures the tokenizer and nothing else.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from lib.errors import UserError

# Tokenizers without a configured limit report a sentinel of about 1e30.
_NO_LIMIT = 1_000_000
DEFAULT_MAX_LENGTH = 512
_CHECKED_TEXTS = 64


def max_length_for(tokenizer, requested: int | None) -> int:
    """The truncation length: the user's, capped at the model's maximum when that is known."""
    reported = getattr(tokenizer, "model_max_length", None)
    model_max = reported if reported is not None and 0 < reported < _NO_LIMIT else None
    if requested is None:
        return int(model_max) if model_max is not None else DEFAULT_MAX_LENGTH
    if model_max is not None and requested > model_max:
        raise UserError(
            f"max_length {requested} is beyond this model's maximum of {int(model_max)} tokens."
        )
    return requested


def serving_tokenizer(tokenizer, kind: str, texts: Sequence[str]):
    """The tokenizer to serve with: ``tokenizer`` itself for "fast", its Python twin for "slow"."""
    if kind == "fast" or not getattr(tokenizer, "is_fast", False):
        return tokenizer
    if kind != "slow":
        raise UserError(f"tokenizer must be 'fast' or 'slow', not {kind!r}.")
    slow = _python_wordpiece(tokenizer)
    sample = list(texts[:_CHECKED_TEXTS])
    if tokenizer(sample)["input_ids"] != slow(sample)["input_ids"]:
        raise UserError(
            "The slow Python tokenizer does not give the same token ids as this model's fast one, "
            "so it cannot stand in for it: use tokenizer='fast'."
        )
    return slow


def _python_wordpiece(fast):
    config = json.loads(fast.backend_tokenizer.to_str())
    model = config.get("model") or {}
    normalizer = config.get("normalizer") or {}
    if model.get("type") != "WordPiece" or normalizer.get("type") != "BertNormalizer":
        raise UserError(
            "A slow Python tokenizer exists in transformers 5 only for WordPiece (BERT-family) "
            f"models; this one is {model.get('type', 'unknown')}: use tokenizer='fast'."
        )
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    vocab = sorted(fast.get_vocab().items(), key=lambda item: item[1])
    # The legacy class reads its vocabulary from a file only; it loads it whole in __init__,
    # so the file need not outlive the constructor.
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "vocab.txt"
        path.write_text("".join(f"{token}\n" for token, _ in vocab), encoding="utf-8")
        return BertTokenizerLegacy(
            vocab_file=str(path),
            do_lower_case=bool(normalizer.get("lowercase", True)),
            tokenize_chinese_chars=bool(normalizer.get("handle_chinese_chars", True)),
            strip_accents=normalizer.get("strip_accents"),
            unk_token=fast.unk_token,
            sep_token=fast.sep_token,
            pad_token=fast.pad_token,
            cls_token=fast.cls_token,
            mask_token=fast.mask_token,
            model_max_length=fast.model_max_length,
        )

"""Tiny BERT models, a toy vocabulary and data for the technique tests (no downloads)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

from lib.datasets import LabelledText
from lib.techniques import BuildContext

WORDS = ["good", "bad", "film", "movie", "great", "awful", "plot", "actor", "fine", "dull"]


@pytest.fixture(autouse=True)
def one_thread():
    # Tiny models gain nothing from threads, and on a busy 2-core machine two OpenMP threads
    # fighting other processes made these tests 20x slower.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_model(layers: int = 4, seed: int = 0) -> BertForSequenceClassification:
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=4,
        intermediate_size=64,
        num_labels=2,
    )
    return BertForSequenceClassification(config).eval()


def tiny_tokenizer(tmp_path) -> BertTokenizer:
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    return BertTokenizer(vocab_file=str(vocab))


def tiny_data(n: int = 64, seed: int = 0) -> LabelledText:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        words = list(rng.choice(WORDS[2:], size=5))
        label = int(rng.integers(2))
        words.insert(int(rng.integers(5)), "good" if label else "bad")
        texts.append(" ".join(words))
        labels.append(label)
    return LabelledText(texts, np.array(labels), ["neg", "pos"])


def make_ctx(tmp_path, cache: bool = False) -> BuildContext:
    return BuildContext(
        base_path=str(tmp_path),
        tokenizer=tiny_tokenizer(tmp_path),
        train=tiny_data(),
        cache_dir=tmp_path / "cache" if cache else None,
    )


def logits(model, tok, texts=("good film plot", "bad movie actor dull")) -> torch.Tensor:
    batch = tok(list(texts), padding=True, return_tensors="pt")
    with torch.no_grad():
        return model(**dict(batch)).logits


def tiny_classifier() -> BertForSequenceClassification:
    """A 2-layer classifier with random weights, the same every time."""
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
    )
    return BertForSequenceClassification(config).eval()


def bare_ctx(**kw) -> BuildContext:
    """A build context for steps that need no data or tokenizer."""
    return BuildContext(base_path="", tokenizer=None, train=None, **kw)

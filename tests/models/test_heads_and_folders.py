"""A model whose head already fits is used as it is, one whose labels match by name is reordered
without training, others are adapted; sentence-transformers folders load as encoders."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import torch
from transformers import BertConfig, BertForSequenceClassification, MPNetConfig, MPNetModel

from lib.datasets import LabelledText
from lib.models import load as models
from lib.spec import AdaptSpec, DatasetSpec, ModelSpec
from lib.training import adapt
from tests.helpers.tiny import logits, one_thread, tiny_tokenizer  # noqa: F401 (autouse fixture)


def _config(id2label: dict, arch: str = "BertForSequenceClassification"):
    return SimpleNamespace(architectures=[arch], id2label=id2label)


def test_head_fit_kinds():
    fits = models.head_fit(_config({0: "NEG", 1: "POS"}), ["neg", "pos"])
    assert fits.kind == "fits" and "already classifies into your labels" in fits.sentence
    swapped = models.head_fit(_config({0: "POSITIVE", 1: "NEGATIVE"}), ["neg", "pos"])
    assert swapped.kind == "by-name" and swapped.order == [1, 0]
    assert "NEGATIVE = neg, POSITIVE = pos" in swapped.sentence
    generic = models.head_fit(_config({0: "LABEL_0", 1: "LABEL_1"}), ["fresh", "rotten"])
    assert generic.kind == "adapt" and "LABEL_0, LABEL_1, not your labels" in generic.sentence
    bare = models.head_fit(_config({0: "neg", 1: "pos"}, arch="BertModel"), ["neg", "pos"])
    assert bare.kind == "adapt" and bare.sentence.startswith("no classification head")
    # Names must pair one to one: "neg" cannot stand for both
    assert models.label_order(["negative", "neg"], ["neg", "pos"]) is None
    assert models.label_order(["a", "b", "c"], ["a", "b"]) is None


def test_a_head_with_the_labels_in_another_order_is_reordered_not_trained(tmp_path):
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        id2label={0: "POSITIVE", 1: "NEGATIVE"},
        label2id={"POSITIVE": 0, "NEGATIVE": 1},
    )
    model = BertForSequenceClassification(config).eval()
    tok = tiny_tokenizer(tmp_path)
    model.save_pretrained(tmp_path / "sentiment")
    tok.save_pretrained(tmp_path / "sentiment")
    data = LabelledText(["good film", "bad plot"], np.array([1, 0]), ["neg", "pos"])
    baseline = adapt.prepare_baseline(
        ModelSpec(str(tmp_path / "sentiment")), DatasetSpec("rotten-tomatoes"), data, AdaptSpec()
    )
    assert not baseline.adapted and baseline.train_steps == 0
    assert "NEGATIVE = neg" in baseline.head
    relabelled = models.load_classifier(baseline.path)
    assert relabelled.config.id2label == {0: "neg", 1: "pos"}
    torch.testing.assert_close(logits(relabelled, tok), logits(model, tok)[:, [1, 0]])
    again = adapt.prepare_baseline(
        ModelSpec(str(tmp_path / "sentiment")), DatasetSpec("rotten-tomatoes"), data, AdaptSpec()
    )
    assert again.cached and again.path == baseline.path


def _tiny_mpnet(folder) -> None:
    torch.manual_seed(0)
    config = MPNetConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    MPNetModel(config).save_pretrained(folder)


def _modules(root, transformer_path: str) -> None:
    modules = [
        {
            "idx": 0,
            "name": "0",
            "path": transformer_path,
            "type": "sentence_transformers.models.Transformer",
        },
        {
            "idx": 1,
            "name": "1",
            "path": "1_Pooling",
            "type": "sentence_transformers.models.Pooling",
        },
    ]
    (root / "modules.json").write_text(json.dumps(modules))
    (root / "1_Pooling").mkdir()
    (root / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')


def test_sentence_transformers_folders_load_as_encoders(tmp_path):
    recent = tmp_path / "recent"  # the encoder at the top, beside modules.json
    _tiny_mpnet(recent)
    _modules(recent, "")
    older = tmp_path / "older"  # the encoder in 0_Transformer/
    older.mkdir()
    _tiny_mpnet(older / "0_Transformer")
    _modules(older, "0_Transformer")
    for root, location in ((recent, recent), (older, older / "0_Transformer")):
        resolved = models.resolve(ModelSpec(str(root)))
        assert resolved.location == str(location.resolve())
        config = models.load_config(resolved)
        assert models.head_fit(config, ["neg", "pos"]).kind == "adapt"
        model = models.load_classifier(
            resolved.location,
            num_labels=2,
            id2label={0: "neg", 1: "pos"},
            label2id={"neg": 0, "pos": 1},
            ignore_mismatched_sizes=True,
        )
        assert type(model).__name__ == "MPNetForSequenceClassification"
        ids = torch.tensor([[0, 5, 6, 2]])
        assert model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits.shape == (1, 2)

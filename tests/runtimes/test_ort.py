"""The ONNX Runtime runtime on a tiny BERT: export round trip, int8, chain syntax, failures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lib.datasets import LabelledText
from lib.errors import UserError
from lib.runtimes import registry as runtimes
from lib.runtimes.configs import Int8Request
from lib.runtimes.ort import export_onnx, make_session, validation_batch
from lib.techniques import BuildContext, apply_chain, parse_variant
from tests.helpers.tiny import tiny_classifier

pytest.importorskip("onnxruntime")


class WordTokenizer:
    """Enough of a Hugging Face tokenizer for these tests: one id per word, [CLS] ... [SEP]."""

    pad_token_id = 0

    def __call__(self, texts, padding=True, truncation=True, max_length=16, return_tensors="pt"):
        rows = [[1] + [3 + hash(w) % 90 for w in t.split()][: max_length - 2] + [2] for t in texts]
        width = max_length if padding == "max_length" else max(len(r) for r in rows)
        ids = torch.zeros(len(rows), width, dtype=torch.long)
        mask = torch.zeros(len(rows), width, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        return {"input_ids": ids, "token_type_ids": torch.zeros_like(ids), "attention_mask": mask}


TEXTS = [
    "good",
    "a fine film",
    "not what i hoped for at all",
    "the best thing i have seen this year by far and away",
    "dull",
    "long and slow and then it just stops",
]


def ctx(**kw):
    train = LabelledText(TEXTS, np.zeros(len(TEXTS), dtype=np.int64), ["neg", "pos"])
    return BuildContext(base_path="", tokenizer=WordTokenizer(), train=train, **kw)


def shapes(batch_sizes=(1, 4), seq_len=16):
    tok = WordTokenizer()
    return [
        tok([TEXTS[i % len(TEXTS)] for i in range(b)], padding="max_length", max_length=seq_len)
        for b in batch_sizes
    ]


def padded_batch():
    return WordTokenizer()(TEXTS, padding=True, max_length=16)


def test_ort_is_registered_with_a_plain_summary():
    assert "ort" in runtimes.runtimes()
    assert len(runtimes.runtimes()["ort"].summary) > 40


def test_chain_syntax_with_a_runtime():
    v = parse_variant("int8@ort")
    assert v.runtime == "ort" and [str(s) for s in v.steps] == ["int8"]
    v = parse_variant("fp32+int8:per-tensor@ort")
    assert v.runtime == "ort" and [str(s) for s in v.steps] == ["fp32", "int8:per-tensor"]
    assert parse_variant("fp32").runtime == "eager"


def test_validation_batch_has_padded_rows_of_real_texts():
    batch = validation_batch(ctx(), shapes()[0])
    mask = batch["attention_mask"]
    assert mask.shape[0] == len(TEXTS)
    assert (mask.sum(1) < mask.shape[1]).any(), "some rows must be padded"


def test_export_round_trip_matches_pytorch_including_padding(tmp_path):
    model = tiny_classifier()
    before = model.config._attn_implementation
    batch = padded_batch()
    names = export_onnx(model, batch, tmp_path / "m.onnx")
    assert names == ("input_ids", "attention_mask", "token_type_ids")
    session = make_session(tmp_path / "m.onnx", threads=1)
    # Dynamic axes: a different batch size and length than the export's example.
    for b in (batch, shapes((3,), 20)[0]):
        got = session.run(["logits"], {k: b[k].numpy() for k in names})[0]
        with torch.no_grad():
            ref = model(**b).logits.numpy()
        np.testing.assert_allclose(got, ref, atol=1e-4)
    # The model's own attention implementation is restored after the export.
    assert model.config._attn_implementation == before


def test_fp32_predictor_reports_the_check_and_threads():
    model = tiny_classifier()
    c = ctx()
    with torch.no_grad():
        ref = model(**padded_batch()).logits
    predictor = runtimes.runtimes()["ort"].prepare(model, c, shapes())
    assert predictor.runtime == "ort"
    assert predictor.notes["ort_max_logit_diff"] < 1e-4
    assert predictor.notes["ort_threads"] == torch.get_num_threads()
    assert predictor.notes["export_seconds"] > 0
    torch.testing.assert_close(predictor(padded_batch()), ref, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("per_channel", [True, False])
def test_int8_per_channel_and_per_tensor_both_run(per_channel):
    model = tiny_classifier()
    c = ctx()
    c.precision = "int8"
    c.pending_int8 = Int8Request(per_channel=per_channel)
    predictor = runtimes.runtimes()["ort"].prepare(model, c, shapes())
    kind = "per-channel" if per_channel else "per-tensor"
    assert predictor.notes["int8_backend"] == f"onnxruntime dynamic, {kind}"
    assert predictor.notes["onnx_file"] == "model.int8.onnx"
    assert 0 <= predictor.notes["ort_int8_max_logit_diff"] < 0.5
    out = predictor(padded_batch())
    assert out.shape == (len(TEXTS), 2) and out.dtype == torch.float32


@pytest.mark.parametrize(
    "text, kind",
    [
        ("int8@ort", "per-channel"),
        ("int8:per-channel@ort", "per-channel"),
        ("fp32+int8:per-tensor@ort", "per-tensor"),
    ],
)
def test_int8_at_ort_through_the_chain(text, kind):
    """The int8 step defers to ORT when the runtime is ort (see quantize.py)."""
    variant = parse_variant(text)
    c = ctx()  # apply_chain tells the steps the variant's runtime (ctx.runtime)
    model = apply_chain(tiny_classifier(), variant, c)
    assert c.precision == "int8"
    assert c.pending_int8 == Int8Request(per_channel=kind == "per-channel")
    predictor = runtimes.runtimes()[variant.runtime].prepare(model, c, shapes())
    assert predictor.notes["int8_backend"] == f"onnxruntime dynamic, {kind}"
    assert predictor(shapes()[1]).shape == (4, 2)


def test_torchao_int8_at_ort_is_refused_clearly():
    variant = parse_variant("int8:torchao@ort")
    c = ctx()
    with pytest.raises(UserError, match="cannot be served with '@ort'"):
        apply_chain(tiny_classifier(), variant, c)


def test_torch_quantized_model_is_refused_clearly():
    model = torch.ao.quantization.quantize_dynamic(
        tiny_classifier(), {torch.nn.Linear}, dtype=torch.qint8
    )
    c = ctx(precision="int8")
    with pytest.raises(UserError, match="quantized by PyTorch"):
        runtimes.runtimes()["ort"].prepare(model, c, shapes())


def test_half_at_ort_is_refused_clearly():
    c = ctx(precision="bf16")
    with pytest.raises(UserError, match="half@ort"):
        runtimes.runtimes()["ort"].prepare(tiny_classifier().bfloat16(), c, shapes())


class Unexportable(torch.nn.Module):
    """Uses an operator ONNX has no export for."""

    def __init__(self):
        super().__init__()
        self.inner = tiny_classifier()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        out = self.inner(input_ids=input_ids, attention_mask=attention_mask)
        out.logits = out.logits + torch.linalg.svdvals(out.logits).sum()  # no ONNX export
        return out

    @property
    def config(self):
        return self.inner.config


def test_export_failure_is_a_user_error_naming_the_step():
    variant = parse_variant("fp32@ort")
    c = ctx()
    with pytest.raises(UserError, match="could not export Unexportable to ONNX"):
        runtimes.runtimes()[variant.runtime].prepare(Unexportable(), c, shapes())


def test_wrong_export_is_caught_before_benchmarking(monkeypatch):
    import lib.runtimes.ort as ro

    real = ro._runner

    def off_by_two(session, names):
        run = real(session, names)
        return lambda batch: run(batch) + 2.0

    monkeypatch.setattr(ro, "_runner", off_by_two)
    with pytest.raises(UserError, match="disagrees with PyTorch"):
        runtimes.runtimes()["ort"].prepare(tiny_classifier(), ctx(), shapes())

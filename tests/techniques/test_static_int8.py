"""Static int8 (``int8:static``) and the faithful default ``int8``: the grammar, the calibration
texts (train split only, recorded), the sensitive-layer options, ONNX Runtime's QDQ path, and a
calibrated variant measured end to end by the runner like any other."""

from __future__ import annotations

import copy
import hashlib

import numpy as np
import pytest
import torch

from lib import datasets
from lib.errors import UserError
from lib.runtimes import registry as runtimes
from lib.runtimes.configs import kept_nodes, layer_index
from lib.techniques import BuildContext, apply_chain, parse_variant
from lib.techniques.configs import CALIBRATION_SAMPLES, int8_settings
from tests.helpers.tiny import one_thread, tiny_data  # noqa: F401 (one_thread: autouse fixture)
from tests.models.families.tiny_families import (
    family_tokenizer,
    logits_of,
    padded_batch,
    tiny_family_model,
)

pytest.importorskip("onnxruntime")


# ------------------------------------------------------------------ the grammar
def test_int8_settings_parse_backends_sizes_and_options():
    plain = int8_settings(None)
    assert plain.backend is None and not plain.static and plain.keep == ()
    s = int8_settings("static:500/keep-ends")
    assert s.static and s.samples == 500 and s.keep == ("first", "last")
    assert int8_settings("static/samples=64/keep-head").samples == 64
    assert int8_settings("static").samples == CALIBRATION_SAMPLES
    assert int8_settings("static/keep-sensitive").keep == ("embeddings", "head", "first", "last")
    assert int8_settings("per-channel/full-range").full_range
    assert int8_settings("/keep-first").keep == ("first",)


@pytest.mark.parametrize(
    "text, message",
    [
        ("int8:static", "use int8:static@ort or int8:static@openvino"),
        ("int8:static:3@ort", "out of range"),
        ("int8:static:300/samples=20@ort", "once"),
        ("int8:per-tensor/samples=20", "calibration size"),
        ("int8:static/full-range@ort", "already uses 8-bit"),
        ("int8:per-tensor@openvino", "NNCF's calibrated int8"),
        ("int8/keep-ends@ort", "need static int8"),
        ("int8:static/keep-everything@ort", "unknown option"),
    ],
)
def test_bad_int8_variants_are_refused_when_parsed(text, message):
    with pytest.raises(UserError, match=message):
        parse_variant(text)


def test_options_without_a_parameter_and_chains_parse():
    v = parse_variant("int8/keep-ends")
    assert v.steps[0].param == "/keep-ends" and str(v.steps[0]) == "int8/keep-ends"
    v = parse_variant("distill:3+prune-structured:40+int8:static:200/keep-head@openvino")
    assert v.runtime == "openvino"
    assert [str(s) for s in v.steps][-1] == "int8:static:200/keep-head"


def test_kept_nodes_find_the_sensitive_parts_by_name():
    names = [
        "/model/bert/embeddings/word_embeddings/Gather",
        "/model/bert/encoder/layer.0/attention/self/query/MatMul",
        "/model/bert/encoder/layer.1/output/dense/MatMul",
        "/model/bert/encoder/layer.11/intermediate/dense/MatMul",
        "/model/bert/pooler/dense/Gemm",
        "/model/classifier/MatMul",
        "model.layers.2.mlp.Wi",  # ModernBERT, torch module names
    ]
    assert layer_index(names[3]) == 11 and layer_index(names[0]) is None
    assert kept_nodes(names, ("first",)) == [names[1]]
    assert kept_nodes(names, ("last",)) == [names[3]]
    assert kept_nodes(names, ("head",)) == [names[4], names[5]]
    assert kept_nodes(names, ("embeddings",)) == [names[0]]
    assert kept_nodes(["distilbert.transformer.layer.0.ffn.lin1", "pre_classifier"], ("head",)) == [
        "pre_classifier"
    ]
    # The feed-forward down-projections, not the attention's output projection.
    ffn = [
        "/model/bert/encoder/layer.1/attention/output/dense/MatMul",
        "/model/bert/encoder/layer.1/output/dense/MatMul",
        "distilbert.transformer.layer.0.ffn.lin2",
        "model.layers.3.mlp.Wo",
        "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn_output",
    ]
    assert kept_nodes(ffn, ("ffn-out",)) == ffn[1:]
    assert int8_settings("static/keep-ffn-out").keep == ("ffn-out",)


# ------------------------------------------------------------------ calibration texts
def _ctx(tmp_path, name="bert", n=64, seed=0) -> BuildContext:
    return BuildContext(
        base_path="", tokenizer=family_tokenizer(tmp_path, name), train=tiny_data(n), seed=seed
    )


def test_calibration_indices_come_from_the_train_split_only(tmp_path):
    ctx = _ctx(tmp_path, n=64)
    picked = ctx.calibration_indices(16)
    assert len(picked) == 16 and list(picked) == sorted(set(picked))
    assert all(0 <= i < 64 for i in picked)
    assert ctx.calibration_indices(16) == picked  # same seed, same texts
    assert _ctx(tmp_path, seed=1).calibration_indices(16) != picked
    assert ctx.calibration_indices(1000) == tuple(range(64))  # capped at the split
    record = ctx.calibration_record(picked)
    assert record["split"] == "train" and record["indices"] == list(picked)
    with pytest.raises(ValueError, match="train split"):
        BuildContext(base_path="", tokenizer=None, train=None).calibration_indices(8)


# ------------------------------------------------------------------ ONNX Runtime, QDQ
def test_static_int8_with_ort_calibrates_on_train_texts_and_stays_close(tmp_path):
    model = tiny_family_model("bert")
    results = {}
    for variant in ("int8:static:24@ort", "int8:static:24/keep-ends@ort"):
        ctx = _ctx(tmp_path)
        built = apply_chain(copy.deepcopy(model), parse_variant(variant), ctx)
        assert ctx.precision == "int8" and ctx.pending_static_int8 is not None
        assert ctx.pending_int8 is None  # not the dynamic path
        shapes = [padded_batch("bert", rows=4, length=12, seed=3)]
        predictor = runtimes.runtimes()["ort"].prepare(built, ctx, shapes)
        notes = {**ctx.notes, **predictor.notes}
        calib = notes["calibration"]
        assert calib["split"] == "train" and calib["n"] == 24 and calib["train_size"] == 64
        texts = [ctx.train.texts[i] for i in calib["indices"]]
        digest = hashlib.sha256(b"".join(t.encode() + b"\n" for t in texts)).hexdigest()[:16]
        assert calib["texts_sha256"] == digest
        assert notes["int8_backend"].startswith("onnxruntime static QDQ, calibrated on 24")
        assert notes["calibration_seconds"] > 0 and notes["ort_max_logit_diff"] < 1e-4
        batch = padded_batch("bert")
        torch.testing.assert_close(predictor(batch), logits_of(model, batch), atol=0.05, rtol=0)
        results[variant] = notes
    full, kept = results.values()
    assert full["int8_nodes"] == 24 and full["int8_kept_float"] == []  # 4 layers x 6 Linear
    assert kept["int8_nodes"] == 12 and len(kept["int8_kept_float"]) == 12  # layers 0 and 3


def test_plain_int8_defers_to_the_runtime_and_torch_default_is_8bit_per_channel(tmp_path):
    model = tiny_family_model("bert")
    ctx = _ctx(tmp_path)
    built = apply_chain(copy.deepcopy(model), parse_variant("int8"), ctx)
    assert ctx.notes["int8_backend"] == "torch.ao dynamic, per-channel, 8-bit activations"
    layer = built.bert.encoder.layer[0].attention.self.query
    assert layer.forward.__func__.__name__ == "_forward_8bit"
    ctx = _ctx(tmp_path)
    apply_chain(copy.deepcopy(model), parse_variant("int8:per-tensor"), ctx)
    assert ctx.notes["int8_backend"] == "torch.ao dynamic, per-tensor, 7-bit activations"
    ctx = _ctx(tmp_path)
    built = apply_chain(copy.deepcopy(model), parse_variant("int8/keep-ends"), ctx)
    assert isinstance(built.bert.encoder.layer[0].output.dense, torch.nn.Linear)
    assert not isinstance(built.bert.encoder.layer[1].output.dense, torch.nn.Linear)
    assert len(ctx.notes["int8_kept_float"]) == 12
    ctx = _ctx(tmp_path)
    apply_chain(copy.deepcopy(model), parse_variant("int8@openvino"), ctx)
    assert ctx.pending_static_int8 is not None and ctx.pending_static_int8.samples == 64


# ------------------------------------------------------------------ end to end, like any variant
def test_a_calibrated_variant_is_measured_by_the_runner(tiny_model_dir, small_csv, tmp_path):
    from lib.execution import runner
    from lib.spec import AdaptSpec, DatasetSpec, MeasureSpec, ModelSpec, RunSpec
    from lib.store import Store

    dataset = DatasetSpec(
        str(small_csv),
        text_column="review",
        label_column="sentiment",
        train_limit=80,
        eval_limit=24,
    )
    spec = RunSpec(
        model=ModelSpec(str(tiny_model_dir)),
        dataset=dataset,
        variants=["int8:static:16@openvino"],
        adapt=AdaptSpec(epochs=5, max_length=16, batch_size=8, learning_rate=3e-3),
        measure=MeasureSpec(
            batch_sizes=[1, 4],
            seq_len=16,
            warmup=1,
            min_repeats=3,
            min_seconds=0.0,
            paired_rounds=0,
        ),
    )
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    doc = store.run_document(runner.execute(spec, store))
    fp32, static = doc["results"]
    assert static["status"] == "ok", static.get("error")
    # Its accuracy is measured like any other variant's, against the same eval texts.
    assert static["n_eval"] == fp32["n_eval"] == 24 and 0 <= static["accuracy"] <= 1
    assert "p_value_vs_baseline" in static and static["agreement"] is not None
    assert static["precision"] == "int8" and static["runtime"] == "openvino"
    notes = static["notes"]
    assert notes["openvino_inference_precision"] == "f32"
    assert set(notes["openvino_matmul_precisions"]) & {"i8", "u8"}
    assert static["calibration_seconds"] == notes["calibration_seconds"] > 0
    # The calibration texts are positions in the run's train split, and are its texts.
    train, evals = datasets.split(datasets.load(dataset), 80, 24, 0)
    calib = notes["calibration"]
    assert calib["split"] == "train" and calib["train_size"] == len(train) and calib["n"] == 16
    assert all(0 <= i < len(train) for i in calib["indices"])
    texts = [train.texts[i] for i in calib["indices"]]
    digest = hashlib.sha256(b"".join(t.encode() + b"\n" for t in texts)).hexdigest()[:16]
    assert calib["texts_sha256"] == digest
    # Every CPU result carries its roofline.
    for r in (fp32, static):
        assert set(r["roofline"]["achieved_gflops"]) == {"1", "4"}
        assert 0 < r["roofline"]["share"]["4"] < 1
    assert static["roofline"]["precision"] == "int8" and fp32["roofline"]["precision"] == "fp32"
    assert np.isfinite(static["latency_ms"]["4"]["p50"])

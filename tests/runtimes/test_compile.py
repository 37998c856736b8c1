"""The compiled-PyTorch runtime on a tiny BERT: same logits as eager, no compile after prepare."""

from __future__ import annotations

import pytest
import torch

from lib.errors import UserError
from lib.runtimes import registry as runtimes
from lib.runtimes.compile import CompiledPredictor, pad_to
from lib.techniques import parse_variant
from tests.helpers.tiny import bare_ctx as ctx
from tests.helpers.tiny import tiny_classifier


def batch(rows, length, real=None):
    """``rows`` x ``length`` ids; row i has ``real[i]`` real tokens, the rest padding."""
    g = torch.Generator().manual_seed(rows * 1000 + length)
    ids = torch.randint(3, 100, (rows, length), generator=g)
    mask = torch.ones(rows, length, dtype=torch.long)
    for i, n in enumerate(real or []):
        ids[i, n:] = 0
        mask[i, n:] = 0
    return {"input_ids": ids, "token_type_ids": torch.zeros_like(ids), "attention_mask": mask}


def test_compile_is_registered_and_parses():
    assert "compile" in runtimes.runtimes()
    v = parse_variant("half@compile")
    assert v.runtime == "compile" and [s.name for s in v.steps] == ["half"]


def test_pad_to_masks_new_positions_and_rows():
    b = batch(2, 5)
    p = pad_to(b, 4, 8)
    assert p["input_ids"].shape == (4, 8)
    assert p["attention_mask"][:2, 5:].sum() == 0 and p["attention_mask"][:2, :5].all()
    assert p["attention_mask"][2:].sum(1).tolist() == [1, 1]  # blank rows see one token


def test_fit_picks_the_smallest_compiled_shape():
    cp = CompiledPredictor(None, [(1, 16), (4, 16), (8, 32)], "cpu")
    assert cp.fit(1, 10) == (1, 16)
    assert cp.fit(3, 16) == (4, 16)
    assert cp.fit(3, 20) == (8, 32)
    assert cp.fit(9, 16) is None


def test_compiled_predictor_matches_eager_without_recompiling():
    model = tiny_classifier()
    shapes = [batch(4, 16)]  # one shape: each compile takes seconds
    predictor = runtimes.runtimes()["compile"].prepare(model, ctx(), shapes)
    assert predictor.runtime == "compile"
    assert predictor.notes["compile_seconds"] > 0
    assert predictor.notes["compiled_shapes"] == ["4x16"]
    counters = torch._dynamo.utils.counters
    frames_before = counters["stats"]["unique_graphs"]
    # Measured shapes, a dynamic-padding eval batch (padded up), and one too big (split).
    for b in (shapes[0], batch(3, 11, real=[11, 7, 2]), batch(6, 9, real=[9, 9, 4, 3, 2, 1])):
        with torch.no_grad():
            ref = model(**b).logits
        torch.testing.assert_close(predictor(b), ref, atol=1e-4, rtol=1e-4)
    assert counters["stats"]["unique_graphs"] == frames_before, "no compile after prepare"


def test_torch_int8_with_compile_is_refused_clearly():
    model = torch.ao.quantization.quantize_dynamic(
        tiny_classifier(), {torch.nn.Linear}, dtype=torch.qint8
    )
    with pytest.raises(UserError, match="int8@ort"):
        runtimes.runtimes()["compile"].prepare(model, ctx(precision="int8"), [batch(1, 8)])


def test_too_long_batch_is_a_clear_error():
    cp = CompiledPredictor(lambda **kw: None, [(1, 8)], "cpu")
    with pytest.raises(UserError, match="longer than every compiled shape"):
        cp(batch(1, 12))

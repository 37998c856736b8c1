import pytest
import torch

from lib.errors import UserError
from lib.measure.latency import count_params, serialized_size_mb
from lib.techniques import apply_chain, parse_variant, techniques
from tests.helpers.tiny import bare_ctx as ctx
from tests.helpers.tiny import tiny_classifier


def test_registry_has_the_spine_techniques_with_plain_language():
    found = techniques()
    for name in ("fp32", "half", "int8"):
        assert name in found
        assert len(found[name].summary) > 40


def test_chain_syntax():
    v = parse_variant("int8:per-channel")
    assert [str(s) for s in v.steps] == ["int8:per-channel"] and v.runtime == "eager"
    v = parse_variant("fp32+int8@eager")
    assert [s.name for s in v.steps] == ["fp32", "int8"] and v.runtime == "eager"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("turbo", "Unknown step 'turbo'"),
        ("fp32++int8", "Empty step"),
        ("int8:int4", "Step 'int8:int4'"),
        ("int8@warp", "Unknown runtime '@warp'"),
    ],
)
def test_bad_chains_name_the_step(text, fragment):
    with pytest.raises(UserError, match=fragment):
        parse_variant(text)


def inputs():
    return {
        "input_ids": torch.randint(0, 100, (3, 12)),
        "attention_mask": torch.ones(3, 12, dtype=torch.long),
    }


def test_half_is_bf16_on_cpu_and_close_to_fp32():
    model = tiny_classifier()
    x = inputs()
    ref = model(**x).logits
    c = ctx()
    half = apply_chain(model, parse_variant("half"), c)
    assert c.precision == "bf16"
    assert next(half.parameters()).dtype == torch.bfloat16
    assert torch.allclose(half(**x).logits.float(), ref, atol=0.1)


@pytest.mark.parametrize("backend", ["int8", "int8:per-channel"])
def test_int8_quantizes_linear_layers_and_shrinks_them(backend):
    model = tiny_classifier()
    x = inputs()
    ref = model(**x).logits
    params, size = count_params(model), serialized_size_mb(model)
    c = ctx()
    q = apply_chain(model, parse_variant(backend), c)
    assert c.precision == "int8"
    assert not any(isinstance(m, torch.nn.Linear) for m in q.bert.encoder.modules())
    assert count_params(q) == params  # packed weights are still counted
    assert serialized_size_mb(q) < size
    assert torch.allclose(q(**x).logits, ref, atol=0.2)


def test_half_then_int8_is_refused_with_the_step_named():
    with pytest.raises(UserError, match="Step 'int8' of 'half\\+int8'.*32-bit"):
        apply_chain(tiny_classifier(), parse_variant("half+int8"), ctx())


def test_torch_int8_refuses_a_gpu():
    with pytest.raises(UserError, match="only on a CPU"):
        apply_chain(tiny_classifier(), parse_variant("int8"), ctx(device="cuda"))

"""Distillation on a tiny model of every family: the student keeps evenly spaced layers copied
from the teacher, trains with a falling loss, and saves and loads back the same."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lib.errors import UserError
from lib.models import checkpoint, families
from lib.techniques import BuildContext, apply_chain, parse_variant
from lib.techniques.distill import make_student
from lib.training.loop import train_distilled
from tests.helpers.tiny import one_thread, tiny_data  # noqa: F401 (one_thread: autouse fixture)
from tests.models.families.tiny_families import (
    RESIZABLE,
    family_tokenizer,
    logits_of,
    padded_batch,
    tiny_family_model,
)


@pytest.mark.parametrize("name", RESIZABLE)
def test_student_keeps_the_chosen_layers_and_learns(tmp_path, name):
    teacher = tiny_family_model(name)
    adapter = families.for_model(teacher)
    student, chosen = make_student(teacher, 2)
    assert chosen == [0, 2]
    assert len(adapter.layers(student)) == 2 and len(adapter.layers(teacher)) == 4
    assert student.config.num_hidden_layers == 2 and teacher.config.num_hidden_layers == 4
    for mine, theirs in zip(adapter.layers(student), chosen, strict=True):
        src = adapter.ffn_output_layer(adapter.layers(teacher)[theirs]).weight
        assert torch.equal(adapter.ffn_output_layer(mine).weight, src)
        assert adapter.ffn_output_layer(mine).weight.data_ptr() != src.data_ptr()  # a copy

    tok, data = family_tokenizer(tmp_path, name), tiny_data(64)
    report = train_distilled(
        student, teacher, tok, data, max_length=16, epochs=4, batch_size=16, learning_rate=2e-3
    )
    assert report.steps == 16
    assert np.mean(report.losses[-4:]) < np.mean(report.losses[:4])

    student.eval()
    batch = padded_batch(name)
    checkpoint.save_pruned(student, tmp_path / "student")
    loaded = checkpoint.load_pruned(tmp_path / "student")
    assert len(adapter.layers(loaded)) == 2
    torch.testing.assert_close(logits_of(loaded, batch), logits_of(student, batch))


def test_modernbert_student_keeps_its_layers_attention_types():
    teacher = tiny_family_model("modernbert")  # global, local, global, local
    student, chosen = make_student(teacher, 2)
    assert chosen == [0, 2]
    assert teacher.config.layer_types == ["full_attention", "sliding_attention"] * 2
    assert student.config.layer_types == ["full_attention", "full_attention"]
    assert [layer.attention_type for layer in student.model.layers] == student.config.layer_types


@pytest.mark.parametrize("name", ["distilbert", "modernbert"])
def test_prune_then_distill_chain(tmp_path, name):
    ctx = BuildContext(
        base_path="", tokenizer=family_tokenizer(tmp_path, name), train=tiny_data(32)
    )
    variant = parse_variant("prune-structured:50/magnitude/norecover+distill:2/examples=16")
    model = apply_chain(tiny_family_model(name), variant, ctx)
    assert ctx.notes["student_layers"] == [0, 2] and ctx.notes["distill_steps"] == 1
    assert model.config.leanbench_pruned == {"heads": [2, 2], "intermediate": [32, 32]}
    batch = padded_batch(name)
    checkpoint.save_pruned(model, tmp_path / "chain")
    loaded = checkpoint.load_pruned(tmp_path / "chain")
    torch.testing.assert_close(logits_of(loaded, batch), logits_of(model, batch))


def test_albert_refuses_with_its_reason(tmp_path):
    ctx = BuildContext(
        base_path="", tokenizer=family_tokenizer(tmp_path, "albert"), train=tiny_data(16)
    )
    for variant in ("distill:2", "prune-structured:30"):
        with pytest.raises(
            UserError, match="does not apply to ALBERT models: its 4 layers are one"
        ):
            apply_chain(tiny_family_model("albert"), parse_variant(variant), ctx)

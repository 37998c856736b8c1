"""Distillation on a tiny BERT: student layout, loss going down, caching, chains, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lib.datasets import LabelledText
from lib.errors import UserError
from lib.techniques import apply_chain, parse_variant
from lib.techniques.distill import kept_layers, make_student
from lib.training.loop import distillation_loss, teacher_logits, train
from tests.helpers.tiny import (  # noqa: F401 (one_thread: autouse fixture)
    logits,
    make_ctx,
    one_thread,
    tiny_data,
    tiny_model,
    tiny_tokenizer,
)


def test_kept_layers_are_evenly_spaced_from_the_bottom():
    assert kept_layers(6, 3) == [0, 2, 4]
    assert kept_layers(12, 6) == [0, 2, 4, 6, 8, 10]
    assert kept_layers(6, 1) == [0]
    assert kept_layers(4, 2) == [0, 2]


def test_student_copies_the_teachers_layers():
    teacher = tiny_model()
    student, chosen = make_student(teacher, 2)
    assert chosen == [0, 2]
    assert student.config.num_hidden_layers == 2 and teacher.config.num_hidden_layers == 4
    assert len(student.bert.encoder.layer) == 2 and len(teacher.bert.encoder.layer) == 4
    for mine, theirs in zip(student.bert.encoder.layer, [0, 2], strict=True):
        src = teacher.bert.encoder.layer[theirs].intermediate.dense.weight
        assert torch.equal(mine.intermediate.dense.weight, src)
        assert mine.intermediate.dense.weight.data_ptr() != src.data_ptr()  # a copy
    assert torch.equal(student.classifier.weight, teacher.classifier.weight)
    assert torch.equal(
        student.bert.embeddings.word_embeddings.weight,
        teacher.bert.embeddings.word_embeddings.weight,
    )


def test_distillation_loss_goes_down(tmp_path):
    tok, data = tiny_tokenizer(tmp_path), tiny_data(128)
    teacher = tiny_model()
    train(teacher, tok, data, epochs=3, batch_size=16, learning_rate=1e-3)  # a teacher that knows
    student, _ = make_student(teacher, 1)
    report = train(
        student,
        tok,
        data,
        epochs=3,
        batch_size=16,
        learning_rate=1e-3,
        loss_fn=distillation_loss(teacher),
    )
    assert np.mean(report.losses[-4:]) < np.mean(report.losses[:4])


def test_precomputed_teacher_answers_give_the_same_loss(tmp_path):
    """The teacher's logits computed once (batched by length) stand in for running it per step,
    padding and all: the loss is the same either way."""
    tok = tiny_tokenizer(tmp_path)
    texts = ["good", "bad movie bad plot bad", "good good", "bad " * 9, "good film", "bad"]
    data = LabelledText(texts, np.array([1, 0, 1, 0, 1, 0]), ["neg", "pos"])
    teacher, student = tiny_model(), tiny_model(seed=1)
    targets = teacher_logits(teacher, tok, data, max_length=16, batch_size=4)
    assert targets.shape == (6, 2)
    idx = np.array([3, 0, 4])  # a training batch mixes lengths, so rows are padded differently
    batch = dict(tok([texts[i] for i in idx], padding=True, return_tensors="pt"))
    labels = torch.as_tensor(data.labels[idx])
    live = distillation_loss(teacher)(student, batch, labels, idx)
    cached = distillation_loss(teacher, targets=targets)(student, batch, labels, idx)
    torch.testing.assert_close(cached, live, rtol=1e-4, atol=1e-5)
    others = targets.clone()
    others[[1, 2, 5]] = 50.0  # rows outside the batch do not matter...
    same = distillation_loss(teacher, targets=others)(student, batch, labels, idx)
    torch.testing.assert_close(same, cached)
    others[idx] = targets[idx].flip(1) * 10  # ...the batch's own rows do
    changed = distillation_loss(teacher, targets=others)(student, batch, labels, idx)
    assert not torch.allclose(changed, cached)


def test_distill_trains_caches_and_reports(tmp_path):
    ctx = make_ctx(tmp_path, cache=True)
    ctx.machine = {"device": "cpu", "cpu_model": "The training box", "threads": 2}
    messages = []
    ctx.progress = lambda f, m: messages.append(m)
    student = apply_chain(tiny_model(), parse_variant("distill:2/examples=64"), ctx)
    assert len(student.bert.encoder.layer) == 2
    assert ctx.notes["student_layers"] == [0, 2] and ctx.notes["distill_steps"] == 4
    assert any("distilling into 2 layers" in m for m in messages)
    assert 0 < ctx.notes["teacher_logits_seconds"] < ctx.notes["distill_seconds"]  # included
    assert ctx.notes["built_on"]["cpu_model"] == "The training box"
    ctx2 = make_ctx(tmp_path, cache=True)
    ctx2.machine = {"device": "cpu", "cpu_model": "Another box", "threads": 2}
    again = apply_chain(tiny_model(), parse_variant("distill:2/examples=64"), ctx2)
    assert ctx2.notes["cached"] is True
    # the cached copy names the machine that trained it, not the one reusing it
    assert ctx2.notes["built_on"]["cpu_model"] == "The training box"
    assert ctx2.notes["distill_seconds"] == ctx.notes["distill_seconds"]
    torch.testing.assert_close(logits(again, ctx.tokenizer), logits(student, ctx.tokenizer))


def test_chains_apply_in_order(tmp_path):
    ctx = make_ctx(tmp_path)
    model = apply_chain(tiny_model(), parse_variant("distill:2/examples=16+int8"), ctx)
    assert ctx.precision == "int8"
    assert "quantized" in type(model.bert.encoder.layer[0].intermediate.dense).__module__
    assert len(model.bert.encoder.layer) == 2
    assert logits(model, ctx.tokenizer).shape == (2, 2)
    # pruned, then distilled, then half: each step sees the previous one's model
    ctx = make_ctx(tmp_path)
    variant = parse_variant("prune-structured:50/norecover+distill:2/examples=16+half")
    model = apply_chain(tiny_model(), variant, ctx)
    assert ctx.precision == "bf16"
    assert model.config.leanbench_pruned == {"heads": [2, 2], "intermediate": [32, 32]}
    assert model.bert.encoder.layer[1].attention.self.query.weight.shape == (16, 32)


def test_distill_more_layers_than_the_teacher_names_the_step(tmp_path):
    with pytest.raises(UserError, match=r"Step 'distill:99' of 'distill:99\+int8'.*6 layers"):
        apply_chain(tiny_model(layers=6), parse_variant("distill:99+int8"), make_ctx(tmp_path))


def test_distill_after_half_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="Step 'distill:2' of 'half\\+distill:2'"):
        apply_chain(tiny_model(), parse_variant("half+distill:2"), make_ctx(tmp_path))


@pytest.mark.parametrize(
    "variant, fragment",
    [
        ("distill:0", "Step 'distill:0'"),
        ("distill", "Step 'distill'"),
        ("distill:three", "not a whole number"),
        ("distill:3/T=0", "out of range"),
        ("distill:3/examples=10/epochs=1", "not both"),
        ("distill:3/speed=9", "unknown option"),
        ("student", "Step 'student'"),
        ("distil:3", "Unknown step 'distil'"),
    ],
)
def test_bad_parameters_name_the_step(variant, fragment):
    with pytest.raises(UserError, match=fragment):
        parse_variant(variant)


def test_student_model_folder(tmp_path, monkeypatch):
    monkeypatch.setattr("lib.techniques.distill.DEFAULT_EXAMPLES", 32)  # 2 steps, not 500
    small = tiny_model(layers=2, seed=1)
    tok = tiny_tokenizer(tmp_path)
    small.save_pretrained(tmp_path / "small")
    tok.save_pretrained(tmp_path / "small")
    ctx = make_ctx(tmp_path, cache=True)
    model = apply_chain(tiny_model(), parse_variant(f"student:{tmp_path / 'small'}+int8"), ctx)
    assert len(model.bert.encoder.layer) == 2
    assert ctx.notes["student_training"] == "distilled from the baseline"
    assert ctx.notes["student_train_steps"] == 2


def test_student_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="Step 'student:./nope' .*not found"):
        apply_chain(tiny_model(), parse_variant("student:./nope"), make_ctx(tmp_path))

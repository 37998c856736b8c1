"""Distillation: a smaller model trained to copy the adapted baseline (the teacher).

- ``distill:<layers>[/option...]``: the student is the teacher with only ``layers`` of its
  transformer layers, evenly spaced (6 -> 3 keeps 0, 2, 4), initialised DistilBERT-style from the
  teacher (embeddings, the kept layers, pooler and classifier copied). It is trained on the
  train split with ``alpha`` x KL(teacher || student at temperature T) x T^2 + ``(1 - alpha)`` x
  cross-entropy on the labels. Options after ``/``: ``examples=<n>`` (training examples seen,
  default 8000, i.e. two passes over a 4,000-example train split), ``epochs=<x>`` (passes over
  the train split instead), ``T=<x>`` (default 2), ``alpha=<x>`` (default 0.5).
- ``student:<model>``: fine-tunes a second, smaller pretrained model (a local folder, the
  built-in ``minilm-l6`` or a Hub id) on the train split, distilled from the teacher when both
  use the same tokenizer, plain cross-entropy otherwise.

Both are cached under the data folder, keyed by the teacher's weights, the settings and the train
split, so the second run of the same variant loads the trained student at once.
"""

from __future__ import annotations

import copy
from typing import Any

from lib.errors import UserError
from lib.models import cache, surgery
from lib.techniques.configs import DEFAULT_EXAMPLES, MAX_LENGTH, distill_settings
from lib.techniques.context import BuildContext
from lib.training.loop import RECIPE

BATCH_SIZE = 16
LEARNING_RATE = 1e-4  # a student with fewer layers moves further than a fine-tune: a bit higher
TIME_BUDGET_S = 1800.0  # a safety net only; the defaults take ~2-3 minutes on 2 cores


def kept_layers(total: int, keep: int) -> list[int]:
    """Evenly spaced, starting at the bottom: 6 -> 3 gives [0, 2, 4], 12 -> 6 gives [0, 2, ...]."""
    return [i * total // keep for i in range(keep)]


def make_student(teacher, keep: int):
    """A copy of the teacher with only ``keep`` evenly spaced layers (DistilBERT-style init:
    embeddings, the kept layers and the head copied); the family's adapter keeps the layers and
    the config that describes them."""
    layers = surgery.encoder_layers(teacher, "distill")
    total = len(layers)
    if keep >= total:
        raise UserError(f"the teacher has {total} layers; a student needs fewer (1 to {total - 1})")
    chosen = kept_layers(total, keep)
    student = copy.deepcopy(teacher)
    surgery.keep_layers(student, chosen)
    return student, chosen


def _epochs(settings: dict, n_train: int) -> float:
    if settings["epochs"] is not None:
        return settings["epochs"]
    return settings["examples"] / max(1, n_train)


def apply_distill(model, param, ctx: BuildContext):
    if ctx.precision != "fp32":
        raise UserError(f"needs the 32-bit model; put {ctx.precision} after this step")
    settings = distill_settings(param)
    if ctx.train is None or len(ctx.train) == 0:
        raise UserError("needs train data to train the student on")
    student, chosen = make_student(model, settings["layers"])
    total = len(surgery.encoder_layers(model, "distill"))
    epochs = _epochs(settings, len(ctx.train))
    entry = cache.cache_entry(
        ctx.cache_dir,
        "distill",
        {
            "teacher": cache.model_fingerprint(model) if ctx.cache_dir else "",
            "layers": chosen,
            "settings": {**settings, "epochs": epochs, "lr": LEARNING_RATE, "bs": BATCH_SIZE},
            "train": ctx.train.fingerprint(),
            "seed": ctx.seed,
            "max_length": MAX_LENGTH,
            "recipe": RECIPE,
        },
    )
    cached = cache.reuse_cached(entry, ctx)
    if cached is not None:
        return cached

    from lib.training.loop import train_distilled

    report = train_distilled(
        student,
        model,
        ctx.tokenizer,
        ctx.train,
        temperature=settings["temperature"],
        alpha=settings["alpha"],
        max_length=MAX_LENGTH,
        time_budget_s=TIME_BUDGET_S,
        progress=lambda f, m: ctx.report(f, f"distilling into {len(chosen)} layers: {m}"),
        device=ctx.device,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        learning_rate=LEARNING_RATE,
        seed=ctx.seed,
    )
    notes = {
        "teacher_layers": total,
        "student_layers": chosen,
        "distill_seconds": report.seconds,  # everything the user waits for, the teacher's too
        "teacher_logits_seconds": report.teacher_seconds,
        "distill_steps": report.steps,
        "distill_examples_seen": report.steps * BATCH_SIZE,
        "distill_final_loss": report.final_loss,
        "distill_stopped_by_budget": report.stopped_early,
        "temperature": settings["temperature"],
        "alpha": settings["alpha"],
    }
    student.eval()
    return cache.keep_build(student, entry, ctx, f"distill:{param}", notes)


# ---------------------------------------------------------------- student:<model>
def _same_tokenizer(a, b) -> bool:
    try:
        return a.get_vocab() == b.get_vocab()
    except Exception:  # noqa: BLE001 - a tokenizer without a vocabulary: do not distill
        return False


def apply_student(model, param, ctx: BuildContext):
    from lib.models import load as models
    from lib.spec import ModelSpec

    if ctx.precision != "fp32":
        raise UserError(f"needs the 32-bit teacher; put {ctx.precision} after this step")
    if ctx.train is None or len(ctx.train) == 0:
        raise UserError("needs train data to fine-tune the student on")
    resolved = models.resolve(ModelSpec(param))
    config = models.load_config(resolved)  # a clear error for an offline Hub id
    tokenizer = models.load_tokenizer(resolved.location, resolved.is_local)
    names = ctx.train.label_names
    distil = _same_tokenizer(tokenizer, ctx.tokenizer)
    epochs = DEFAULT_EXAMPLES / len(ctx.train)
    entry = cache.cache_entry(
        ctx.cache_dir,
        "student",
        {
            "student": resolved.identity,
            "teacher": cache.model_fingerprint(model) if ctx.cache_dir and distil else "",
            "epochs": epochs,
            "train": ctx.train.fingerprint(),
            "seed": ctx.seed,
            "distil": distil,
            "recipe": RECIPE,
        },
    )
    cached = cache.reuse_cached(entry, ctx)
    if cached is not None:
        ctx.tokenizer = tokenizer
        return cached

    fit = models.head_fit(config, names)
    if fit.kind == "by-name" and fit.order is not None:
        student = models.load_classifier(resolved.location, resolved.is_local)
        models.relabel_head(student, fit.order, names)
        notes = {"student": param, "student_training": f"none: {fit.sentence}"}
    elif fit.kind == "fits":
        student = models.load_classifier(resolved.location, resolved.is_local)
        notes = {"student": param, "student_training": "none: its own head fits the labels"}
    else:
        from lib.training.loop import train, train_distilled

        student = models.load_classifier(
            resolved.location,
            resolved.is_local,
            num_labels=len(names),
            id2label=dict(enumerate(names)),
            label2id={n: i for i, n in enumerate(names)},
            ignore_mismatched_sizes=True,
        ).to(ctx.device)
        common: dict[str, Any] = dict(
            max_length=MAX_LENGTH,
            time_budget_s=TIME_BUDGET_S,
            progress=lambda f, m: ctx.report(f, f"training the student: {m}"),
            device=ctx.device,
            epochs=epochs,
            batch_size=BATCH_SIZE,
            learning_rate=5e-5,
            seed=ctx.seed,
        )
        if distil:
            report = train_distilled(student, model, tokenizer, ctx.train, **common)
        else:
            report = train(student, tokenizer, ctx.train, group_by_length=True, **common)
        notes = {
            "student": param,
            "student_training": "distilled from the baseline"
            if distil
            else "fine-tuned on the labels (its tokenizer differs from the baseline's)",
            "student_train_seconds": report.seconds,
            "student_train_steps": report.steps,
        }
    ctx.tokenizer = tokenizer  # the student reads its own tokens
    student.eval()
    return cache.keep_build(student, entry, ctx, f"student:{param}", notes, tokenizer)

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

import torch

from lib.errors import UserError
from lib.models import pruned as pruned_io
from lib.techniques import BuildContext, Technique, int_param, register
from lib.techniques.prune import MAX_LENGTH, number_option, split_options
from lib.training.loop import RECIPE

DEFAULT_EXAMPLES = 8000
TEMPERATURE = 2.0
ALPHA = 0.5
BATCH_SIZE = 16
LEARNING_RATE = 1e-4  # a student with fewer layers moves further than a fine-tune: a bit higher
TIME_BUDGET_S = 1800.0  # a safety net only; the defaults take ~2-3 minutes on 2 cores

_KEYS = ("examples", "epochs", "T", "alpha")


def _settings(param: str | None) -> dict:
    head, _, values = split_options(param, name="distill", flags=(), keys=_KEYS)
    layers = int_param(head, name="distill", low=1, high=1000)
    if "examples" in values and "epochs" in values:
        raise UserError("give either examples=<n> or epochs=<x>, not both")
    return {
        "layers": layers,
        "examples": int(number_option(values, "examples", DEFAULT_EXAMPLES, 1, 10_000_000)),
        "epochs": number_option(values, "epochs", 0.0, 0.01, 100) if "epochs" in values else None,
        "temperature": number_option(values, "T", TEMPERATURE, 0.1, 100),
        "alpha": number_option(values, "alpha", ALPHA, 0, 1),
    }


def _check(param: str | None) -> None:
    _settings(param)


def _check_model(param: str | None, config) -> None:
    total = getattr(config, "num_hidden_layers", None)
    layers = _settings(param)["layers"]
    if total and layers >= total:
        raise UserError(f"the model has {total} layers; a student needs fewer (1 to {total - 1})")


def kept_layers(total: int, keep: int) -> list[int]:
    """Evenly spaced, starting at the bottom: 6 -> 3 gives [0, 2, 4], 12 -> 6 gives [0, 2, ...]."""
    return [i * total // keep for i in range(keep)]


def make_student(teacher, keep: int):
    """A copy of the teacher with only ``keep`` evenly spaced layers (DistilBERT-style init)."""
    layers = pruned_io.encoder_layers(teacher)
    total = len(layers)
    if keep >= total:
        raise UserError(f"the teacher has {total} layers; a student needs fewer (1 to {total - 1})")
    chosen = kept_layers(total, keep)
    student = copy.deepcopy(teacher)
    encoder = student.base_model.encoder
    encoder.layer = torch.nn.ModuleList([encoder.layer[i] for i in chosen])
    for new_index, layer in enumerate(encoder.layer):
        for module in layer.modules():
            if hasattr(module, "layer_idx"):
                module.layer_idx = new_index
    student.config.num_hidden_layers = keep
    record = getattr(student.config, pruned_io.PRUNED_KEY, None)
    if record:
        setattr(
            student.config,
            pruned_io.PRUNED_KEY,
            {k: [v[i] for i in chosen] for k, v in record.items()},
        )
    return student, chosen


def _epochs(settings: dict, n_train: int) -> float:
    if settings["epochs"] is not None:
        return settings["epochs"]
    return settings["examples"] / max(1, n_train)


def _distill(model, param, ctx: BuildContext):
    if ctx.precision != "fp32":
        raise UserError(f"needs the 32-bit model; put {ctx.precision} after this step")
    settings = _settings(param)
    if ctx.train is None or len(ctx.train) == 0:
        raise UserError("needs train data to train the student on")
    student, chosen = make_student(model, settings["layers"])
    total = len(pruned_io.encoder_layers(model))
    epochs = _epochs(settings, len(ctx.train))
    entry = pruned_io.cache_entry(
        ctx.cache_dir,
        "distill",
        {
            "teacher": pruned_io.model_fingerprint(model) if ctx.cache_dir else "",
            "layers": chosen,
            "settings": {**settings, "epochs": epochs, "lr": LEARNING_RATE, "bs": BATCH_SIZE},
            "train": ctx.train.fingerprint(),
            "seed": ctx.seed,
            "max_length": MAX_LENGTH,
            "recipe": RECIPE,
        },
    )
    cached = pruned_io.reuse_cached(entry, ctx)
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
    ctx.notes.update(notes)
    student.eval()
    pruned_io.store_cached(student, entry, {"step": f"distill:{param}", "notes": notes})
    return student


# ---------------------------------------------------------------- student:<model>
def _student_check(param: str | None) -> None:
    if not param:
        raise UserError("needs a model: a local folder, minilm-l6 or a Hugging Face id")


def _same_tokenizer(a, b) -> bool:
    try:
        return a.get_vocab() == b.get_vocab()
    except Exception:  # noqa: BLE001 - a tokenizer without a vocabulary: do not distill
        return False


def _student(model, param, ctx: BuildContext):
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
    entry = pruned_io.cache_entry(
        ctx.cache_dir,
        "student",
        {
            "student": resolved.identity,
            "teacher": pruned_io.model_fingerprint(model) if ctx.cache_dir and distil else "",
            "epochs": epochs,
            "train": ctx.train.fingerprint(),
            "seed": ctx.seed,
            "distil": distil,
            "recipe": RECIPE,
        },
    )
    cached = pruned_io.reuse_cached(entry, ctx)
    if cached is not None:
        ctx.tokenizer = tokenizer
        return cached

    if models.head_matches(config, names):
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
        common = dict(
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
    ctx.notes.update(notes)
    ctx.tokenizer = tokenizer  # the student reads its own tokens
    student.eval()
    pruned_io.store_cached(student, entry, {"step": f"student:{param}", "notes": notes}, tokenizer)
    return student


register(
    Technique(
        name="distill",
        summary="Trains a smaller copy of the model, with fewer layers, to give the same answers "
        "as the full model (knowledge distillation). Half the layers is about twice as fast, "
        "usually for about a point of accuracy; training takes a few minutes and is cached.",
        apply=_distill,
        check=_check,
        check_model=_check_model,
        param_help="layers the student keeps, fewer than the model has (e.g. distill:3 for a "
        "6-layer model); options after '/': examples=<n> (default 8000), epochs=<x>, T=<x> "
        "(temperature, default 2), alpha=<x> (share of the teacher's soft answers, default 0.5)",
        when_it_helps="Any hardware: the saving is real compute. Combine with int8 or half for "
        "more (distill:3+int8). Needs the train split; more training examples recover more.",
    )
)
register(
    Technique(
        name="student",
        summary="Replaces the model with another, smaller pretrained model trained on the same "
        "task (copying the baseline's answers when both read text the same way), for "
        "'small model vs big model' comparisons.",
        apply=_student,
        check=_student_check,
        param_help="the student model: a local Hugging Face folder, minilm-l6, or a Hub id "
        "(e.g. student:/models/distilbert-base-uncased)",
        when_it_helps="When a published smaller sibling of the model exists (DistilBERT for "
        "BERT, MiniLM...); it is as fast as its size, whatever the hardware.",
    )
)

"""Every registered technique, described and checked without importing torch.

One ``TechniqueConfig`` per step name: the plain-language text the pages, the demo and reports
show, what its parameter means, and the checks that reject a bad parameter before any work
starts. Parsing, validating and describing a chain needs only this module (and
``lib.runtimes.configs``); the torch work of each step lives in its handler module
(``precision``, ``quantize``, ``prune``, ``distill``), loaded by ``lib.techniques.registry``
only when a chain is applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lib.errors import UserError


def _no_check(param: str | None) -> None:
    return None


def _no_model_check(param: str | None, config: Any) -> None:
    return None


@dataclass(frozen=True)
class TechniqueConfig:
    name: str
    summary: str  # one plain sentence for people who are not ML engineers
    check: Callable[[str | None], None] = _no_check  # validates the parameter early
    # Validates the parameter against the base model's config, before any work starts.
    check_model: Callable[[str | None, Any], None] = _no_model_check
    param_help: str = ""
    when_it_helps: str = ""
    story: str = ""  # the demo's shorter words for it (lib.demo.story.explain_variant)
    story_param: str = ""  # what the demo says of its parameter: "Pruned by {param}%. "


# ---------------------------------------------------------------- parameter syntax
def int_param(
    param: str | None, *, name: str, low: int, high: int, default: int | None = None
) -> int:
    """Parse a whole-number step parameter within [low, high]."""
    if param is None:
        if default is None:
            raise UserError(f"needs a number, e.g. {name}:{low + 1}")
        return default
    try:
        value = int(param)
    except ValueError:
        raise UserError(f"'{param}' is not a whole number") from None
    if not low <= value <= high:
        raise UserError(f"{value} is out of range ({low} to {high})")
    return value


def split_options(
    param: str | None, *, name: str, flags: tuple[str, ...], keys: tuple[str, ...]
) -> tuple[str | None, set[str], dict[str, str]]:
    """``'30/magnitude/recover=60'`` -> ('30', {'magnitude'}, {'recover': '60'})."""
    if param is None:
        return None, set(), {}
    head, *rest = param.split("/")
    found: set[str] = set()
    values: dict[str, str] = {}
    for opt in rest:
        opt = opt.strip()
        key, eq, value = opt.partition("=")
        if not eq and key in flags:
            found.add(key)
        elif eq and key in keys and value.strip():
            values[key] = value.strip()
        else:
            known = ", ".join([*flags, *(f"{k}=<n>" for k in keys)])
            raise UserError(f"unknown option '{opt}' for {name}; known options: {known}")
    return head.strip() or None, found, values


def number_option(values: dict[str, str], key: str, default: float, low: float, high: float):
    if key not in values:
        return default
    try:
        value = float(values[key])
    except ValueError:
        raise UserError(f"{key}={values[key]} is not a number") from None
    if not low <= value <= high:
        raise UserError(f"{key}={values[key]} is out of range ({low:g} to {high:g})")
    return value


# ---------------------------------------------------------------- int8
INT8_BACKENDS = ("per-tensor", "per-channel", "torchao")


def check_int8(param: str | None) -> None:
    if param is not None and param not in INT8_BACKENDS:
        raise UserError(f"unknown int8 backend '{param}'; use one of {', '.join(INT8_BACKENDS)}")


# ---------------------------------------------------------------- pruning
MAX_LENGTH = 64  # tokens per training/calibration example, as in adaptation
RECOVER_SECONDS = 120.0  # default time budget of prune-structured's recovery fine-tune
_STRUCT_FLAGS = ("magnitude", "norecover")
_STRUCT_KEYS = ("recover",)


def check_unstructured(param: str | None) -> None:
    int_param(param, name="prune-unstructured", low=0, high=99)


def structured_settings(param: str | None) -> tuple[int, bool, float]:
    """``prune-structured``'s parameter as (percent, rank by magnitude, recovery seconds)."""
    head, flags, values = split_options(
        param, name="prune-structured", flags=_STRUCT_FLAGS, keys=_STRUCT_KEYS
    )
    percent = int_param(head, name="prune-structured", low=0, high=95)
    recover = number_option(values, "recover", RECOVER_SECONDS, 0, 24 * 3600)
    if "norecover" in flags:
        if "recover" in values:
            raise UserError("give either norecover or recover=<seconds>, not both")
        recover = 0.0
    return percent, "magnitude" in flags, recover


def check_structured(param: str | None) -> None:
    structured_settings(param)


# ---------------------------------------------------------------- distillation
DEFAULT_EXAMPLES = 8000  # training examples a student sees by default
TEMPERATURE = 2.0
ALPHA = 0.5
_DISTILL_KEYS = ("examples", "epochs", "T", "alpha")


def distill_settings(param: str | None) -> dict:
    """``distill``'s parameter as a dict: layers, examples, epochs, temperature, alpha."""
    head, _, values = split_options(param, name="distill", flags=(), keys=_DISTILL_KEYS)
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


def check_distill(param: str | None) -> None:
    distill_settings(param)


def check_distill_model(param: str | None, config: Any) -> None:
    total = getattr(config, "num_hidden_layers", None)
    layers = distill_settings(param)["layers"]
    if total and layers >= total:
        raise UserError(f"the model has {total} layers; a student needs fewer (1 to {total - 1})")


def check_student(param: str | None) -> None:
    if not param:
        raise UserError("needs a model: a local folder, minilm-l6 or a Hugging Face id")


# ---------------------------------------------------------------- the table
TECHNIQUES: dict[str, TechniqueConfig] = {
    c.name: c
    for c in (
        TechniqueConfig(
            name="fp32",
            summary="The model as trained: every weight a 32-bit float. The baseline every "
            "other variant is compared with.",
            when_it_helps="Always measured, as the reference.",
            story="The model as trained: every weight a 32-bit number. The baseline every other "
            "version is compared with.",
        ),
        TechniqueConfig(
            name="half",
            summary="Stores and computes with 16-bit numbers instead of 32-bit: half the memory, "
            "and faster where the chip has 16-bit units (bfloat16 on a CPU, float16 on a GPU).",
            when_it_helps="GPUs (fp16 tensor cores) and CPUs with AVX512-BF16 or AMX; "
            "usually costs almost no accuracy.",
            story="Stores and computes with 16-bit numbers instead of 32-bit: half the memory, "
            "and faster where the chip has 16-bit units (bfloat16 on a CPU, float16 on a GPU).",
        ),
        TechniqueConfig(
            name="int8",
            summary="Stores each weight of the big matrix layers in one byte instead of four and "
            "multiplies in 8-bit integers: about 4x smaller layers and usually 1.5-2x faster on "
            "CPUs with VNNI or AMX, at a small cost in accuracy.",
            check=check_int8,
            param_help="backend: per-tensor (default), per-channel (more faithful) or torchao",
            when_it_helps="CPUs with AVX512-VNNI, AVX-VNNI or AMX. Little gain without them, and "
            "torch's dynamic int8 does not run on GPUs.",
            story="Stores each weight in one byte instead of four and multiplies in 8-bit "
            "integers: about 4x smaller and usually 1.5-2x faster on CPUs with VNNI or AMX, for "
            "a small cost in accuracy.",
        ),
        TechniqueConfig(
            name="prune-unstructured",
            summary="Sets the given percentage of the smallest weights of the model's matrix "
            "layers to zero. The matrices keep their size and ordinary (dense) kernels multiply "
            "the zeros like any other number, so it is not faster and the file is not smaller "
            "as saved; it only helps if stored compressed or run on sparse hardware.",
            check=check_unstructured,
            param_help="percent of the encoder's Linear weights set to zero, 0-99 "
            "(e.g. prune-unstructured:50)",
            when_it_helps="When the model is shipped compressed (download size) or served by a "
            "sparse runtime or accelerator; on ordinary CPUs and GPUs expect the same speed and "
            "a small accuracy cost up to about 50%.",
            story="Sets the smallest weights to zero. Ordinary hardware multiplies the zeros "
            "anyway, so it is not faster: it shows how much of the model is redundant.",
            story_param="Pruned by {param}%. ",
        ),
        TechniqueConfig(
            name="prune-structured",
            summary="Removes the least useful attention heads and feed-forward neurons of every "
            "layer, so the matrices really shrink and the model runs faster; a short fine-tune "
            "that copies the original model's answers then wins back most of the lost accuracy.",
            check=check_structured,
            param_help="percent of heads and neurons removed per layer, 0-95, then options "
            "after '/': magnitude (rank by weight size instead of gradients), norecover (no "
            "recovery fine-tune), recover=<seconds> (its time budget, default 120); e.g. "
            "prune-structured:30, prune-structured:30/magnitude/norecover",
            when_it_helps="Any hardware: fewer multiplications on CPU and GPU alike. 30% of a "
            "MiniLM-sized model is about 1.3-1.4x faster for a point or so of accuracy; more "
            "costs more accuracy. The embeddings do not shrink, so small models gain less size.",
            story="Removes the least useful parts of every layer (attention heads, neurons), so "
            "the model really shrinks and runs faster; a short re-training wins back most of "
            "the accuracy.",
            story_param="Pruned by {param}%. ",
        ),
        TechniqueConfig(
            name="distill",
            summary="Trains a smaller copy of the model, with fewer layers, to give the same "
            "answers as the full model (knowledge distillation). Half the layers is about twice "
            "as fast, usually for about a point of accuracy; training takes a few minutes and is "
            "cached.",
            check=check_distill,
            check_model=check_distill_model,
            param_help="layers the student keeps, fewer than the model has (e.g. distill:3 for "
            "a 6-layer model); options after '/': examples=<n> (default 8000), epochs=<x>, "
            "T=<x> (temperature, default 2), alpha=<x> (share of the teacher's soft answers, "
            "default 0.5)",
            when_it_helps="Any hardware: the saving is real compute. Combine with int8 or half "
            "for more (distill:3+int8). Needs the train split; more training examples recover "
            "more.",
            story="Trains a smaller copy with fewer layers to give the same answers as the full "
            "model. Half the layers is about twice as fast, usually for about a point of "
            "accuracy.",
            story_param="Distilled to {param} layers. ",
        ),
        TechniqueConfig(
            name="student",
            summary="Replaces the model with another, smaller pretrained model trained on the "
            "same task (copying the baseline's answers when both read text the same way), for "
            "'small model vs big model' comparisons.",
            check=check_student,
            param_help="the student model: a local Hugging Face folder, minilm-l6, or a Hub id "
            "(e.g. student:/models/distilbert-base-uncased)",
            when_it_helps="When a published smaller sibling of the model exists (DistilBERT for "
            "BERT, MiniLM...); it is as fast as its size, whatever the hardware.",
            story="Swaps in a smaller pretrained model trained on the same task.",
        ),
    )
}


def technique_names() -> list[str]:
    return list(TECHNIQUES)

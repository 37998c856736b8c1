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


def _no_runtime_check(param: str | None, runtime: str) -> None:
    return None


@dataclass(frozen=True)
class TechniqueConfig:
    name: str
    summary: str  # one plain sentence for people who are not ML engineers
    check: Callable[[str | None], None] = _no_check  # validates the parameter early
    # Validates the parameter against the base model's config, before any work starts.
    check_model: Callable[[str | None, Any], None] = _no_model_check
    # Validates the parameter against the runtime that will serve the chain (parse time).
    check_runtime: Callable[[str | None, str], None] = _no_runtime_check
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
INT8_BACKENDS = ("per-tensor", "per-channel", "torchao", "static")
# Options after '/': keep-<part> keeps a sensitive part in float (keep-ends = first and last
# layers, keep-sensitive = all four); full-range gives torch's dynamic int8 8-bit activations.
_INT8_KEEP_FLAGS = {
    "keep-embeddings": ("embeddings",),
    "keep-head": ("head",),
    "keep-first": ("first",),
    "keep-last": ("last",),
    "keep-ends": ("first", "last"),
    "keep-sensitive": ("embeddings", "head", "first", "last"),
    "keep-ffn-out": ("ffn-out",),
}
_INT8_FLAGS = (*_INT8_KEEP_FLAGS, "full-range")
_INT8_KEYS = ("samples",)
_KEEP_ORDER = ("embeddings", "head", "first", "last", "ffn-out")
CALIBRATION_SAMPLES = 300  # train texts int8:static calibrates on by default
CALIBRATION_RANGE = (8, 5000)


@dataclass(frozen=True)
class Int8Settings:
    """What an ``int8`` step's parameter asks for (``int8_settings``).

    ``backend`` is None for plain ``int8``: the runtime's default (torch's dynamic per-channel
    int8 with 8-bit activations under ``@eager``, ONNX Runtime's dynamic per-channel under
    ``@ort``, NNCF's calibrated int8 under ``@openvino``; see docs/runtimes.md for why)."""

    backend: str | None = None
    samples: int = CALIBRATION_SAMPLES  # calibration texts (static only)
    keep: tuple[str, ...] = ()  # parts kept in float, in _KEEP_ORDER
    full_range: bool = False  # torch dynamic: 8-bit activations instead of torch's 7-bit

    @property
    def static(self) -> bool:
        return self.backend == "static"


def int8_settings(param: str | None) -> Int8Settings:
    """``int8``'s parameter: ``static:500/keep-ends`` -> static, 500 texts, first/last kept.

    The backend is per-tensor, per-channel, torchao or static (``static:<n>`` for n
    calibration texts, or ``/samples=<n>``); options after '/' are keep-embeddings,
    keep-head, keep-first, keep-last, keep-ends, keep-sensitive, keep-ffn-out and full-range.
    """
    head, flags, values = split_options(param, name="int8", flags=_INT8_FLAGS, keys=_INT8_KEYS)
    backend, samples_text = head, None
    if head is not None and head.startswith("static:"):
        backend, samples_text = "static", head.split(":", 1)[1].strip()
    if backend is not None and backend not in INT8_BACKENDS:
        raise UserError(f"unknown int8 backend '{backend}'; use one of {', '.join(INT8_BACKENDS)}")
    if samples_text is not None and "samples" in values:
        raise UserError("give the calibration size once: static:<n> or samples=<n>")
    samples_text = samples_text if samples_text is not None else values.get("samples")
    samples = CALIBRATION_SAMPLES
    if samples_text is not None:
        if backend != "static":
            raise UserError("samples=<n> is the calibration size of int8:static")
        low, high = CALIBRATION_RANGE
        samples = int_param(samples_text, name="int8:static", low=low, high=high)
    keep = {part for flag in flags if flag in _INT8_KEEP_FLAGS for part in _INT8_KEEP_FLAGS[flag]}
    full_range = "full-range" in flags
    if full_range and backend in ("torchao", "static"):
        raise UserError(
            "full-range is an option of torch's dynamic int8 (per-tensor or per-channel); "
            f"int8:{backend} already uses 8-bit activations"
        )
    if keep and backend == "torchao":
        raise UserError("keep-* options are not supported by int8:torchao")
    return Int8Settings(
        backend=backend,
        samples=samples,
        keep=tuple(p for p in _KEEP_ORDER if p in keep),
        full_range=full_range,
    )


def check_int8(param: str | None) -> None:
    int8_settings(param)


STATIC_RUNTIMES = ("ort", "openvino")


def check_int8_runtime(param: str | None, runtime: str) -> None:
    """What an int8 backend cannot be served with, known before anything is built."""
    settings = int8_settings(param)
    if settings.static and runtime not in STATIC_RUNTIMES:
        raise UserError(
            "static int8 is calibrated and served by a runtime: use int8:static@ort or "
            "int8:static@openvino"
        )
    if runtime == "openvino" and settings.backend not in (None, "static"):
        raise UserError(
            f"OpenVINO's int8 is NNCF's calibrated int8, not torch's '{settings.backend}': "
            "use int8@openvino or int8:static@openvino"
        )
    # int8:torchao@ort is refused when built (lib.techniques.quantize), as it always was.
    if runtime == "ort" and not settings.static:
        if settings.full_range:
            raise UserError("ONNX Runtime's int8 already uses 8-bit activations: drop full-range")
        if settings.keep:
            raise UserError("keep-* options with @ort need static int8: int8:static/keep-...@ort")


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
            "CPUs with VNNI or AMX, at a small cost in accuracy. 'int8:static' measures the "
            "activation scales once on a few hundred train texts (calibration) instead of on "
            "every call; served with OpenVINO it was the fastest int8 measured here and lost no "
            "accuracy.",
            check=check_int8,
            check_runtime=check_int8_runtime,
            param_help="backend: empty for the faithful default (one scale per output row and "
            "8-bit activations; with @ort ONNX Runtime's, with @openvino NNCF's calibrated "
            "int8), per-tensor (torch's own default, one scale per matrix, 7-bit activations: "
            "the int8 of earlier Leanbench), per-channel (per row, 7-bit activations), torchao, "
            "or static (calibrated on train texts, with @ort or @openvino; static:<n> for n "
            "texts, default 300); options after '/': keep-embeddings, keep-head, keep-first, "
            "keep-last, keep-ends, keep-sensitive, keep-ffn-out (those parts stay in float), "
            "full-range "
            "(8-bit activations for per-tensor or per-channel); e.g. int8:static:300/keep-ends",
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

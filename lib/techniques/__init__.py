"""The technique registry: a variant is a chain of registered steps plus a serving runtime.

Syntax: steps joined by ``+``, each ``name`` or ``name:param``, applied left to right to a fresh
copy of the adapted baseline; an optional ``@runtime`` at the end picks how the result is served
(default ``eager``, plain PyTorch). Examples: ``fp32``, ``int8``, ``distill:3+int8@ort``.

A technique is ``apply(model, param, ctx) -> model``. It may change the model it is given (each
variant gets its own fresh copy) but never touches the cached baseline on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.errors import UserError

BASELINE = "fp32"
DEFAULT_RUNTIME = "eager"


@dataclass
class BuildContext:
    """What a step may need besides the model: data to calibrate or train on, where to cache."""

    base_path: str
    tokenizer: Any
    train: Any  # lib.datasets.LabelledText
    device: str = "cpu"
    seed: int = 0
    progress: Callable[[float, str], None] | None = None
    cache_dir: Path | None = None
    # Facts a step wants reported with the result (sparsity reached, training time...).
    notes: dict[str, Any] = field(default_factory=dict)
    precision: str = "fp32"

    def report(self, fraction: float, message: str) -> None:
        if self.progress:
            self.progress(fraction, message)


@dataclass(frozen=True)
class Technique:
    name: str
    summary: str  # one plain sentence for people who are not ML engineers
    apply: Callable[[Any, str | None, BuildContext], Any]
    check: Callable[[str | None], None] = lambda p: None  # validates the parameter early
    # Validates the parameter against the base model's config, before any work starts.
    check_model: Callable[[str | None, Any], None] = lambda p, config: None
    param_help: str = ""
    when_it_helps: str = ""


_REGISTRY: dict[str, Technique] = {}


def register(technique: Technique) -> Technique:
    _REGISTRY[technique.name] = technique
    return technique


def techniques() -> dict[str, Technique]:
    _load_builtins()
    return dict(_REGISTRY)


def get(name: str) -> Technique:
    return techniques()[name]


@dataclass(frozen=True)
class Step:
    name: str
    param: str | None = None

    def __str__(self) -> str:
        return self.name if self.param is None else f"{self.name}:{self.param}"


@dataclass(frozen=True)
class Variant:
    text: str
    steps: tuple[Step, ...]
    runtime: str = DEFAULT_RUNTIME

    @property
    def is_baseline(self) -> bool:
        return self.text == BASELINE


def parse_variant(text: str) -> Variant:
    """Parse ``a:1+b@rt``; a UserError names the bad step."""
    from lib.runtimes import registry as runtimes

    original = text
    text = text.strip()
    if not text:
        raise UserError("Empty variant name.")
    runtime = DEFAULT_RUNTIME
    if "@" in text:
        text, runtime = text.rsplit("@", 1)
        runtime = runtime.strip()
        if runtime not in runtimes.runtimes():
            known = ", ".join(runtimes.runtimes())
            raise UserError(
                f"Unknown runtime '@{runtime}' in variant '{original}'. Known: {known}."
            )
    known = techniques()
    steps = []
    for part in text.split("+"):
        part = part.strip()
        if not part:
            raise UserError(f"Empty step in variant '{original}' (two '+' in a row?).")
        name, _, param = part.partition(":")
        name = name.strip()
        param = param.strip() if _ else None
        if name not in known:
            raise UserError(
                f"Unknown step '{name}' in variant '{original}'. Known: {', '.join(known)}."
            )
        try:
            known[name].check(param)
        except UserError as exc:
            raise UserError(f"Step '{part}' in variant '{original}': {exc}") from None
        steps.append(Step(name, param or None))
    return Variant(original.strip(), tuple(steps), runtime)


def check_against_model(variant: Variant, config: Any) -> None:
    """Errors a step can only know with the model in hand (``distill:99`` on 6 layers)."""
    for step in variant.steps:
        try:
            get(step.name).check_model(step.param, config)
        except UserError as exc:
            raise UserError(f"Step '{step}' in variant '{variant.text}': {exc}") from None


def apply_chain(model: Any, variant: Variant, ctx: BuildContext) -> Any:
    for step in variant.steps:
        try:
            model = get(step.name).apply(model, step.param, ctx)
        except UserError as exc:
            raise UserError(f"Step '{step}' of '{variant.text}': {exc}") from None
    return model


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


_loaded = False


def _load_builtins() -> None:
    # Registration happens on import of each technique module; deferred so that parsing a spec
    # does not import torch until needed.
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib

    for module in ("precision", "quantize", "prune", "distill"):
        try:
            importlib.import_module(f"lib.techniques.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lib.techniques.{module}":
                raise

"""Technique name -> the handler that does its torch work, loaded when a chain is applied.

A handler is ``apply(model, param, ctx) -> model``. It may change the model it is given (each
variant gets its own fresh copy) but never touches the cached baseline on disk. Handlers live
one module per family (``precision``, ``quantize``, ``prune``, ``distill``) and are imported
only by ``handler`` / ``apply_chain``: describing or parsing a chain imports no torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lib.errors import UserError
from lib.registry import LazyRegistry
from lib.techniques.configs import TECHNIQUES, TechniqueConfig
from lib.techniques.context import BuildContext
from lib.techniques.grammar import Variant

Handler = Callable[[Any, str | None, BuildContext], Any]

HANDLERS: LazyRegistry[Handler] = LazyRegistry(
    "technique",
    {
        "fp32": "lib.techniques.precision:apply_fp32",
        "half": "lib.techniques.precision:apply_half",
        "int8": "lib.techniques.quantize:apply_int8",
        "prune-unstructured": "lib.techniques.prune:apply_unstructured",
        "prune-structured": "lib.techniques.prune:apply_structured",
        "distill": "lib.techniques.distill:apply_distill",
        "student": "lib.techniques.distill:apply_student",
    },
)


def techniques() -> dict[str, TechniqueConfig]:
    """Every registered technique's description, by name (no torch imported)."""
    return dict(TECHNIQUES)


def get(name: str) -> TechniqueConfig:
    HANDLERS.target(name)  # a UserError listing the known techniques
    return TECHNIQUES[name]


def register(config: TechniqueConfig, handler: str | Handler) -> TechniqueConfig:
    """Add a technique: its description and ``"module:function"`` (or the function itself)."""
    TECHNIQUES[config.name] = config
    HANDLERS.register(config.name, handler)
    return config


def handler(name: str) -> Handler:
    return HANDLERS.load(name)


def apply_chain(model: Any, variant: Variant, ctx: BuildContext) -> Any:
    """Apply the variant's steps in order; ``ctx.runtime`` tells them what will serve it."""
    ctx.runtime = variant.runtime
    for step in variant.steps:
        try:
            model = handler(step.name)(model, step.param, ctx)
        except UserError as exc:
            raise UserError(f"Step '{step}' of '{variant.text}': {exc}") from None
    return model

"""Which techniques and runtimes apply to a model, known from its config before any work.

``applicability(config, variant)`` gives the one sentence that says why a variant cannot be
built on this model (its family, and the reason), or None; the runner fails such a variant
before adapting the baseline and goes on with the others. ``describe_model(config)`` gives the
Model & data page the family, sizes, parameters and every technique's verdict.

The families' anatomy is ``lib.models.families``; which techniques need it is said here, beside
the techniques, so that ``lib.models`` never imports ``lib.techniques`` (the handlers import
``lib.models``: the other way would be a cycle).
"""

from __future__ import annotations

import copy
from typing import Any

from lib.models.families import registry
from lib.runtimes.configs import RUNTIMES
from lib.techniques.configs import TECHNIQUES
from lib.techniques.grammar import Variant, parse_variant

# Techniques that change the inside of layers, and so need the family's adapter.
STRUCTURAL = ("prune-structured", "distill")


def technique_applicability(config: Any, technique: str, what: str | None = None) -> str | None:
    """Why ``technique`` (a step name, or ``@runtime``) cannot work on this model, in one
    sentence starting with ``what`` (the step as written), or None."""
    adapter = registry.for_config(config)
    if adapter is None:
        if technique in STRUCTURAL:
            return registry.unknown_family(config, what or technique, technique)
        return None
    return registry.refusal(adapter, technique, config, what)


def applicability(config: Any, variant: str | Variant) -> str | None:
    """The sentence that says why ``variant`` cannot be built on this model, or None.

    Steps after a ``student:`` step act on the student, whose family the base model's config
    does not tell: they are left to the steps themselves.
    """
    if isinstance(variant, str):
        variant = parse_variant(variant)
    for step in variant.steps:
        if step.name == "student":
            return None
        reason = technique_applicability(config, step.name, f"'{step}'")
        if reason is not None:
            return f"{reason}."
    runtime = f"@{variant.runtime}"
    reason = technique_applicability(config, runtime, f"'{runtime}'")
    return f"{reason}." if reason is not None else None


def describe_model(config: Any) -> dict[str, Any]:
    """What the Model & data page shows before a run: family, sizes, parameters, and for every
    technique and runtime None when it applies, else the reason it does not."""
    adapter = registry.for_config(config)
    if adapter is not None:
        sizes = adapter.describe(config)
    else:
        sizes = {
            "layers": getattr(config, "num_hidden_layers", None),
            "heads": getattr(config, "num_attention_heads", None),
            "head_size": None,
            "hidden": getattr(config, "hidden_size", None),
            "ffn": getattr(config, "intermediate_size", None),
        }
    params, estimated = count_parameters(config, sizes)
    return {
        "family": adapter.name if adapter is not None else None,
        "model_type": registry.model_type(config),
        "supported": adapter is not None,
        **sizes,
        "parameters": params,
        "parameters_estimated": estimated,
        "techniques": {name: technique_applicability(config, name) for name in TECHNIQUES},
        "runtimes": {name: technique_applicability(config, f"@{name}") for name in RUNTIMES},
    }


def count_parameters(config: Any, sizes: dict[str, Any]) -> tuple[int | None, bool]:
    """(parameters, estimated): counted exactly on a weightless ("meta") build of the
    classifier; estimated from the sizes when the config cannot be built."""
    try:
        import torch
        from transformers import AutoModelForSequenceClassification

        with torch.device("meta"):
            model = AutoModelForSequenceClassification.from_config(copy.deepcopy(config))
        return sum(p.numel() for p in model.parameters()), False
    except Exception:  # noqa: BLE001 - any config transformers cannot build: estimate instead
        return _estimate(config, sizes), True


def _estimate(config: Any, sizes: dict[str, Any]) -> int | None:
    layers, hidden, ffn = sizes.get("layers"), sizes.get("hidden"), sizes.get("ffn")
    if not (layers and hidden):
        return None
    ffn = ffn or 4 * hidden
    vocab = getattr(config, "vocab_size", 0) or 0
    positions = getattr(config, "max_position_embeddings", 0) or 0
    per_layer = 4 * hidden * hidden + 2 * hidden * ffn + 9 * hidden + ffn
    return int((vocab + positions) * hidden + layers * per_layer)

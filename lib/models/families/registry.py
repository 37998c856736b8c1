"""The architecture adapters, by ``config.model_type``: which family a model belongs to.

``register`` adds an adapter (a new family is one ``FamilyAdapter`` subclass plus this call, see
docs/architecture.md); ``for_config`` finds a config's adapter or None; ``for_model`` finds a
model's, or says in one sentence that its family is unknown and what still works on it.
"""

from __future__ import annotations

from typing import Any

from lib.errors import UserError
from lib.models.families.albert import Albert
from lib.models.families.base import FamilyAdapter
from lib.models.families.bert import BertLike
from lib.models.families.deberta import DebertaV2
from lib.models.families.distilbert import DistilBert
from lib.models.families.modernbert import ModernBert
from lib.models.families.mpnet import MPNet

# The techniques that never look inside a layer: they work on any family transformers loads.
FAMILY_AGNOSTIC = "half, int8, prune-unstructured and every runtime (@eager, @ort, @compile)"

_ADAPTERS: dict[str, FamilyAdapter] = {}


def register(adapter: FamilyAdapter) -> FamilyAdapter:
    """Add (or replace) a family: every model type it names now finds it."""
    for model_type in adapter.model_types:
        _ADAPTERS[model_type] = adapter
    return adapter


def unregister(adapter: FamilyAdapter) -> None:
    for model_type in adapter.model_types:
        if _ADAPTERS.get(model_type) is adapter:
            del _ADAPTERS[model_type]


def families() -> list[FamilyAdapter]:
    """Every registered family, once each, in the order registered."""
    return list({id(a): a for a in _ADAPTERS.values()}.values())


def model_type(config: Any) -> str:
    return str(getattr(config, "model_type", "") or "?")


def for_config(config: Any) -> FamilyAdapter | None:
    return _ADAPTERS.get(model_type(config))


def supported_line(technique: str | None = None) -> str:
    """ "BERT-like (bert, roberta, ...), DistilBERT (distilbert) and ...": the families
    ``technique`` works on (all of them when None)."""
    names = [
        f"{a.name} ({', '.join(a.model_types)})"
        for a in families()
        if technique is None or technique not in a.not_applicable
    ]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def unknown_family(config: Any, what: str, technique: str | None = None) -> str:
    """The sentence for a technique that needs to know a layer's parts, on an unknown family."""
    return (
        f"{what} cannot find the layers, heads and neurons of '{model_type(config)}' models: "
        f"it knows the {supported_line(technique)} families; {FAMILY_AGNOSTIC} still work "
        "on this model"
    )


def for_model(model: Any, technique: str | None = None) -> FamilyAdapter:
    """The model's adapter; UserError naming the supported families when there is none."""
    config = getattr(model, "config", None)
    adapter = for_config(config)
    if adapter is None:
        raise UserError(unknown_family(config, technique or "this step", technique))
    return adapter


def refusal(
    adapter: FamilyAdapter, technique: str, config: Any, what: str | None = None
) -> str | None:
    """Why ``technique`` (a step name or ``@runtime``) cannot work on this family, in one
    sentence that starts with ``what`` (the step as written; the technique by default); None
    when it can."""
    reason = adapter.not_applicable.get(technique)
    if reason is None:
        return None
    layers = getattr(config, "num_hidden_layers", None) or "all"
    others = "the other runtimes" if technique.startswith("@") else FAMILY_AGNOSTIC
    return (
        f"{what or technique} does not apply to {adapter.name} models: "
        f"{reason.format(layers=layers)}; {others} still work on them"
    )


def require(model: Any, technique: str) -> FamilyAdapter:
    """The adapter of a model ``technique`` is about to resize; UserError when it cannot."""
    adapter = for_model(model, technique)
    reason = refusal(adapter, technique, model.config)
    if reason is not None:
        raise UserError(reason)
    return adapter


for _adapter in (BertLike(), DistilBert(), MPNet(), DebertaV2(), ModernBert(), Albert()):
    register(_adapter)

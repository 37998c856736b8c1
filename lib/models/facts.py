"""What a model is, for people choosing one: where it comes from (built-in, a folder, the Hub)
and the facts read from its config (type, layers, the labels its head classifies into).
Plain Python over ``lib.models.load``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lib.models import load
from lib.spec import BUILTIN_MODEL


def source_kind(source: str) -> str:
    """ "builtin", "folder" (a path on this machine, or what looks like one) or "hub"."""
    if source == BUILTIN_MODEL:
        return "builtin"
    if Path(source).expanduser().exists() or source.startswith(("/", ".", "~")):
        return "folder"
    return "hub"


def head_labels(config: Any) -> list[str]:
    """The labels the model's classification head already predicts, in id order; [] when it
    has no classification head (``load.head_matches`` says whether a head fits labels)."""
    id2label = getattr(config, "id2label", None) or {}
    labels = [str(v) for _, v in sorted(id2label.items(), key=lambda kv: int(kv[0]))]
    return labels if load.head_matches(config, labels) else []


def model_facts(config: Any) -> dict[str, Any]:
    """A model config's facts: type, architectures, layers, hidden size, head labels."""
    return {
        "type": getattr(config, "model_type", "?"),
        "architectures": ", ".join(getattr(config, "architectures", None) or []) or "–",
        "layers": getattr(config, "num_hidden_layers", None),
        "hidden": getattr(config, "hidden_size", None),
        "labels": head_labels(config),
    }


def read_facts(identity: str, location: str, is_local: bool) -> dict[str, Any]:
    """Read a model's config (a folder, or the Hub) and return its facts; UserError when it
    cannot be read."""
    return model_facts(load.load_config(load.ResolvedModel(location, is_local, identity)))


def facts_line(facts: dict[str, Any]) -> str:
    """One line: "type **bert** · 6 layers · hidden size 384 · classifies into: neg, pos"."""
    parts = [f"type **{facts['type']}**"]
    if facts.get("layers"):
        parts.append(f"{facts['layers']} layers")
    if facts.get("hidden"):
        parts.append(f"hidden size {facts['hidden']}")
    if facts.get("labels"):
        labels = ", ".join(facts["labels"][:8])
        parts.append(f"classifies into: {labels}")
    else:
        parts.append("no classification head yet: one is fine-tuned on your data first")
    return " · ".join(parts)

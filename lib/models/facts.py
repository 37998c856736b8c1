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


def anatomy_line(anatomy: dict[str, Any]) -> str:
    """One line from ``describe_model``: "**BERT-like** family · 6 layers · 12 heads of 32 ·
    hidden 384 · FFN 1,536 · 22.7M parameters · every technique applies"."""
    family = anatomy.get("family")
    parts = [f"**{family}** family" if family else f"unknown family ({anatomy.get('model_type')})"]
    if anatomy.get("layers"):
        parts.append(f"{anatomy['layers']} layers")
    if anatomy.get("heads"):
        size = f" of {anatomy['head_size']}" if anatomy.get("head_size") else ""
        parts.append(f"{anatomy['heads']} heads{size}")
    if anatomy.get("hidden"):
        parts.append(f"hidden {anatomy['hidden']}")
    if anatomy.get("ffn"):
        parts.append(f"FFN {anatomy['ffn']:,}")
    if anatomy.get("parameters"):
        approx = "~" if anatomy.get("parameters_estimated") else ""
        parts.append(f"{approx}{anatomy['parameters'] / 1e6:.1f}M parameters")
    refused = [n for n, why in (anatomy.get("techniques") or {}).items() if why]
    refused += [f"@{n}" for n, why in (anatomy.get("runtimes") or {}).items() if why]
    parts.append(
        "every technique and runtime applies"
        if not refused
        else f"not on this model: {', '.join(refused)}"
    )
    return " · ".join(parts)


def refusals(anatomy: dict[str, Any]) -> list[str]:
    """The distinct reasons techniques or runtimes do not apply, each one sentence."""
    reasons = [why for why in (anatomy.get("techniques") or {}).values() if why]
    reasons += [why for why in (anatomy.get("runtimes") or {}).values() if why]
    out = []
    for why in dict.fromkeys(reasons):
        out.append(why[:1].upper() + why[1:] + ("" if why.endswith(".") else "."))
    return out

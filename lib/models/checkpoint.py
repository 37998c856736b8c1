"""Saving and loading classifiers whose layers were resized (structured pruning, distillation).

Plain ``save_pretrained`` + ``from_pretrained`` fails on a pruned model's size mismatch. We record
the kept widths in the config (``config.leanbench_pruned``, see ``lib.models.surgery``);
``load_pruned`` builds the model from its config, re-applies those widths, then loads the
weights. A folder without the record loads as usual (``load_plain``).

This module never imports ``lib.models.load`` (which imports it): no cycle.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from lib.errors import UserError
from lib.models.surgery import PRUNED_KEY, apply_widths, layer_widths, widths_are_full


def is_pruned_folder(location: str | Path) -> bool:
    """True when the folder's config carries a pruning record (cheap: reads config.json only)."""
    config_file = Path(location) / "config.json"
    return config_file.exists() and f'"{PRUNED_KEY}"' in config_file.read_text()


def has_safetensors(location: str | Path) -> bool | None:
    """True for a local folder with safetensors weights; None otherwise (let transformers pick)."""
    path = Path(location)
    if path.is_dir():
        return any(path.glob("*.safetensors")) or None
    return None  # a Hub id: let transformers prefer safetensors itself


def from_pretrained(location: str | Path, **kwargs):
    """``AutoModelForSequenceClassification.from_pretrained`` as Leanbench always calls it: no
    remote code, safetensors when there are any. Errors are the caller's to word."""
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(
        str(location),
        trust_remote_code=False,
        use_safetensors=has_safetensors(location),
        **kwargs,
    )
    model.eval()
    return model


def load_plain(directory: str | Path):
    """A classifier folder without a pruning record, in eval mode."""
    try:
        return from_pretrained(directory)
    except OSError as exc:
        raise UserError(f"Could not load the model in {directory}: {exc}") from None
    except ValueError as exc:
        raise UserError(
            f"'{directory}' cannot be used as a text classifier: {str(exc).splitlines()[0]}"
        ) from None


def save_pruned(model, directory: str | Path, tokenizer=None) -> Path:
    """Save a (possibly pruned) classifier so that ``load_pruned`` gives the same outputs."""
    directory = Path(directory)
    try:
        widths = layer_widths(model)
    except UserError:
        widths = None
    config = model.config
    pruned = widths is not None and not widths_are_full(model, widths)
    if pruned:
        setattr(config, PRUNED_KEY, widths)
    elif hasattr(config, PRUNED_KEY):
        delattr(config, PRUNED_KEY)
    # transformers may rename (even fuse) weights to a family's original checkpoint layout on
    # save (NomicBERT's q/k/v into one Wqkv) and undo it on load; ``load_pruned`` reads the file
    # as it is, so a pruned model keeps the names it has in memory.
    model.save_pretrained(directory, **({"save_original_format": False} if pruned else {}))
    if tokenizer is not None:
        tokenizer.save_pretrained(directory)
    return directory


def load_pruned(directory: str | Path):
    """Load what ``save_pruned`` wrote (or any classifier folder) in eval mode, on the CPU."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    directory = Path(directory)
    config = AutoConfig.from_pretrained(directory, trust_remote_code=False)
    widths = getattr(config, PRUNED_KEY, None)
    if not widths:
        return load_plain(directory)
    model = AutoModelForSequenceClassification.from_config(config)
    apply_widths(model, widths)
    state = read_state_dict(directory)
    missing, unexpected = model.load_state_dict(state, strict=False)
    buffers = {name for name, _ in model.named_buffers()}
    missing = [k for k in missing if k not in buffers]
    if missing or unexpected:
        raise UserError(
            f"the pruned model in {directory} does not match its record "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    model.eval()
    return model


def read_state_dict(directory: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    single = directory / "model.safetensors"
    if single.exists():
        return load_file(single)
    index = directory / "model.safetensors.index.json"
    if index.exists():
        files = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        state: dict[str, torch.Tensor] = {}
        for name in files:
            state.update(load_file(directory / name))
        return state
    raise UserError(f"{directory} has no model.safetensors")

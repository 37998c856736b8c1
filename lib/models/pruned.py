"""Saving and loading models whose layers were resized, and the disk cache of built variants.

A structurally pruned model has fewer heads and feed-forward neurons in some layers than its
config says, so plain ``save_pretrained`` + ``from_pretrained`` fails on a size mismatch. We
record the kept widths in the config (``config.leanbench_pruned = {"heads": [...],
"intermediate": [...]}``, one entry per layer); ``load_pruned`` builds the model from its config,
re-applies those widths, then loads the weights. A model without the record loads as usual.

The cache (``cache_entry`` / ``load_cached`` / ``store_cached``) keeps the result of slow steps
(recovery fine-tuning, distillation, student training) under the data folder, keyed by a
fingerprint of the incoming weights, the step's settings and the train split, so that the second
run of the same variant starts at once.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from lib.errors import UserError

PRUNED_KEY = "leanbench_pruned"
META_FILE = "leanbench.json"
CACHE_VERSION = 1


# ---------------------------------------------------------------- layer access
def encoder_layers(model) -> list:
    """The transformer layers of a BERT-family classifier (BERT, RoBERTa, ELECTRA, MiniLM...)."""
    base = getattr(model, "base_model", model)
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if layers is None or not len(layers):
        raise UserError(
            f"works on BERT-family models (an encoder with .layer blocks); "
            f"{type(model).__name__} has none"
        )
    layer = layers[0]
    needed = (
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "intermediate.dense",
        "output.dense",
    )
    for name in needed:
        obj = layer
        for part in name.split("."):
            obj = getattr(obj, part, None)
        if not isinstance(obj, torch.nn.Linear):
            raise UserError(
                f"works on BERT-family models with 32-bit Linear layers; {type(model).__name__} "
                f"has no Linear '{name}' in its layers (put int8 or half after this step)"
            )
    return list(layers)


def prune_layer(layer, keep_heads: list[int], keep_neurons: list[int]) -> None:
    """Keep only these attention heads and feed-forward neurons of one BERT layer, in place."""
    from transformers.pytorch_utils import prune_linear_layer

    att = layer.attention.self
    d = att.attention_head_size
    n_heads = att.num_attention_heads
    if len(keep_heads) < n_heads:
        idx = torch.cat([torch.arange(h * d, (h + 1) * d) for h in sorted(keep_heads)])
        idx = idx.to(att.query.weight.device)
        att.query = prune_linear_layer(att.query, idx, dim=0)
        att.key = prune_linear_layer(att.key, idx, dim=0)
        att.value = prune_linear_layer(att.value, idx, dim=0)
        out = layer.attention.output
        out.dense = prune_linear_layer(out.dense, idx, dim=1)
        # BertSelfAttention.forward reshapes with (-1, attention_head_size), so the head count
        # follows the weights; these two attributes are kept true for anyone who reads them.
        att.num_attention_heads = len(keep_heads)
        att.all_head_size = len(keep_heads) * d
    width = layer.intermediate.dense.out_features
    if len(keep_neurons) < width:
        idx = torch.as_tensor(sorted(keep_neurons), dtype=torch.long)
        idx = idx.to(layer.intermediate.dense.weight.device)
        layer.intermediate.dense = prune_linear_layer(layer.intermediate.dense, idx, dim=0)
        layer.output.dense = prune_linear_layer(layer.output.dense, idx, dim=1)


def layer_widths(model) -> dict[str, list[int]]:
    """Heads and feed-forward width per layer, as they are now."""
    layers = encoder_layers(model)
    return {
        "heads": [int(layer.attention.self.num_attention_heads) for layer in layers],
        "intermediate": [int(layer.intermediate.dense.out_features) for layer in layers],
    }


def apply_widths(model, widths: dict[str, list[int]]) -> None:
    """Resize a freshly built model's layers to recorded widths (weights to be loaded after)."""
    layers = encoder_layers(model)
    heads, inter = widths.get("heads", []), widths.get("intermediate", [])
    if len(heads) != len(layers) or len(inter) != len(layers):
        raise UserError(
            f"the saved pruning record has {len(heads)} layers, the model has {len(layers)}"
        )
    for layer, h, n in zip(layers, heads, inter, strict=True):
        prune_layer(layer, list(range(int(h))), list(range(int(n))))


# ---------------------------------------------------------------- save / load
def save_pruned(model, directory: str | Path, tokenizer=None) -> Path:
    """Save a (possibly pruned) classifier so that ``load_pruned`` gives the same outputs."""
    directory = Path(directory)
    try:
        widths = layer_widths(model)
    except UserError:
        widths = None
    config = model.config
    full = (
        widths is not None
        and all(h == config.num_attention_heads for h in widths["heads"])
        and all(n == config.intermediate_size for n in widths["intermediate"])
    )
    if widths is not None and not full:
        setattr(config, PRUNED_KEY, widths)
    elif hasattr(config, PRUNED_KEY):
        delattr(config, PRUNED_KEY)
    model.save_pretrained(directory)
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
        from lib.models import load as models

        return models.load_classifier(str(directory))
    model = AutoModelForSequenceClassification.from_config(config)
    apply_widths(model, widths)
    state = _read_state_dict(directory)
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


def _read_state_dict(directory: Path) -> dict[str, torch.Tensor]:
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


# ---------------------------------------------------------------- cache
def model_fingerprint(model) -> str:
    """Changes whenever any weight changes; about 0.2 s for a MiniLM-sized model."""
    h = hashlib.blake2b(digest_size=16)
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def cache_entry(cache_dir: str | Path | None, kind: str, payload: dict[str, Any]) -> Path | None:
    """The cache folder for one built result, or None when caching is off."""
    if cache_dir is None:
        return None
    key = hashlib.sha256(
        json.dumps({**payload, "kind": kind, "v": CACHE_VERSION}, sort_keys=True).encode()
    ).hexdigest()[:16]
    return Path(cache_dir) / f"{kind}-{key}"


def load_cached(entry: Path | None):
    """(model, meta) from a finished cache entry, or None."""
    if entry is None or not (entry / META_FILE).exists():
        return None
    meta = json.loads((entry / META_FILE).read_text())
    return load_pruned(entry), meta


def reuse_cached(entry: Path | None, ctx):
    """The model cached at ``entry`` on ``ctx.device``, with the notes it was built with copied
    into ``ctx.notes`` (plus ``cached: True``); None when there is none yet."""
    cached = load_cached(entry)
    if cached is None:
        return None
    model, meta = cached
    ctx.notes.update(meta.get("notes", {}))
    ctx.notes["cached"] = True
    return model.to(ctx.device)


def store_cached(model, entry: Path | None, meta: dict[str, Any], tokenizer=None) -> None:
    """Write to a temporary folder, then rename: a crash never leaves half an entry."""
    if entry is None:
        return
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = entry.with_name(entry.name + f".tmp-{int(time.time() * 1000)}")
    device = next(model.parameters()).device
    save_pruned(model.to("cpu"), tmp, tokenizer)
    model.to(device)
    (tmp / META_FILE).write_text(json.dumps({**meta, "torch": torch.__version__}, indent=2))
    if entry.exists():  # another process finished first; keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.rename(entry)

"""The disk cache of built variants: slow steps' results, reused on the next run.

``cache_entry`` / ``load_cached`` / ``store_cached`` keep the result of slow steps (recovery
fine-tuning, distillation, student training) under the data folder, keyed by a fingerprint of
the incoming weights, the step's settings and the train split, so that the second run of the
same variant starts at once.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from lib.models.checkpoint import load_pruned, save_pruned

META_FILE = "leanbench.json"
CACHE_VERSION = 1


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


def keep_build(model, entry: Path | None, ctx, step: str, notes: dict[str, Any], tokenizer=None):
    """A trained step's end: ``notes`` (with ``built_on``, the machine of ``ctx.machine``) go to
    ``ctx.notes`` and, with the model, to the cache entry, so a later run that reuses the entry
    reports the same seconds and the machine they were spent on."""
    machine = getattr(ctx, "machine", None)
    if machine:
        notes["built_on"] = dict(machine)
    ctx.notes.update(notes)
    store_cached(model, entry, {"step": step, "notes": notes}, tokenizer)
    return model


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

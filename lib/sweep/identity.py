"""What a model or data source holds, as a short hash: part of a planned run's idempotent key.

A built-in model or dataset is its name (the version is pinned by ``requirements-assets.txt``);
a Hugging Face id is the id; a local folder or file is the SHA-256 of its bytes (a folder: its
config, tokenizer and weight files), so editing a file re-measures the runs that read it and
moving it does not. Imports no torch.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from lib.spec import BUILTIN_DATASETS, BUILTIN_MODEL, RunSpec

_CHUNK = 1 << 20
# The files of a model folder that decide what it computes (optimizer states and the like not).
_MODEL_SUFFIXES = (".json", ".safetensors", ".bin", ".txt", ".model")


def source_identity(source: str) -> str:
    """``builtin:NAME``, ``file:SHA``, ``dir:SHA`` or ``hub:ID``."""
    if source == BUILTIN_MODEL or source in BUILTIN_DATASETS:
        return f"builtin:{source}"
    path = Path(source).expanduser()
    if path.is_file():
        return f"file:{file_digest(path)}"
    if path.is_dir():
        return f"dir:{folder_digest(path)}"
    return f"hub:{source}"


def is_local(source: str) -> bool:
    """A folder or file on this machine (not a built-in name, not a Hub id)."""
    if source == BUILTIN_MODEL or source in BUILTIN_DATASETS:
        return False
    return Path(source).expanduser().exists()


def run_identities(spec: RunSpec, cache: dict[str, str] | None = None) -> dict[str, str]:
    """The identities of a run's model and data (``cache`` saves hashing a file twice)."""
    cache = {} if cache is None else cache
    out = {}
    for what, source in (("model", spec.model.source), ("data", spec.dataset.source)):
        if source not in cache:
            cache[source] = source_identity(source)
        out[what] = cache[source]
    return out


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()[:16]


def folder_digest(path: Path) -> str:
    """The hash of a model folder's files that matter, by relative name and content."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _MODEL_SUFFIXES):
        h.update(str(f.relative_to(path)).encode() + b"\0" + file_digest(f).encode())
    return h.hexdigest()[:16]

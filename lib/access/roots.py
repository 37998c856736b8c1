"""Which local model folders Leanbench may read, and whether a pickle may be loaded.

Shared (``lib.access.network.is_shared``), a local folder must lie under one of the roots in
``LEANBENCH_MODEL_ROOTS`` (``os.pathsep``-separated), symlinks resolved on both sides, so a
visitor cannot point Leanbench at any path on the server. Not shared, any folder goes.

Weights as a pickle (``pytorch_model.bin``, ``*.pt``, ``*.pth``, ``*.ckpt``, ``*.pkl``) can run
code when loaded; a folder that has them and no safetensors is refused unless the user opts in
on their own machine (``LEANBENCH_ALLOW_PICKLE=1``), never when shared.
"""

from __future__ import annotations

import os
from pathlib import Path

from lib.access.network import is_shared, truthy
from lib.errors import UserError

ROOTS_ENV = "LEANBENCH_MODEL_ROOTS"
ALLOW_PICKLE_ENV = "LEANBENCH_ALLOW_PICKLE"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


def model_roots() -> list[Path]:
    """The configured roots, resolved (symlinks followed); empty when none is set."""
    text = os.environ.get(ROOTS_ENV, "")
    return [Path(p).expanduser().resolve() for p in text.split(os.pathsep) if p.strip()]


def check_root(folder: str | Path) -> None:
    """``UserError`` when shared and ``folder`` (resolved) lies under no configured root."""
    if not is_shared():
        return
    roots = model_roots()
    resolved = Path(folder).expanduser().resolve()
    if not roots:
        raise UserError(
            "Model folders on this server are off while Leanbench is shared: the operator "
            f"running it can allow some by setting {ROOTS_ENV} to their folders. Use the "
            "built-in model or a Hugging Face id."
        )
    if not any(resolved == r or resolved.is_relative_to(r) for r in roots):
        allowed = ", ".join(str(r) for r in roots)
        raise UserError(
            f"{folder} is outside the model folders this server allows ({allowed}). "
            f"Put the model under one of them ({ROOTS_ENV})."
        )


def allow_pickle() -> bool:
    """True when pickled weights may be loaded: opted in, and not shared."""
    return truthy(os.environ.get(ALLOW_PICKLE_ENV)) and not is_shared()


def pickle_files(folder: Path) -> list[str]:
    """The pickled weight files in ``folder`` (top level)."""
    return sorted(
        p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PICKLE_SUFFIXES
    )


def check_weights(folder: str | Path) -> None:
    """``UserError`` for a folder whose weights are only a pickle (no ``*.safetensors``), unless
    ``allow_pickle``."""
    folder = Path(folder)
    if not folder.is_dir() or any(folder.glob("*.safetensors")):
        return
    pickles = pickle_files(folder)
    if not pickles or allow_pickle():
        return
    how = (
        "Leanbench is shared, so pickles are never loaded"
        if is_shared()
        else f"on your own machine, set {ALLOW_PICKLE_ENV}=1 to load it anyway if you trust it"
    )
    raise UserError(
        f"{folder} holds its weights as a pickle ({', '.join(pickles)}), which can run code "
        "when loaded, and no model.safetensors. Convert it to safetensors (save_pretrained "
        f"writes them); {how}."
    )


def check_local_model(folder: str | Path) -> None:
    """Both checks for a local model folder: under a root (when shared), no pickle."""
    check_root(folder)
    check_weights(folder)

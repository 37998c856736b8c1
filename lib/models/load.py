"""Loading a model: the built-in one, a local Hugging Face folder, or a Hub id.

Never ``trust_remote_code``; safetensors preferred. Offline, a Hub id fails with a message that
names it and suggests a local folder. A structurally pruned folder is loaded by
``lib.models.checkpoint`` (which never imports this module).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from lib.errors import UserError
from lib.paths import asset_path
from lib.spec import BUILTIN_MODEL, ModelSpec

# Progress bars of weight loading would clutter the CLI's own bar and the worker logs.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


@dataclass
class ResolvedModel:
    """Where a model comes from, and an identity that changes when its weights change."""

    location: str  # a local folder, or a Hub id
    is_local: bool
    identity: str


def resolve(spec: ModelSpec) -> ResolvedModel:
    if spec.source == BUILTIN_MODEL:
        path = asset_path(BUILTIN_MODEL)
        return ResolvedModel(str(path), True, f"builtin:{BUILTIN_MODEL}:{_folder_identity(path)}")
    path = Path(spec.source).expanduser()
    if path.exists():
        _check_model_folder(path)
        return ResolvedModel(str(path.resolve()), True, f"dir:{_folder_identity(path)}")
    if _looks_like_path(spec.source):
        raise UserError(f"Model folder not found: {spec.source}. Check the path.")
    return ResolvedModel(spec.source, False, f"hub:{spec.source}")


def _looks_like_path(text: str) -> bool:
    return (
        text.startswith(("/", ".", "~"))
        or "\\" in text
        or text.count("/") > 1
        or os.path.splitdrive(text)[0] != ""
    )


def _check_model_folder(path: Path) -> None:
    if not path.is_dir():
        raise UserError(f"{path} is a file; a model is a folder in Hugging Face format.")
    if not (path / "config.json").exists():
        raise UserError(
            f"{path} is not a Hugging Face model folder (it has no config.json). "
            "Point at the folder that save_pretrained wrote."
        )
    if not any((path / f).exists() for f in _WEIGHT_FILES):
        raise UserError(f"{path} has a config.json but no weights (model.safetensors).")


def _folder_identity(path: Path) -> str:
    h = hashlib.sha256(str(path.resolve()).encode())
    for name in ("config.json", *_WEIGHT_FILES):
        f = path / name
        if f.exists():
            st = f.stat()
            h.update(f"{name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:12]


def _hub_error(source: str, exc: Exception) -> UserError:
    return UserError(
        f"Could not load '{source}' from the Hugging Face Hub ({type(exc).__name__}); "
        "with no network, download it where you have one and give Leanbench the local folder."
    )


def load_config(resolved: ResolvedModel):
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(resolved.location, trust_remote_code=False)
    except OSError as exc:
        if resolved.is_local:
            raise UserError(
                f"Could not read the model config in {resolved.location}: {exc}"
            ) from None
        raise _hub_error(resolved.location, exc) from None
    except ValueError as exc:
        raise UserError(
            f"'{resolved.location}' is not a model transformers can load: {exc}"
        ) from None


def load_tokenizer(location: str, is_local: bool = True):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(location, trust_remote_code=False)
    except OSError as exc:
        if is_local:
            raise UserError(f"No usable tokenizer in {location}: {exc}") from None
        raise _hub_error(location, exc) from None


def load_classifier(location: str, is_local: bool = True, **kwargs):
    """A sequence classifier; extra kwargs (num_labels, id2label...) go to from_pretrained."""
    from lib.models import checkpoint  # imports torch: not before a model is loaded

    if not kwargs and checkpoint.is_pruned_folder(location):
        # A structurally pruned model: its layers have their own widths (lib/models/checkpoint.py).
        return checkpoint.load_pruned(location)
    try:
        model = checkpoint.from_pretrained(location, **kwargs)
    except OSError as exc:
        if is_local:
            raise UserError(f"Could not load the model in {location}: {exc}") from None
        raise _hub_error(location, exc) from None
    except ValueError as exc:
        raise UserError(
            f"'{location}' cannot be used as a text classifier: {str(exc).splitlines()[0]}"
        ) from None
    return model


def head_matches(config, label_names: list[str]) -> bool:
    """True when the model already classifies into exactly these labels."""
    archs = getattr(config, "architectures", None) or []
    if not any(a.endswith("ForSequenceClassification") for a in archs):
        return False
    id2label = getattr(config, "id2label", {}) or {}
    names = [str(id2label.get(i, id2label.get(str(i), ""))).lower() for i in range(len(id2label))]
    return names == [n.lower() for n in label_names]

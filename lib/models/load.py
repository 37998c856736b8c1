"""Loading a model: the built-in one, a local Hugging Face folder, or a Hub id.

Never ``trust_remote_code``; safetensors preferred. Offline, a Hub id fails with a message that
names it and suggests a local folder. A structurally pruned folder is loaded by
``lib.models.checkpoint`` (which never imports this module). A sentence-transformers folder
(``modules.json``, ``1_Pooling/``) loads as the encoder it wraps, like any Hugging Face folder;
its pooling is left out, a classification head takes its place.

Whether a model's own head fits a dataset's labels is ``head_fit``: exactly (used as it is), by
name in another order (its outputs are reordered, no training), or not (a head is adapted).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from lib.access import roots
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
    if path.exists() or _looks_like_path(spec.source):
        roots.check_root(path)  # shared: only under LEANBENCH_MODEL_ROOTS (issue 17)
    if path.exists():
        path = encoder_folder(path)
        _check_model_folder(path)
        roots.check_local_model(path)  # the encoder folder too; no pickle-only weights
        return ResolvedModel(str(path.resolve()), True, f"dir:{_folder_identity(path)}")
    if _looks_like_path(spec.source):
        raise UserError(f"Model folder not found: {spec.source}. Check the path.")
    return ResolvedModel(spec.source, False, f"hub:{spec.source}")


def encoder_folder(path: Path) -> Path:
    """The Hugging Face model inside a sentence-transformers folder: ``modules.json`` names the
    Transformer module's folder (the top folder itself in recent versions, ``0_Transformer/`` in
    older ones). Any other folder is returned as it is."""
    modules = path / "modules.json"
    if not path.is_dir() or not modules.is_file():
        return path
    try:
        entries = json.loads(modules.read_text())
    except (OSError, ValueError):
        return path
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and str(entry.get("type", "")).endswith("models.Transformer"):
            folder = path / str(entry.get("path") or "")
            if (folder / "config.json").exists():
                return folder
    return path


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


def _head_names(config) -> list[str] | None:
    """The labels of the model's classification head in output order; None without a head."""
    archs = getattr(config, "architectures", None) or []
    if not any(a.endswith("ForSequenceClassification") for a in archs):
        return None
    id2label = getattr(config, "id2label", {}) or {}
    return [str(id2label.get(i, id2label.get(str(i), ""))) for i in range(len(id2label))]


def head_matches(config, label_names: list[str]) -> bool:
    """True when the model already classifies into exactly these labels."""
    names = _head_names(config)
    return names is not None and [n.lower() for n in names] == [n.lower() for n in label_names]


@dataclass(frozen=True)
class HeadFit:
    """How a model's head meets a dataset's labels."""

    kind: str  # "fits" (used as it is), "by-name" (outputs reordered) or "adapt" (a new head)
    sentence: str  # what the Model & data page shows
    order: list[int] | None = None  # by-name: the model's output index of each dataset label


def _normal(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", name.casefold())


def _same_label(a: str, b: str) -> bool:
    """ "POSITIVE" is "pos", "Neg." is "negative": equal, or one a prefix (3+ letters) of the
    other, once case and punctuation are left out."""
    a, b = _normal(a), _normal(b)
    if not a or not b:
        return False
    short, long = sorted((a, b), key=len)
    return a == b or (len(short) >= 3 and long.startswith(short))


def label_order(head: list[str], labels: list[str]) -> list[int] | None:
    """For each dataset label, the index of the head's label with the same name; None unless
    the names pair up one to one."""
    if len(head) != len(labels):
        return None
    order = []
    for label in labels:
        matches = [i for i, name in enumerate(head) if _same_label(name, label)]
        if len(matches) != 1:
            return None
        order.append(matches[0])
    return order if len(set(order)) == len(order) else None


def head_fit(config, label_names: list[str]) -> HeadFit:
    """Whether the model's own head can classify into ``label_names``, and how."""
    labels = ", ".join(label_names[:8])
    names = _head_names(config)
    if not names:
        return HeadFit("adapt", "no classification head yet: one is fine-tuned on your data")
    shown = ", ".join(names[:8])
    if head_matches(config, label_names):
        return HeadFit("fits", f"its head already classifies into your labels ({labels})")
    order = label_order(names, label_names)
    if order is not None:
        pairs = ", ".join(f"{names[i]} = {n}" for i, n in zip(order, label_names, strict=True))
        return HeadFit(
            "by-name",
            f"its head's labels match yours by name ({pairs}): it is used without training, "
            "its outputs put in your labels' order",
            order,
        )
    return HeadFit(
        "adapt",
        f"its head classifies into {shown}, not your labels ({labels}): "
        "a new head is fine-tuned on your data",
    )


def relabel_head(model, order: list[int], label_names: list[str]):
    """Reorder the classifier's outputs so that output ``i`` is ``label_names[i]`` (``order``
    from ``head_fit``), in place; the model's labels become the dataset's."""
    import torch

    num_labels = int(model.config.num_labels)
    base = getattr(model, "base_model", None)
    inside = {id(m) for m in base.modules()} if base is not None and base is not model else set()
    outputs = [
        m
        for m in model.modules()
        if isinstance(m, torch.nn.Linear) and m.out_features == num_labels and id(m) not in inside
    ]
    if not outputs:
        raise UserError(f"found no output layer of {num_labels} labels in {type(model).__name__}")
    head = outputs[-1]  # the last one the head applies
    index = torch.as_tensor(order, dtype=torch.long, device=head.weight.device)
    with torch.no_grad():
        head.weight.copy_(head.weight[index])
        if head.bias is not None:
            head.bias.copy_(head.bias[index])
    model.config.id2label = dict(enumerate(label_names))
    model.config.label2id = {n: i for i, n in enumerate(label_names)}
    return model

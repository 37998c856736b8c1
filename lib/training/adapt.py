"""The adapted baseline: a model whose head fits the dataset's labels, cached on disk.

A model whose head already matches is used as it is. One whose head has the dataset's labels by
name, in another order or spelling (``POSITIVE`` for ``pos``), is used without training: its
outputs are put in the dataset's order (``lib.models.load.head_fit``). Otherwise the encoder plus
a new classification head is fine-tuned on the train split. The result is saved under the data
folder, keyed by model, dataset and settings, so the second run starts at once.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, field

import torch

from lib.datasets import LabelledText
from lib.models import load as models
from lib.models.checkpoint import save_pruned
from lib.paths import user_dir
from lib.spec import AdaptSpec, DatasetSpec, ModelSpec
from lib.training.loop import Progress, train


@dataclass
class Baseline:
    """The adapted baseline on disk."""

    path: str
    adapted: bool  # False when the model's own head was used
    cached: bool  # True when it came from the cache
    train_seconds: float
    train_steps: int
    head: str = ""  # how the model's head met the labels (lib.models.load.head_fit's sentence)
    # the machine the head was trained on (lib.measure.environment.machine_facts); a cached
    # baseline keeps the one of the run that trained it. Empty when nothing was trained.
    built_on: dict = field(default_factory=dict)


def cache_key(
    resolved: models.ResolvedModel, dataset: DatasetSpec, train_fp: str, adapt: AdaptSpec
) -> str:
    payload = json.dumps(
        {
            "model": resolved.identity,
            "data": dataset.source,
            "train": train_fp,
            "adapt": asdict(adapt),
            "v": 1,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def prepare_baseline(
    model_spec: ModelSpec,
    dataset_spec: DatasetSpec,
    train_data: LabelledText,
    adapt: AdaptSpec,
    progress: Progress | None = None,
    device: str = "cpu",
    built_on: dict | None = None,
) -> Baseline:
    resolved = models.resolve(model_spec)
    config = models.load_config(resolved)
    fit = models.head_fit(config, train_data.label_names)
    if fit.kind == "fits":
        return Baseline(resolved.location, False, True, 0.0, 0, fit.sentence)

    if fit.kind == "by-name" and fit.order is not None:
        return _relabelled(resolved, train_data.label_names, fit)

    key = cache_key(resolved, dataset_spec, train_data.fingerprint(), adapt)
    target = user_dir() / "models" / f"adapted-{key}"
    meta_file = target / "leanbench.json"
    if meta_file.exists():
        meta = json.loads(meta_file.read_text())
        seconds, steps = meta["train_seconds"], meta["train_steps"]
        where = dict(meta.get("built_on") or {})
        return Baseline(str(target), True, True, seconds, steps, fit.sentence, where)

    n = len(train_data.label_names)
    tokenizer = models.load_tokenizer(resolved.location, resolved.is_local)
    model = models.load_classifier(
        resolved.location,
        resolved.is_local,
        num_labels=n,
        id2label=dict(enumerate(train_data.label_names)),
        label2id={name: i for i, name in enumerate(train_data.label_names)},
        ignore_mismatched_sizes=True,
    ).to(device)
    report = train(
        model,
        tokenizer,
        train_data,
        epochs=adapt.epochs,
        batch_size=adapt.batch_size,
        max_length=adapt.max_length,
        learning_rate=adapt.learning_rate,
        seed=dataset_spec.seed,
        progress=progress,
        device=device,
    )
    # Write to a temporary folder and rename, so a crash never leaves a half-written cache entry.
    tmp = target.with_name(target.name + f".tmp-{int(time.time() * 1000)}")
    model.to("cpu").save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    meta = {
        "model": model_spec.source,
        "dataset": dataset_spec.source,
        "adapt": asdict(adapt),
        "train_seconds": report.seconds,
        "train_steps": report.steps,
        "final_loss": report.final_loss,
        "labels": train_data.label_names,
        "torch": torch.__version__,
        "built_on": dict(built_on or {}),
    }
    _publish(tmp, target, meta)
    return Baseline(
        str(target), True, False, report.seconds, report.steps, fit.sentence, dict(built_on or {})
    )


def _relabelled(resolved: models.ResolvedModel, labels: list[str], fit) -> Baseline:
    """The model with its outputs in the dataset's label order: no training, cached like an
    adapted baseline so that every variant loads the same folder."""
    payload = json.dumps({"model": resolved.identity, "labels": labels, "v": 1}, sort_keys=True)
    key = hashlib.sha256(payload.encode()).hexdigest()[:16]
    target = user_dir() / "models" / f"relabelled-{key}"
    if (target / "leanbench.json").exists():
        return Baseline(str(target), False, True, 0.0, 0, fit.sentence)
    model = models.load_classifier(resolved.location, resolved.is_local)
    models.relabel_head(model, fit.order, labels)
    tokenizer = models.load_tokenizer(resolved.location, resolved.is_local)
    tmp = target.with_name(target.name + f".tmp-{int(time.time() * 1000)}")
    save_pruned(model, tmp, tokenizer)  # a pruned model keeps its record
    meta = {"model": resolved.identity, "labels": labels, "order": fit.order, "head": fit.sentence}
    _publish(tmp, target, {**meta, "torch": torch.__version__})
    return Baseline(str(target), False, False, 0.0, 0, fit.sentence)


def _publish(tmp, target, meta: dict) -> None:
    """Write the meta file last and rename: a crash never leaves a half-written cache entry."""
    (tmp / "leanbench.json").write_text(json.dumps(meta, indent=2))
    if target.exists():  # another process finished first; keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.rename(target)

"""The learning curve's training: how accuracy grows with the number of labelled examples.

``nested_subsets`` draws subsets of the train split that are **nested** (each size contains the
smaller ones, for a given seed) and **stratified** (each keeps the train split's class shares to
within one example per class). ``train_points`` fine-tunes a new head on each subset exactly as
adaptation does (``lib.training.adapt``: the encoder plus a fresh classification head, AdamW with
warm-up), predicts the eval split and keeps the point's predictions, seconds and steps; every
point is cached as a small JSON file under the data folder (``curves/points/``), keyed by the
model, the subset's examples (so its size and seed), the eval examples and the settings, so a
second curve with the same settings trains nothing.

Small subsets need two things the adaptation of a 4,000-example split does not:

- **a head that starts from the data** (``head_init="probe"``, the default): the new head is first
  fitted as a logistic regression on the frozen model's features of the subset (the inputs of its
  last linear layer), then the whole model is fine-tuned from there: linear probing, then fine-
  tuning (Kumar et al. 2022, "Fine-Tuning can Distort Pretrained Features and Underperform
  Out-of-Distribution"). From a random head, the adaptation's 20 to 32 steps at 5e-5 moved
  nothing: on rotten-tomatoes every subset of 50 to 500 labels stayed at the majority class's
  57.8% (measured 2026-12-02, README "Time to value");
- **enough steps**: each point trains at least ``min_steps`` steps (more epochs over the same
  examples: a subset of 50 is 4 batches) and at least ``epochs`` epochs, whichever is more.

Both are in each point's cache key. Intervals, the labels needed and the cost of each point are
computed above this layer (``lib.results.curve``).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from lib.datasets import LabelledText
from lib.errors import UserError
from lib.paths import user_dir
from lib.spec import AdaptSpec
from lib.training.loop import RECIPE, teacher_logits, tokenize

DEFAULT_SIZES = (50, 100, 250, 500, 1000, 2000, 4000)
DEFAULT_SEEDS = 3
# Sizes at or below this are trained once per seed; larger ones once (seed 0): their accuracy
# varies less from one draw of examples to another, and they cost the most to train.
MULTI_SEED_UP_TO = 500
MIN_STEPS = 20
EVAL_MAX_LENGTH = 128  # the runner's default sequence length, where a run's accuracy is measured
POINT_VERSION = 1
HEAD_INITS = ("probe", "random")

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class CurveSettings:
    """How every point is trained and evaluated; all of it is part of each point's cache key."""

    adapt: AdaptSpec = field(default_factory=AdaptSpec)
    min_steps: int = MIN_STEPS
    group_by_length: bool = True  # batches of similar length: same examples, less padding
    eval_max_length: int = EVAL_MAX_LENGTH
    eval_batch_size: int = 64
    head_init: str = "probe"  # "probe": a logistic regression on frozen features first; "random"

    def __post_init__(self) -> None:
        if self.head_init not in HEAD_INITS:
            raise UserError(f"head_init must be probe or random (got {self.head_init!r}).")
        if self.min_steps < 1:
            raise UserError(f"min_steps must be at least 1 (got {self.min_steps}).")
        if not 2 <= self.eval_max_length <= 512:
            raise UserError(
                f"eval max length must be 2 to 512 tokens (got {self.eval_max_length})."
            )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "adapt": asdict(self.adapt)}

    def epochs_for(self, n: int) -> float:
        """At least ``adapt.epochs`` epochs and at least ``min_steps`` steps over ``n`` examples."""
        return max(self.adapt.epochs, self.min_steps * self.adapt.batch_size / max(1, n))


@dataclass
class Point:
    """One trained point of the curve: ``n_labels`` examples drawn with ``seed``."""

    n_labels: int
    seed: int
    correct: int
    n_eval: int
    seconds: float  # the fine-tuning, as measured when it was trained (kept through the cache)
    steps: int
    epochs: float
    final_loss: float
    cached: bool  # True: read from the cache, nothing trained in this call
    predictions: list[int]
    trained_on: dict[str, Any]  # where it was trained (the environment given then)
    key: str = ""

    @property
    def accuracy(self) -> float:
        return self.correct / self.n_eval if self.n_eval else math.nan


def plan(sizes: Sequence[int], seeds: int, multi_seed_up_to: int = MULTI_SEED_UP_TO) -> list:
    """The (size, seed) pairs to train, smallest size first: every seed at the small sizes."""
    if seeds < 1:
        raise UserError(f"--seeds must be at least 1 (got {seeds}).")
    out = []
    for n in sorted(set(sizes)):
        for s in range(seeds if n <= multi_seed_up_to else 1):
            out.append((n, s))
    return out


def check_sizes(sizes: Sequence[int], pool: int, n_classes: int) -> tuple[list[int], list[str]]:
    """The sizes that fit a train split of ``pool`` examples, and notes on those left out.

    A UserError when even the smallest does not fit, or a size is below the number of classes."""
    if not sizes:
        raise UserError("Give at least one subset size, e.g. --sizes 50,100,250.")
    bad = [n for n in sizes if not isinstance(n, int) or isinstance(n, bool) or n < 1]
    if bad:
        raise UserError(f"Subset sizes must be whole numbers above 0 (got {bad[0]!r}).")
    wanted = sorted(set(sizes))
    if wanted[0] < n_classes:
        raise UserError(
            f"The smallest subset ({wanted[0]} examples) is smaller than the number of classes "
            f"({n_classes}): each class needs at least one labelled example. Start at "
            f"{n_classes} or more."
        )
    if wanted[0] > pool:
        raise UserError(
            f"The dataset's train split has {pool:,} examples, fewer than the smallest subset "
            f"({wanted[0]:,}): use smaller sizes (e.g. --sizes {_smaller_sizes(pool)}) or a "
            "dataset with more labelled rows."
        )
    kept = [n for n in wanted if n <= pool]
    notes = []
    if len(kept) < len(wanted):
        left = ", ".join(f"{n:,}" for n in wanted if n > pool)
        notes.append(
            f"Sizes {left} are larger than the train split ({pool:,} examples) and were left out."
        )
    return kept, notes


def _smaller_sizes(pool: int) -> str:
    picks = [n for n in (10, 25, 50, 100, 250, 500, 1000) if n <= pool] or [pool]
    return ",".join(str(n) for n in picks[-4:])


def nested_subsets(labels: np.ndarray, sizes: Sequence[int], seed: int) -> dict[int, np.ndarray]:
    """Indices into ``labels`` for each size: nested and stratified.

    Each class's examples are shuffled once with ``seed``; a subset takes the first ``k_c`` of
    each class. Sizes are filled smallest first, each adding examples one at a time to the class
    furthest below its share (``share_c x n - k_c``), so a larger subset only ever adds examples
    (nested) and every class stays within one example of its share (stratified)."""
    labels = np.asarray(labels)
    n_classes = int(labels.max()) + 1 if labels.size else 0
    rng = np.random.default_rng(seed)
    pools = []
    for c in range(n_classes):
        idx = np.flatnonzero(labels == c)
        pools.append(idx[rng.permutation(len(idx))])
    capacity = np.array([len(p) for p in pools], dtype=float)
    share = capacity / max(1.0, capacity.sum())
    taken = np.zeros(n_classes, dtype=int)
    out: dict[int, np.ndarray] = {}
    for n in sorted(set(int(s) for s in sizes)):
        if n > labels.size:
            raise UserError(f"A subset of {n:,} is larger than the {labels.size:,} examples.")
        while taken.sum() < n:
            deficit = share * n - taken
            deficit[taken >= capacity] = -np.inf
            taken[int(np.argmax(deficit))] += 1
        out[n] = np.sort(np.concatenate([p[:k] for p, k in zip(pools, taken, strict=True)]))
    return out


def point_key(
    model_identity: str, subset: LabelledText, evals: LabelledText, settings: CurveSettings, seed
) -> str:
    """The cache key of one point: model, the subset's examples, the eval examples, settings."""
    payload = json.dumps(
        {
            "model": model_identity,
            "train": subset.fingerprint(),
            "eval": evals.fingerprint(),
            "settings": settings.to_dict(),
            "seed": seed,
            "recipe": RECIPE,
            "v": POINT_VERSION,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def points_dir():
    return user_dir() / "curves" / "points"


def _read_point(key: str) -> dict | None:
    path = points_dir() / f"{key}.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # a damaged entry is trained again


def _write_point(key: str, record: dict) -> None:
    folder = points_dir()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{key}.json.tmp-{time.time_ns()}"
    tmp.write_text(json.dumps(record))
    tmp.replace(folder / f"{key}.json")  # atomic: never half an entry


def _final_linear(model, num_labels: int):
    """The layer that writes the logits: the last linear layer with ``num_labels`` outputs
    (``classifier`` in BERT, ``classifier.out_proj`` in RoBERTa)."""
    import torch

    found = None
    for module in model.modules():
        if isinstance(module, torch.nn.Linear) and module.out_features == num_labels:
            found = module
    if found is None:
        raise UserError("The model has no linear layer writing its logits: cannot fit its head.")
    return found


def probe_head(
    model, tokenizer, data: LabelledText, max_length: int, device: str, batch_size: int = 64
) -> float:
    """Fit the new head as an L2-regularised logistic regression (L-BFGS, sklearn's default
    strength: the mean cross-entropy plus ||W||^2 / 2n) on the standardised inputs of the
    model's last linear layer, the rest of the model frozen and in eval mode; returns the
    seconds it took."""
    import torch
    import torch.nn.functional as F

    start = time.perf_counter()
    n_labels = len(data.label_names)
    head = _final_linear(model, n_labels)
    feats: list = []
    hook = head.register_forward_hook(lambda m, inp, out: feats.append(inp[0].detach().float()))
    order = np.argsort([len(t) for t in data.texts], kind="stable")
    model.eval()
    try:
        with torch.no_grad():
            for s in range(0, len(order), batch_size):
                idx = order[s : s + batch_size]
                model(**tokenize(tokenizer, data, idx, max_length, device))
    finally:
        hook.remove()
    x = torch.empty(len(data), feats[0].shape[-1])
    x[torch.as_tensor(order)] = torch.cat(feats).cpu()
    y = torch.as_tensor(data.labels)
    mu, sd = x.mean(0), x.std(0).clamp_min(1e-6)
    x = (x - mu) / sd  # standardised: the regularisation weighs every feature alike
    w = torch.zeros(n_labels, x.shape[1], requires_grad=True)
    b = torch.zeros(n_labels, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(x @ w.T + b, y) + (w * w).sum() / (2 * len(data))
        loss.backward()
        return loss

    opt.step(closure)
    with (
        torch.no_grad()
    ):  # the standardisation folded into the head: x @ (w / sd).T + b - (w / sd) @ mu
        weight = w.detach() / sd
        head.weight.copy_(weight.to(head.weight.dtype))
        if head.bias is not None:
            head.bias.copy_((b.detach() - weight @ mu).to(head.bias.dtype))
    return time.perf_counter() - start


def predict(model, tokenizer, data: LabelledText, max_length: int, batch_size: int, device: str):
    """Predicted class per text (the model's logits in length-sorted batches, as for a teacher)."""
    logits = teacher_logits(
        model, tokenizer, data, max_length=max_length, batch_size=batch_size, device=device
    )
    return logits.argmax(-1).numpy().astype(np.int64)


def _scaled(progress: Progress, start: float, share: float, n: int, seed: int) -> Progress:
    """One point's training progress as a share of the whole curve's."""

    def report(f: float, message: str) -> None:
        progress(start + f * share, f"{n:,} labels (seed {seed}): {message}")

    return report


def train_points(
    location: str,
    is_local: bool,
    model_identity: str,
    train: LabelledText,
    evals: LabelledText,
    sizes: Sequence[int],
    seeds: int = DEFAULT_SEEDS,
    settings: CurveSettings | None = None,
    *,
    multi_seed_up_to: int = MULTI_SEED_UP_TO,
    environment: dict[str, Any] | None = None,
    progress: Progress | None = None,
    device: str = "cpu",
) -> list[Point]:
    """Train (or read from the cache) every point of the curve; smallest first.

    ``location``/``is_local``/``model_identity``: the resolved model (``lib.models.load``);
    ``environment``: where this call runs, stored with each point it trains."""
    import torch

    from lib.models import load as models
    from lib.training.loop import train as fine_tune

    settings = settings or CurveSettings()
    pairs = plan(sizes, seeds, multi_seed_up_to)
    chains = {s: nested_subsets(train.labels, sorted(set(sizes)), s) for _, s in pairs}
    total_work = sum(settings.epochs_for(n) * n for n, _ in pairs) or 1.0
    done_work = 0.0
    tokenizer = None
    out: list[Point] = []
    for n, seed in pairs:
        idx = chains[seed][n]
        subset = train.subset(idx)
        work = settings.epochs_for(n) * n
        key = point_key(model_identity, subset, evals, settings, seed)
        record = _read_point(key)
        cached = record is not None
        if record is None:
            if progress:
                progress(done_work / total_work, f"training on {n:,} labels (seed {seed})")
            if tokenizer is None:
                tokenizer = models.load_tokenizer(location, is_local)
            names = train.label_names
            torch.manual_seed(seed)  # the new head's random start, the same every time
            model = models.load_classifier(
                location,
                is_local,
                num_labels=len(names),
                id2label=dict(enumerate(names)),
                label2id={name: i for i, name in enumerate(names)},
                ignore_mismatched_sizes=True,
            ).to(device)
            epochs = settings.epochs_for(n)
            probe_s = 0.0
            if settings.head_init == "probe":
                if progress:
                    progress(
                        done_work / total_work, f"{n:,} labels (seed {seed}): fitting the head"
                    )
                probe_s = probe_head(model, tokenizer, subset, settings.adapt.max_length, device)
            step_progress = None
            if progress is not None:
                step_progress = _scaled(
                    progress, done_work / total_work, work / total_work, n, seed
                )
            report = fine_tune(
                model,
                tokenizer,
                subset,
                epochs=epochs,
                batch_size=settings.adapt.batch_size,
                max_length=settings.adapt.max_length,
                learning_rate=settings.adapt.learning_rate,
                seed=seed,
                device=device,
                group_by_length=settings.group_by_length,
                progress=step_progress,
            )
            preds = predict(
                model,
                tokenizer,
                evals,
                settings.eval_max_length,
                settings.eval_batch_size,
                device,
            )
            record = {
                "n_labels": n,
                "seed": seed,
                "correct": int(np.sum(preds == evals.labels)),
                "n_eval": len(evals),
                "seconds": report.seconds + probe_s,
                "probe_seconds": probe_s,
                "steps": report.steps,
                "epochs": epochs,
                "final_loss": report.final_loss,
                "predictions": preds.tolist(),
                "trained_on": environment or {},
                "settings": settings.to_dict(),
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            _write_point(key, record)
            del model
        done_work += work
        point = Point(
            n_labels=int(record["n_labels"]),
            seed=int(record["seed"]),
            correct=int(record["correct"]),
            n_eval=int(record["n_eval"]),
            seconds=float(record["seconds"]),
            steps=int(record["steps"]),
            epochs=float(record["epochs"]),
            final_loss=float(record["final_loss"]),
            cached=cached,
            predictions=list(record["predictions"]),
            trained_on=dict(record.get("trained_on") or {}),
            key=key,
        )
        out.append(point)
        if progress:
            progress(done_work / total_work, f"{n:,} labels (seed {seed}): {point.accuracy:.1%}")
    return out

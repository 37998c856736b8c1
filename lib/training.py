"""A small, time-bounded fine-tuning loop shared by adaptation, recovery and distillation."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from lib.datasets import LabelledText

# loss_fn(model, batch, labels) -> scalar loss; the default is plain cross-entropy.
LossFn = Callable[[torch.nn.Module, dict, torch.Tensor], torch.Tensor]
Progress = Callable[[float, str], None]


@dataclass
class TrainReport:
    steps: int
    seconds: float
    final_loss: float
    losses: list[float]
    stopped_early: bool  # the time budget ran out


def cross_entropy(model: torch.nn.Module, batch: dict, labels: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(model(**batch).logits, labels)


def train(
    model: torch.nn.Module,
    tokenizer,
    data: LabelledText,
    *,
    epochs: float = 1.0,
    max_steps: int | None = None,
    batch_size: int = 16,
    max_length: int = 64,
    learning_rate: float = 5e-5,
    seed: int = 0,
    loss_fn: LossFn = cross_entropy,
    time_budget_s: float | None = None,
    progress: Progress | None = None,
    device: str = "cpu",
) -> TrainReport:
    """AdamW with linear warm-up and decay. Stops at ``max_steps``, after ``epochs``, or when the
    time budget runs out, whichever comes first."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    steps_per_epoch = math.ceil(len(data) / batch_size)
    total = max(1, int(math.ceil(steps_per_epoch * epochs)))
    if max_steps is not None:
        total = min(total, max_steps)
    opt = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    warmup = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    model.train()
    losses: list[float] = []
    start = time.perf_counter()
    order: np.ndarray = np.array([], dtype=int)
    stopped_early = False
    step = 0
    for step in range(total):
        if len(order) < batch_size:
            order = np.concatenate([order, rng.permutation(len(data))])
        idx, order = order[:batch_size], order[batch_size:]
        batch = tokenizer(
            [data.texts[i] for i in idx],
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        ).to(device)
        labels = torch.as_tensor(data.labels[idx], device=device)
        loss = loss_fn(model, dict(batch), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        elapsed = time.perf_counter() - start
        if progress and (step % 5 == 0 or step == total - 1):
            progress(
                (step + 1) / total, f"step {step + 1}/{total}, loss {np.mean(losses[-20:]):.3f}"
            )
        if time_budget_s is not None and elapsed > time_budget_s and step < total - 1:
            stopped_early = True
            break
    model.eval()
    return TrainReport(
        steps=step + 1,
        seconds=time.perf_counter() - start,
        final_loss=float(np.mean(losses[-20:])) if losses else float("nan"),
        losses=losses,
        stopped_early=stopped_early,
    )


def distillation_loss(
    teacher: torch.nn.Module, *, temperature: float = 2.0, alpha: float = 0.5
) -> LossFn:
    """Knowledge distillation (Hinton et al. 2015): ``alpha`` x KL between the teacher's and the
    student's softened outputs at ``temperature`` (scaled by T^2 so its gradients keep their size)
    plus ``1 - alpha`` x cross-entropy on the hard labels. The teacher runs frozen, in eval mode,
    on the same batch; it must take the same inputs (same tokenizer) as the student."""
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)

    def loss_fn(model: torch.nn.Module, batch: dict, labels: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = teacher(**batch).logits.float()
        logits = model(**batch).logits.float()
        t = temperature
        soft = F.kl_div(
            F.log_softmax(logits / t, dim=-1), F.softmax(target / t, dim=-1), reduction="batchmean"
        ) * (t * t)
        hard = F.cross_entropy(logits, labels)
        return alpha * soft + (1 - alpha) * hard

    return loss_fn

"""Plain PyTorch eager: the model runs layer by layer as written, under ``inference_mode``."""

from __future__ import annotations

import torch

from lib.runtimes.configs import ServingContext
from lib.runtimes.registry import Predictor


def prepare(model, ctx: ServingContext, example_batches=None) -> Predictor:
    device = ctx.device

    def run(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        with torch.inference_mode():
            out = model(**{k: v.to(device) for k, v in batch.items()}).logits
        return out.float()

    return Predictor(run, "eager")

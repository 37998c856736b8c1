"""Precision changes: the fp32 baseline and half precision (descriptions in ``configs``)."""

from __future__ import annotations

import torch

from lib.errors import UserError
from lib.techniques.context import BuildContext


def apply_fp32(model, param, ctx: BuildContext):
    return model.float()


def apply_half(model, param, ctx: BuildContext):
    if ctx.precision == "int8":
        raise UserError("half after int8 is not supported; put half before int8 or leave one out")
    # fp16 on a CPU runs 3-4x slower than fp32 (no fast kernels); bf16 is the CPU's half.
    dtype = torch.float16 if ctx.device in ("cuda", "mps") else torch.bfloat16
    ctx.precision = "fp16" if dtype == torch.float16 else "bf16"
    return model.to(dtype)

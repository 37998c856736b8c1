"""Precision changes: the fp32 baseline and half precision."""

from __future__ import annotations

import torch

from lib.errors import UserError
from lib.techniques import BuildContext, Technique, register


def _fp32(model, param, ctx: BuildContext):
    return model.float()


def _half(model, param, ctx: BuildContext):
    if ctx.precision == "int8":
        raise UserError("half after int8 is not supported; put half before int8 or leave one out")
    # fp16 on a CPU runs 3-4x slower than fp32 (no fast kernels); bf16 is the CPU's half.
    dtype = torch.float16 if ctx.device in ("cuda", "mps") else torch.bfloat16
    ctx.precision = "fp16" if dtype == torch.float16 else "bf16"
    return model.to(dtype)


register(
    Technique(
        name="fp32",
        summary="The model as trained: every weight a 32-bit float. The baseline every other "
        "variant is compared with.",
        apply=_fp32,
        when_it_helps="Always measured, as the reference.",
    )
)
register(
    Technique(
        name="half",
        summary="Stores and computes with 16-bit numbers instead of 32-bit: half the memory, and "
        "faster where the chip has 16-bit units (bfloat16 on a CPU, float16 on a GPU).",
        apply=_half,
        when_it_helps="GPUs (fp16 tensor cores) and CPUs with AVX512-BF16 or AMX; "
        "usually costs almost no accuracy.",
    )
)

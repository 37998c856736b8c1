"""Compiled PyTorch: ``torch.compile`` with one static graph per measured shape.

- CPU: Inductor with ``freezing`` (weights folded into the graph as constants, which lets it
  pre-pack them for oneDNN); freezing applies only under ``no_grad``, so every call runs in it.
  Plain compile without freezing was slower than eager on the 2-core dev machines.
- CUDA: ``mode="reduce-overhead"`` (CUDA graphs): at batch 1 the GPU is launch bound, and
  replaying a recorded graph removes almost all of that cost.

Shapes are static (``dynamic=False``): each measured shape is compiled and warmed during
``prepare``, and that time is reported as ``compile_seconds``, apart from latency. The accuracy
pass tokenizes with dynamic padding; rather than compiling a graph for every batch it sees, the
predictor pads each batch up to the smallest compiled shape that holds it (padded positions are
masked out, padded rows are dropped) and splits batches larger than the largest one. So accuracy
is measured on exactly the graphs that are timed, and no compilation happens after ``prepare``.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from lib.errors import UserError
from lib.runtimes.configs import ServingContext
from lib.runtimes.registry import Predictor


def _compile(model, device: str):
    if device == "cuda":
        return torch.compile(model, mode="reduce-overhead", dynamic=False), "reduce-overhead"
    return torch.compile(model, options={"freezing": True}, dynamic=False), "freezing"


def _is_torch_quantized(model) -> bool:
    return any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in model.modules())


def pad_to(batch: dict[str, torch.Tensor], rows: int, length: int, pad_id: int = 0):
    """``batch`` padded with masked positions to ``length`` and with blank rows to ``rows``."""
    out = {}
    b, s = batch["input_ids"].shape
    for name, value in batch.items():
        fill = pad_id if name == "input_ids" else 0
        padded = value.new_full((rows, length), fill)
        padded[:b, :s] = value
        out[name] = padded
    if "attention_mask" in out and rows > b:
        out["attention_mask"][b:, 0] = 1  # a blank row attends to one token, avoiding 0/0
    return out


class CompiledPredictor:
    """Runs a compiled model on one of a fixed set of (batch, sequence) shapes."""

    def __init__(self, compiled, shapes: list[tuple[int, int]], device: str, pad_id: int = 0):
        self.compiled = compiled
        self.shapes = sorted(set(shapes))
        self.device = device
        self.pad_id = pad_id

    def _call(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        with torch.no_grad():
            out = self.compiled(**{k: v.to(self.device) for k, v in batch.items()}).logits
        # CUDA graphs reuse their output buffer on the next replay: copy it out.
        return out.float().clone() if self.device == "cuda" else out.float()

    def fit(self, rows: int, length: int) -> tuple[int, int] | None:
        fits = [s for s in self.shapes if s[0] >= rows and s[1] >= length]
        return min(fits, key=lambda s: (s[0] * s[1], s)) if fits else None

    def __call__(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        rows, length = batch["input_ids"].shape
        if (rows, length) in self.shapes:
            return self._call(batch)
        target = self.fit(rows, length)
        if target is not None:
            return self._call(pad_to(batch, *target, pad_id=self.pad_id))[:rows]
        long_enough = [s[0] for s in self.shapes if s[1] >= length]
        if not long_enough:
            raise UserError(
                f"a batch of length {length} is longer than every compiled shape "
                f"({', '.join(f'{b}x{s}' for b, s in self.shapes)})"
            )
        max_rows = max(long_enough)
        parts = [
            self({k: v[i : i + max_rows] for k, v in batch.items()})
            for i in range(0, rows, max_rows)
        ]
        return torch.cat(parts)


def prepare(model, ctx: ServingContext, example_batches=None) -> Predictor:
    examples = list(example_batches or [])
    if not examples:
        raise UserError("the compile runtime needs the measured batch shapes")
    if _is_torch_quantized(model):
        raise UserError(
            "torch.compile does not support torch.ao's dynamically quantized int8 layers "
            "(they stay uncompiled and run slower); use 'int8@ort' for fast int8 on a CPU, "
            "or 'int8' with '@eager'"
        )
    device = ctx.device
    shapes = [(int(b["input_ids"].shape[0]), int(b["input_ids"].shape[1])) for b in examples]
    limit = max(8, len(set(shapes)) + 2)
    dynamo_config = torch._dynamo.config
    if getattr(dynamo_config, "recompile_limit", limit) < limit:
        dynamo_config.recompile_limit = limit
    pad_id = getattr(getattr(ctx, "tokenizer", None), "pad_token_id", None) or 0
    model.eval()
    t0 = time.perf_counter()
    try:
        compiled, mode = _compile(model, device)
        predictor = CompiledPredictor(compiled, shapes, device, pad_id)
        for batch in examples:
            for _ in range(3 if device == "cuda" else 1):  # CUDA graphs record on a later call
                predictor(batch)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - the compiler's failure, told to the user
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise UserError(
            f"torch.compile failed for {type(model).__name__} ({type(exc).__name__}: "
            f"{first[:300]}); serve this variant with '@eager' or '@ort' instead"
        ) from None
    if device == "cuda":
        torch.cuda.synchronize()
    notes: dict[str, Any] = {
        "compile_seconds": round(time.perf_counter() - t0, 3),
        "compile_mode": mode,
        "compiled_shapes": [f"{b}x{s}" for b, s in sorted(set(shapes))],
        "compile_eval": "eval batches padded to the compiled shapes",
    }
    return Predictor(predictor, "compile", notes)

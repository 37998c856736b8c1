"""How a built variant is served: a registry of runtimes, each turning a model into a predictor.

A predictor maps a tokenized batch (``input_ids``, ``attention_mask``, ...) to float32 logits.
The default runtime is plain PyTorch eager.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class Predictor:
    run: Callable[[dict[str, torch.Tensor]], torch.Tensor]
    runtime: str
    notes: dict[str, Any] = field(default_factory=dict)  # e.g. compile time, export check

    def __call__(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.run(batch)


@dataclass(frozen=True)
class Runtime:
    name: str
    summary: str
    prepare: Callable[..., Predictor]  # (model, ctx, example_batches) -> Predictor


_REGISTRY: dict[str, Runtime] = {}


def register(runtime: Runtime) -> Runtime:
    _REGISTRY[runtime.name] = runtime
    return runtime


def runtimes() -> dict[str, Runtime]:
    _load_builtins()
    return dict(_REGISTRY)


_loaded = False


def _load_builtins() -> None:
    # Other runtimes register themselves on import; deferred so that parsing stays cheap.
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib

    for module in ("ort", "compile"):
        try:
            importlib.import_module(f"lib.runtimes.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lib.runtimes.{module}":
                raise


def _eager(model, ctx, example_batches=None) -> Predictor:
    device = ctx.device

    def run(batch: dict[str, torch.Tensor]) -> torch.Tensor:
        with torch.inference_mode():
            out = model(**{k: v.to(device) for k, v in batch.items()}).logits
        return out.float()

    return Predictor(run, "eager")


register(
    Runtime(
        "eager",
        "Plain PyTorch, running the model layer by layer as written: the default.",
        _eager,
    )
)

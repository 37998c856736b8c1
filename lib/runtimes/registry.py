"""How a built variant is served: a registry of runtimes, each turning a model into a predictor.

A predictor maps a tokenized batch (``input_ids``, ``attention_mask``, ...) to float32 logits.
The default runtime is plain PyTorch eager. Each runtime's code (``eager.py``, ``ort.py`` with
``ort_static.py``, ``compile.py``, ``openvino.py``) is imported only when a model is prepared
with it: listing the runtimes, as a spec or a page does, imports no torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lib.registry import LazyRegistry
from lib.runtimes.configs import DEFAULT_RUNTIME, RUNTIMES, RuntimeConfig, ServingContext

if TYPE_CHECKING:
    import torch

__all__ = [
    "DEFAULT_RUNTIME",
    "Predictor",
    "Runtime",
    "get",
    "register",
    "runtimes",
]


@dataclass
class Predictor:
    run: Callable[[dict[str, torch.Tensor]], torch.Tensor]
    runtime: str
    notes: dict[str, Any] = field(default_factory=dict)  # e.g. compile time, export check
    # The size of what is served when it is not the torch model (ORT's graph file), in MB.
    served_size_mb: float | None = None

    def __call__(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.run(batch)


# (model, ctx, example_batches) -> Predictor
Prepare = Callable[..., Predictor]

_PREPARE: LazyRegistry[Prepare] = LazyRegistry(
    "runtime",
    {
        "eager": "lib.runtimes.eager:prepare",
        "ort": "lib.runtimes.ort:prepare",  # static int8 via lib.runtimes.ort_static
        "compile": "lib.runtimes.compile:prepare",
        "openvino": "lib.runtimes.openvino:prepare",
    },
)
_CONFIGS: dict[str, RuntimeConfig] = RUNTIMES  # one table: register() extends what parsing knows


@dataclass(frozen=True)
class Runtime:
    """A runtime's description, and ``prepare`` that loads its code on first use."""

    name: str
    summary: str

    @property
    def config(self) -> RuntimeConfig:
        return _CONFIGS[self.name]

    def prepare(self, model: Any, ctx: ServingContext, example_batches=None) -> Predictor:
        return _PREPARE.load(self.name)(model, ctx, example_batches)


def register(config: RuntimeConfig, prepare: str | Prepare) -> Runtime:
    """Add a runtime: its description and ``"module:function"`` (or the function itself)."""
    _CONFIGS[config.name] = config
    _PREPARE.register(config.name, prepare)
    return Runtime(config.name, config.summary)


def runtimes() -> dict[str, Runtime]:
    return {name: Runtime(name, c.summary) for name, c in _CONFIGS.items()}


def get(name: str) -> Runtime:
    _PREPARE.target(name)  # a UserError listing the known runtimes
    return Runtime(name, _CONFIGS[name].summary)

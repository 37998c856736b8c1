"""What a chain's steps share while they build a variant: ``BuildContext`` (imports no torch).

The facts one step passes to the next, or to the runtime, are typed fields: ``precision`` (what
the weights are now), ``runtime`` (what will serve the result; set by ``apply_chain``),
``pending_int8`` (int8 left for ONNX Runtime to do) and ``tokenizer`` (a ``student:`` step brings
its own). ``notes`` holds only facts reported with the result (sparsity reached, training
time...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.runtimes.configs import DEFAULT_RUNTIME, Int8Request


@dataclass
class BuildContext:
    """What a step may need besides the model: data to calibrate or train on, where to cache."""

    base_path: str
    tokenizer: Any
    train: Any  # lib.datasets.LabelledText
    device: str = "cpu"
    seed: int = 0
    progress: Callable[[float, str], None] | None = None
    cache_dir: Path | None = None
    # Facts a step wants reported with the result (sparsity reached, training time...).
    notes: dict[str, Any] = field(default_factory=dict)
    precision: str = "fp32"  # fp32, bf16, fp16 or int8: what the weights are now
    runtime: str = DEFAULT_RUNTIME  # what will serve the built model (apply_chain sets it)
    pending_int8: Int8Request | None = None  # int8 the runtime is to do (int8@ort)

    def report(self, fraction: float, message: str) -> None:
        if self.progress:
            self.progress(fraction, message)

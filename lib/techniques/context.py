"""What a chain's steps share while they build a variant: ``BuildContext`` (imports no torch).

The facts one step passes to the next, or to the runtime, are typed fields: ``precision`` (what
the weights are now), ``runtime`` (what will serve the result; set by ``apply_chain``),
``pending_int8`` (int8 left for ONNX Runtime to do), ``pending_static_int8`` (calibrated int8
left for ONNX Runtime or OpenVINO) and ``tokenizer`` (a ``student:`` step brings its own).
``notes`` holds only facts reported with the result (sparsity reached, training time...).

Calibration data: ``calibration_indices(n)`` picks ``n`` texts of the **train** split, the only
texts a build context holds (the eval texts go to the measurement, never to the build), with the
run's seed, so the same run calibrates on the same texts; the indices are reported with the
result (``notes["calibration"]``) so anyone can check where they came from.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.runtimes.configs import DEFAULT_RUNTIME, Int8Request, StaticInt8Request


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
    # calibrated int8 the runtime is to do (int8:static@ort, int8@openvino)
    pending_static_int8: StaticInt8Request | None = None
    # The machine this build runs on (lib.measure.environment.machine_facts), recorded with what
    # a step trains so that a cached copy still says where, and at what price, it was trained.
    machine: dict[str, Any] = field(default_factory=dict)

    def report(self, fraction: float, message: str) -> None:
        if self.progress:
            self.progress(fraction, message)

    def calibration_indices(self, n: int) -> tuple[int, ...]:
        """``n`` positions in the train split (all of it when smaller), sorted; the same for the
        same seed and split. Raises ValueError when there is no train split."""
        texts = getattr(self.train, "texts", None)
        if not texts:
            raise ValueError("calibration needs the train split, and this build has none")
        count = min(n, len(texts))
        return tuple(sorted(random.Random(self.seed).sample(range(len(texts)), count)))

    def calibration_record(self, indices: tuple[int, ...]) -> dict[str, Any]:
        """What the result reports about the calibration texts: the split, their positions in
        it and a fingerprint of the texts themselves."""
        digest = hashlib.sha256()
        for i in indices:
            digest.update(self.train.texts[i].encode() + b"\n")
        return {
            "split": "train",
            "n": len(indices),
            "indices": list(indices),
            "train_size": len(self.train.texts),
            "texts_sha256": digest.hexdigest()[:16],
        }

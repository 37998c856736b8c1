"""A service-level target (p95 latency, accuracy, $ per 1M) and which candidates meet it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lib.errors import UserError
from lib.format import fmt_usd, is_missing, num


@dataclass
class Targets:
    """A service-level target. ``min_accuracy`` is a fraction (0.9 = 90%); None = no limit."""

    max_p95_ms: float | None = None
    min_accuracy: float | None = None
    max_usd_per_million: float | None = None
    batch_size: int = 1

    def __post_init__(self) -> None:
        if self.max_p95_ms is not None and not self.max_p95_ms > 0:
            raise UserError("The p95 latency target must be above 0 ms (or empty for none).")
        if self.min_accuracy is not None and not 0 <= self.min_accuracy <= 1:
            raise UserError(
                f"Minimum accuracy must be a fraction between 0 and 1 (got {self.min_accuracy})."
            )
        if self.max_usd_per_million is not None and not self.max_usd_per_million > 0:
            raise UserError("The $ per 1M target must be above 0 (or empty for none).")
        if not int(self.batch_size) >= 1:
            raise UserError("Batch size must be 1 or more.")

    @property
    def any(self) -> bool:
        return any(
            v is not None for v in (self.max_p95_ms, self.min_accuracy, self.max_usd_per_million)
        )

    def describe(self) -> str:
        parts = []
        if self.max_p95_ms is not None:
            parts.append(f"p95 ≤ {self.max_p95_ms:g} ms at batch {self.batch_size}")
        if self.min_accuracy is not None:
            parts.append(f"accuracy ≥ {self.min_accuracy * 100:.1f}%")
        if self.max_usd_per_million is not None:
            parts.append(f"≤ {fmt_usd(self.max_usd_per_million)} per 1M")
        return ", ".join(parts) if parts else "no target set"

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_p95_ms": self.max_p95_ms,
            "min_accuracy": self.min_accuracy,
            "max_usd_per_million": self.max_usd_per_million,
            "batch_size": self.batch_size,
        }


def apply_targets(df: pd.DataFrame, targets: Targets) -> pd.DataFrame:
    """Add ``meets_latency``, ``meets_accuracy``, ``meets_cost``, ``meets`` and ``misses``.

    A missing number fails a limit that is set (an unmeasured latency does not meet a target)."""
    out = df.copy()
    n = len(out)
    lat, acc, cost = [True] * n, [True] * n, [True] * n
    for k, (_, r) in enumerate(out.iterrows()):
        if targets.max_p95_ms is not None:
            p95 = num(r.get("p95_ms"))
            lat[k] = not is_missing(p95) and p95 <= targets.max_p95_ms
            ok_there = r.get("cost_meets_latency")
            if isinstance(ok_there, bool | np.bool_) and not ok_there:
                lat[k] = False  # on that hardware no batch size meets the target
        if targets.min_accuracy is not None:
            a = num(r.get("accuracy"))
            acc[k] = not is_missing(a) and a >= targets.min_accuracy - 1e-12
        if targets.max_usd_per_million is not None:
            u = num(r.get("usd_per_million"))
            cost[k] = not is_missing(u) and u <= targets.max_usd_per_million
    out["meets_latency"], out["meets_accuracy"], out["meets_cost"] = lat, acc, cost
    out["meets"] = [a and b and c for a, b, c in zip(lat, acc, cost, strict=True)]
    out["misses"] = [
        ", ".join(w for w, ok in (("latency", a), ("accuracy", b), ("cost", c)) if not ok)
        for a, b, c in zip(lat, acc, cost, strict=True)
    ]
    if "status" in out:
        failed = out["status"] != "ok"
        out.loc[failed, "meets"] = False
        out.loc[failed, "misses"] = "failed"
    return out

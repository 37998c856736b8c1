"""A service-level target (p95 latency, accuracy, $ per 1M) and which candidates meet it.

The latency limit is checked against the request latency under load where a variant was
load-tested (``add_load_latency``: LoadGen's p99 at the most load that stays within the limit),
else against the per-batch p95 estimate at the target's batch size; ``latency_basis`` says
which."""

from __future__ import annotations

import math
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

    def describe(self, df: pd.DataFrame | None = None) -> str:
        """The target in words. With the candidates ``df`` (after ``add_load_latency``), the
        latency limit says what it is checked against: request p99 under load for load-tested
        variants, the per-batch p95 estimate for the rest."""
        parts = []
        if self.max_p95_ms is not None:
            parts.append(self._latency_text(df))
        if self.min_accuracy is not None:
            parts.append(f"accuracy ≥ {self.min_accuracy * 100:.1f}%")
        if self.max_usd_per_million is not None:
            parts.append(f"≤ {fmt_usd(self.max_usd_per_million)} per 1M")
        return ", ".join(parts) if parts else "no target set"

    def _latency_text(self, df: pd.DataFrame | None) -> str:
        limit = f"{self.max_p95_ms:g} ms"
        estimate = f"p95 ≤ {limit} at batch {self.batch_size}"
        if df is None:
            return estimate
        ok = df[df["status"] == "ok"] if "status" in df else df
        tested = load_tested_mask(ok)
        if not bool(tested.any()):
            return estimate
        under = f"{load_percentile(ok[tested])} ≤ {limit} under load"
        if bool(tested.all()):
            return under
        return f"{under} where load-tested, else {estimate}"

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
            tested = r.get("load_tested")
            if isinstance(tested, bool | np.bool_) and tested:  # under load beats a batch estimate
                qps = num(r.get("load_qps_within"))
                lat[k] = not is_missing(qps) and qps > 0
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
    if "applicable" in out:  # not servable on that hardware (e.g. CPU int8 on a GPU)
        na = not_applicable(out).to_numpy()
        reasons = out["cost_reason"] if "cost_reason" in out else pd.Series("", index=out.index)
        out["meets"] = out["meets"].to_numpy() & ~na
        out["misses"] = [
            "not applicable" + (f" ({why})" if isinstance(why, str) and why else "") if bad else m
            for bad, why, m in zip(na, reasons, out["misses"], strict=True)
        ]
    if "status" in out:
        failed = out["status"] != "ok"
        out.loc[failed, "meets"] = False
        out.loc[failed, "misses"] = "failed"
    return out


def _is_false(value: Any) -> bool:
    return isinstance(value, bool | np.bool_) and not bool(value)


def not_applicable(df: pd.DataFrame) -> pd.Series:
    """Rows the cost table marked not applicable: the variant cannot be served on that
    hardware (``cost_reason`` says why); never a candidate to recommend."""
    if "applicable" not in df:
        return pd.Series(False, index=df.index, dtype=bool)
    return pd.Series([_is_false(v) for v in df["applicable"]], index=df.index, dtype=bool)


def load_tested_mask(df: pd.DataFrame) -> pd.Series:
    """Which rows were load-tested (``add_load_latency``'s ``load_tested``); all False without."""
    if "load_tested" not in df:
        return pd.Series(False, index=df.index, dtype=bool)
    return pd.Series(
        [isinstance(v, bool | np.bool_) and bool(v) for v in df["load_tested"]],
        index=df.index,
        dtype=bool,
    )


def load_percentile(df: pd.DataFrame) -> str:
    """The request percentile the load tests of ``df`` were judged at ("p99" unless all say
    another)."""
    labels = {v for v in df.get("load_percentile", pd.Series(dtype=object)) if isinstance(v, str)}
    return labels.pop() if len(labels) == 1 else "p99"


LOAD_COLUMNS = [
    "load_tested",
    "load_slo_ms",
    "load_goodput_qps",
    "load_p99_ms",
    "load_qps_within",
    "load_percentile",
    "load_best_p99_ms",
]


def _within(lt: dict, limit: float) -> tuple[float, float]:
    """(the most offered load whose request latency stayed within ``limit`` ms, that latency);
    NaNs when no Server point did."""
    best = (math.nan, math.nan)
    for p in lt.get("server_points") or []:
        if not isinstance(p, dict):
            continue
        qps, lat = num(p.get("target_qps")), num(p.get("p99_ms"))
        if is_missing(qps) or is_missing(lat) or lat > limit:
            continue
        if is_missing(best[0]) or qps > best[0]:
            best = (qps, lat)
    goodput, slo = num(lt.get("goodput_qps")), num(lt.get("slo_ms"))
    if is_missing(best[0]) and not is_missing(goodput) and goodput > 0 and slo <= limit:
        best = (goodput, math.nan)  # no points kept: the goodput meets its own, tighter SLO
    return best


def _best_p99(lt: dict) -> float:
    """The lowest request latency any Server point reached (NaN without points)."""
    lats = [num(p.get("p99_ms")) for p in lt.get("server_points") or [] if isinstance(p, dict)]
    lats = [v for v in lats if not is_missing(v)]
    return min(lats) if lats else math.nan


def add_load_latency(
    df: pd.DataFrame, run_docs: list[dict], max_ms: float | None = None
) -> pd.DataFrame:
    """Add each candidate's latency under load, where its variant was load-tested.

    Columns: ``load_tested`` (bool), ``load_slo_ms`` and ``load_goodput_qps`` (the load test's
    own SLO and goodput), ``load_p99_ms`` and ``load_qps_within`` (the request latency at, and
    the most offered load of, the Server points within ``max_ms``: the limit of a target, else
    the load test's SLO), ``load_percentile`` (the request percentile, "p99"),
    ``load_best_p99_ms`` (the lowest latency any point reached), and ``latency_basis``: which
    latency the limit is checked against."""
    from lib.serving.frames import load_tests, percentile_label

    tests: dict[tuple[str, str], dict] = {}
    for doc in run_docs:
        for variant, lt in load_tests(doc.get("results") or []):
            tests[(str(doc.get("run_id") or ""), variant)] = lt
    out = df.copy()
    cols: dict[str, list] = {c: [] for c in [*LOAD_COLUMNS, "latency_basis"]}
    for _, r in out.iterrows():
        found = tests.get((str(r.get("run_id") or ""), str(r.get("variant"))))
        if found is None:
            for c in LOAD_COLUMNS:
                cols[c].append(False if c == "load_tested" else math.nan)
            basis = r.get("p95_basis")
            cols["latency_basis"].append(
                f"per-batch p95 estimate ({basis})" if isinstance(basis, str) else "per-batch p95"
            )
            continue
        lt = found
        slo = num(lt.get("slo_ms"))
        limit = slo if max_ms is None else float(max_ms)
        qps, lat = _within(lt, limit) if not is_missing(limit) else (math.nan, math.nan)
        p = percentile_label(lt.get("percentile"))
        found_values = (True, slo, num(lt.get("goodput_qps")), lat, qps, p, _best_p99(lt))
        for c, v in zip(LOAD_COLUMNS, found_values, strict=True):
            cols[c].append(v)
        if is_missing(qps) or qps <= 0:
            how = f"above {limit:g} ms at every load tried"
        else:
            at = "" if is_missing(lat) else f"{lat:.3g} ms at "
            how = f"{at}{qps:,.4g} QPS: meets ≤ {limit:g} ms up to {qps:,.4g} QPS"
        cols["latency_basis"].append(f"request {p} under load (MLPerf LoadGen), {how}")
    for c, values in cols.items():
        out[c] = values
    if not out.empty:
        out["load_tested"] = out["load_tested"].astype(bool)
    return out


def latency_note(df: pd.DataFrame) -> str:
    """Which latency the target's limit is checked against, in one sentence."""
    if df.empty:
        return ""
    tested = df["load_tested"].astype(bool) if "load_tested" in df else pd.Series(False, df.index)
    names = list(dict.fromkeys(str(v) for v in df.loc[tested, "variant"]))
    batch = int(df["latency_batch"].iloc[0]) if "latency_batch" in df else 1
    estimate = f"the per-batch p95 estimate at batch {batch}"
    if not names:
        return f"Latency limit checked against {estimate} (no variant here was load-tested)."
    under = (
        "request p99 under load (MLPerf LoadGen: met when some query rate tried stays within it)"
    )
    if bool(tested.all()):
        return f"Latency limit checked against {under} for every variant."
    return (
        f"Latency limit checked against {under} for {', '.join(names)}; "
        f"against {estimate} for the rest."
    )

"""Comparing variants across stored runs, datasets and hardware, and deciding which to ship.

Pure functions, no UI. The unit of comparison is a *candidate*: one variant of one run, priced on
one hardware option ("int8 on c7i.2xlarge"). Without hardware options a candidate is the variant
where it was measured ("int8 on AMD EPYC 9B14 (2 threads)").

- ``gather(run_docs)``: one row per (run, variant), with run / hardware / dataset / date labels
  and each run's deltas against its *own* fp32 baseline (from ``lib.results.frame.to_frame``).
- ``add_latency(df, batch_size)``: the p95 latency at a batch size, and which estimate it is.
- ``add_costs(df, run_docs, options, ...)``: one row per candidate, $ per 1M from ``lib.cost.model``.
- ``compare_frame(...)``: the three above in one call.
- ``pareto_frontier(df, x, y)``: which rows no other row beats on both axes.
- ``deltas(df)``: the table of changes against each run's baseline, with significance.
- ``apply_targets(df, targets)`` and ``recommend(df, targets)``: the service-level filter and the
  one plain sentence with the numbers it rests on.
- charts: ``accuracy_latency_chart``, ``accuracy_cost_chart``, ``grouped_bars``.

Latency against a target is the p95 *measured on the run's own hardware* at the target's batch
size. Runs record p50, p90 and p99; p95 is taken as recorded when a run has it, else interpolated
linearly between p90 and p99 (``p95_basis`` says which). On other hardware, the cost model picks
the largest batch whose (measured or projected) p90 meets the same latency target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lib.errors import UserError
from lib.format import fmt_ms, fmt_times, fmt_usd, is_missing, num
from lib.measure.environment import hardware_label
from lib.measure.stats import ALPHA, is_significant
from lib.results.charts import titled_layout, variant_color
from lib.results.frame import BASELINE, to_frame

RUN_COLUMNS = [
    "run_id",
    "run_name",
    "run_label",
    "model",
    "dataset",
    "hardware",
    "device",
    "date",
    "demo",
]
# Hardware to price on when the user has not chosen: a T4 and a CPU instance to rent, an L4 to
# rent and to buy (the Cost page preselects the same).
DEFAULT_OPTIONS = ("c7i.2xlarge", "g4dn.xlarge", "g6.xlarge", "L4 (owned)")
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "star", "hexagon", "x"]


# ------------------------------------------------------------------ gathering runs
def run_facts(doc: dict) -> dict[str, Any]:
    """Labels of one run document: name, model, dataset, hardware, date, demo flag."""
    spec = doc.get("spec") or {}
    env = doc.get("environment") or {}
    extra = doc.get("baseline") or {}
    model = str((spec.get("model") or {}).get("source") or "?")
    dataset = str((spec.get("dataset") or {}).get("source") or "?")
    if "/" in dataset or "\\" in dataset:
        dataset = Path(dataset).name
    if model.startswith(("/", "~", ".")):
        model = Path(model).name
    hardware = extra.get("recorded_on") or (hardware_label(env) if env else "unknown hardware")
    date = str(env.get("date") or extra.get("recorded_at") or doc.get("created_at") or "")[:10]
    name = str(doc.get("name") or "")
    demo = bool(extra.get("demo") or doc.get("demo"))
    title = name or f"{model} on {dataset}"
    label = " · ".join(p for p in (title, hardware, date) if p)
    return {
        "run_id": str(doc.get("run_id") or ""),
        "run_name": name,
        "run_label": ("[demo] " if demo else "") + label,
        "model": model,
        "dataset": dataset,
        "hardware": str(hardware),
        "device": str(env.get("device") or "cpu"),
        "date": date,
        "demo": demo,
    }


def gather(run_docs: list[dict], baseline: str = BASELINE) -> pd.DataFrame:
    """One row per (run, variant) across runs, failed variants included (status 'failed').

    Each run's deltas (``accuracy_delta_pts``, ``speedup_vs_fp32_b{b}``, ``size_ratio_vs_fp32``)
    are against that run's own ``baseline`` variant."""
    frames = []
    for doc in run_docs:
        if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
            raise UserError("A run document must be a dict with a 'results' list.")
        results = [r for r in doc["results"] if isinstance(r, dict)]
        if not results:
            continue
        frame = to_frame(results, baseline)
        for k, v in run_facts(doc).items():
            frame[k] = v
        frame["baseline_variant"] = baseline
        frame["significant"] = [
            bool(is_significant(None if is_missing(p) else float(p)))
            for p in frame["p_value_vs_baseline"]
        ]
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*RUN_COLUMNS, "variant", "status", "accuracy"])
    df = pd.concat(frames, ignore_index=True)
    front = [c for c in RUN_COLUMNS if c in df.columns]
    return df[front + [c for c in df.columns if c not in front]]


def p95_estimate(stats: dict | None) -> tuple[float, str]:
    """(p95 in ms, how it was obtained) from one batch size's latency stats."""
    stats = stats or {}
    p95, p90, p99 = num(stats.get("p95")), num(stats.get("p90")), num(stats.get("p99"))
    if not is_missing(p95):
        return p95, "p95 as measured"
    if not is_missing(p90) and not is_missing(p99):
        return p90 + (p99 - p90) * 5 / 9, "p95 interpolated between the measured p90 and p99"
    if not is_missing(p99):
        return p99, "p99 used for p95 (no p90 recorded; conservative)"
    if not is_missing(p90):
        return p90, "p90 used for p95 (no p99 recorded; optimistic)"
    p50 = num(stats.get("p50"))
    if not is_missing(p50):
        return p50, "p50 used for p95 (no tail recorded; optimistic)"
    return math.nan, "not measured"


def add_latency(df: pd.DataFrame, batch_size: int = 1) -> pd.DataFrame:
    """Add ``p95_ms``, ``p95_basis``, ``p50_ms``, ``throughput_per_s`` and ``speedup`` at a batch."""
    out = df.copy()
    b = int(batch_size)
    p95, basis = [], []
    for _, r in out.iterrows():
        stats = {s: r.get(f"{s}_ms_b{b}") for s in ("p50", "p90", "p99")}
        stats["p95"] = r.get(f"p95_ms_b{b}")
        v, how = p95_estimate(stats)
        p95.append(v)
        basis.append(f"{how}, batch {b}" if not is_missing(v) else f"not measured at batch {b}")
    out["latency_batch"] = b
    out["p95_ms"] = p95
    out["p95_basis"] = basis
    out["p50_ms"] = out[f"p50_ms_b{b}"] if f"p50_ms_b{b}" in out else math.nan
    out["throughput_per_s"] = out[f"throughput_b{b}"] if f"throughput_b{b}" in out else math.nan
    out["speedup"] = out[f"speedup_vs_fp32_b{b}"] if f"speedup_vs_fp32_b{b}" in out else math.nan
    for end in ("low", "high"):
        col = f"speedup_{end}_b{b}"
        out[f"speedup_{end}"] = out[col] if col in out else math.nan
    return out


def catalog_for(catalog, options: list[str]):
    """The price catalogue cut to the chosen options (and the chassis their cards sit in)."""
    from lib.cost.catalog import Catalog

    hw = catalog.hardware
    owned = {o.removesuffix(" (owned)") for o in options if o.endswith(" (owned)")}
    chosen = hw["name"].isin(owned)
    hosts = {h for h in hw.loc[chosen, "host"] if isinstance(h, str) and h}
    unknown = set(options) - set(catalog.cloud["instance"]) - {f"{n} (owned)" for n in hw["name"]}
    if unknown:
        raise UserError(
            f"Unknown hardware option(s): {', '.join(sorted(unknown))}. "
            "Use instance names from the price catalogue, e.g. c7i.2xlarge or 'L4 (owned)'."
        )
    return Catalog(
        cloud=catalog.cloud[catalog.cloud["instance"].isin(options)].reset_index(drop=True),
        hardware=hw[chosen | hw["name"].isin(hosts)].reset_index(drop=True),
        peaks=catalog.peaks,
    )


COST_COLUMNS = {
    "option": "option",
    "option_kind": "option_kind",
    "usd_per_million": "usd_per_million",
    "hourly_usd": "hourly_usd",
    "throughput_source": "cost_source",
    "throughput_per_s": "cost_throughput_per_s",
    "batch_size": "cost_batch",
    "latency_ms": "cost_latency_ms",
    "meets_latency_target": "cost_meets_latency",
    "throughput_assumptions": "cost_assumptions",
    "price_source": "price_source",
    "price_date": "price_date",
    "note": "cost_note",
    "capex_usd": "capex_usd",
    "breakeven_vs": "breakeven_vs",
    "breakeven_months": "breakeven_months",
}


def assumptions_for(targets: Targets | None, base=None):
    """Cost assumptions whose latency limit is the target's p95 limit, when one is set."""
    from lib.cost.model import CostAssumptions

    a = base or CostAssumptions()
    if targets is not None and targets.max_p95_ms is not None:
        a = CostAssumptions(**(a.to_dict() | {"latency_target_ms": targets.max_p95_ms}))
    return a


def add_costs(
    df: pd.DataFrame,
    run_docs: list[dict],
    options: list[str] | None,
    catalog=None,
    assumptions=None,
) -> pd.DataFrame:
    """One row per (run, variant, option) with $ per 1M inferences on that option.

    Each run is costed on its own (``lib.cost.model.cost_table``): measured where the run measured that
    hardware, else projected (``cost_source``). Without options every row keeps ``option`` empty:
    the variant where it was measured, no price."""
    out = df.copy()
    if not options:
        for col in COST_COLUMNS.values():
            out[col] = "" if col in ("option", "option_kind", "cost_source") else math.nan
        return out
    from lib.cost.catalog import load_catalog
    from lib.cost.model import CostAssumptions, cost_table

    catalog = catalog_for(catalog or load_catalog(), list(options))
    a = assumptions or CostAssumptions()
    pieces = []
    for doc in run_docs:
        run_id = str(doc.get("run_id") or "")
        rows = out[out["run_id"] == run_id]
        ok = rows[rows["status"] == "ok"]
        try:
            table = cost_table(doc, catalog, a)
        except UserError as exc:
            table = None
            note = str(exc)
        if table is None or ok.empty:
            r = rows.copy()
            for col in COST_COLUMNS.values():
                r[col] = "" if col in ("option", "option_kind", "cost_source") else math.nan
            r["cost_note"] = note if table is None else ""
            pieces.append(r)
            continue
        t = table[[c for c in COST_COLUMNS if c in table.columns]].rename(columns=COST_COLUMNS)
        t["variant"] = table["variant"]
        merged = ok.merge(t, on="variant", how="left")
        pieces.append(merged)
        failed = rows[rows["status"] != "ok"].copy()
        if not failed.empty:
            for col in COST_COLUMNS.values():
                failed[col] = "" if col in ("option", "option_kind", "cost_source") else math.nan
            pieces.append(failed)
    res = pd.concat(pieces, ignore_index=True) if pieces else out
    for col in (
        "usd_per_million",
        "hourly_usd",
        "cost_latency_ms",
        "cost_throughput_per_s",
        "capex_usd",
        "breakeven_months",
    ):
        res[col] = pd.to_numeric(res[col], errors="coerce").astype(float)
    res["option"] = res["option"].fillna("").astype(str)
    res["cost_source"] = res["cost_source"].fillna("").astype(str)
    return res.reset_index(drop=True)


def compare_frame(
    run_docs: list[dict],
    batch_size: int = 1,
    options: list[str] | None = None,
    catalog=None,
    assumptions=None,
    baseline: str = BASELINE,
) -> pd.DataFrame:
    """Everything the Compare page and the report draw: one row per candidate, with labels,
    p95 at ``batch_size``, deltas against each run's own baseline, and $ per 1M on ``options``."""
    df = add_latency(gather(run_docs, baseline), batch_size)
    df = add_costs(df, run_docs, options, catalog, assumptions)
    df["where"] = (
        [o if o else h for o, h in zip(df["option"], df["hardware"], strict=True)]
        if not df.empty
        else []
    )
    df["candidate"] = (
        [f"{v} on {w}" for v, w in zip(df["variant"], df["where"], strict=True)]
        if not df.empty
        else []
    )
    return _add_cost_ratio(df, baseline)


def _add_cost_ratio(df: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """``cost_ratio_vs_fp32``: the baseline's $ per 1M on the same option / this row's."""
    df = df.copy()
    df["cost_ratio_vs_fp32"] = math.nan
    if df.empty or "usd_per_million" not in df:
        return df
    base = df[(df["variant"] == baseline) & (df["status"] == "ok")]
    lookup = {
        (r["run_id"], r["option"]): r["usd_per_million"]
        for _, r in base.iterrows()
        if r["option"] and not is_missing(r["usd_per_million"])
    }
    ratios = []
    for _, r in df.iterrows():
        b = lookup.get((r["run_id"], r["option"]))
        u = r["usd_per_million"]
        ratios.append(b / u if b is not None and not is_missing(u) and u > 0 else math.nan)
    df["cost_ratio_vs_fp32"] = ratios
    return df


def ok_candidates(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty or "status" not in df:
        return df
    return df[df["status"] == "ok"]


def measured_points(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, variant): the candidates without the per-option repetition."""
    ok = ok_candidates(df)
    if ok.empty:
        return ok
    pts = ok.drop_duplicates(subset=["run_id", "variant"]).reset_index(drop=True)
    pts["where"] = pts["hardware"]
    pts["candidate"] = [f"{v} on {h}" for v, h in zip(pts["variant"], pts["hardware"], strict=True)]
    for col in ("option", "option_kind", "cost_source"):
        if col in pts:
            pts[col] = ""
    for col in ("usd_per_million", "cost_ratio_vs_fp32", "hourly_usd"):
        if col in pts:
            pts[col] = math.nan
    return pts


# ------------------------------------------------------------------ Pareto
def pareto_frontier(
    df: pd.DataFrame, x: str, y: str, minimize_x: bool = True, maximize_y: bool = True
) -> pd.Series:
    """Boolean mask: True for rows no other row beats on both ``x`` and ``y``.

    A row is dominated when another is at least as good on both axes and strictly better on one.
    Rows with a missing value are never on the frontier. Duplicates of a frontier point are kept.
    """
    mask = pd.Series(False, index=df.index)
    if df.empty or x not in df or y not in df:
        return mask
    xs = pd.to_numeric(df[x], errors="coerce")
    ys = pd.to_numeric(df[y], errors="coerce")
    xs = xs if minimize_x else -xs
    ys = -ys if maximize_y else ys  # now both: lower is better
    valid = xs.notna() & ys.notna()
    pts = [(i, float(xs[i]), float(ys[i])) for i in df.index[valid]]
    for i, xi, yi in pts:
        dominated = any(
            (xj <= xi and yj <= yi) and (xj < xi or yj < yi) for j, xj, yj in pts if j != i
        )
        mask[i] = not dominated
    return mask


# ------------------------------------------------------------------ deltas
def deltas(df: pd.DataFrame) -> pd.DataFrame:
    """For people: each candidate against its own run's baseline, with significance.

    Accuracy in %, its change in points with the McNemar p-value; speed-up (same batch; with its
    95% interval where it comes from paired rounds),
    size ratio and $ per 1M ratio as "x" (above 1 = better than the baseline)."""
    ok = ok_candidates(df)
    if ok.empty:
        return pd.DataFrame()
    base_name = ok["baseline_variant"].iloc[0] if "baseline_variant" in ok else BASELINE
    rows = []
    for _, r in ok.iterrows():
        is_base = r["variant"] == base_name
        p = num(r.get("p_value_vs_baseline"))
        delta = num(r.get("accuracy_delta_pts"))
        if is_base:
            sig = "baseline"
        elif is_missing(p):
            sig = "not tested"
        else:
            sig = f"yes (p={p:.2g})" if p < ALPHA else f"no (p={p:.2g})"
        rows.append(
            {
                "Variant": r["variant"],
                "Runtime": (r.get("runtime") if isinstance(r.get("runtime"), str) else "")
                or "eager",
                "Where": r["where"],
                "Cost basis": {"unavailable": "not costed"}.get(
                    r.get("cost_source"), r.get("cost_source") or ""
                ),
                "Run": r["run_label"],
                "Dataset": r["dataset"],
                "Accuracy (%)": num(r["accuracy"]) * 100,
                "Δ accuracy (pts)": 0.0 if is_base else delta,
                "Significant?": sig,
                f"p95 b{int(r['latency_batch'])} (ms)": num(r["p95_ms"]),
                "Speed-up (×)": num(r["speedup"]),
                "Speed-up 95% CI": _ci_text(r.get("speedup_low"), r.get("speedup_high")),
                "Size (MB)": num(r.get("size_mb")),
                "Smaller (×)": num(r.get("size_ratio_vs_fp32")),
                "$ per 1M": num(r.get("usd_per_million")),
                "Cheaper (×)": num(r.get("cost_ratio_vs_fp32")),
            }
        )
    out = pd.DataFrame(rows)
    # A column with no value anywhere says nothing: drop it.
    return out[[c for c in out.columns if out[c].notna().any() and (out[c] != "").any()]]


def _ci_text(low, high) -> str:
    """A paired-rounds interval as text (e.g. 1.62–1.81); empty where the run has none."""
    low, high = num(low), num(high)
    return "" if is_missing(low) or is_missing(high) else f"{low:.2f}–{high:.2f}"


# ------------------------------------------------------------------ targets
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


@dataclass
class Recommendation:
    """One plain sentence and the numbers it rests on."""

    sentence: str
    numbers: dict[str, Any] = field(default_factory=dict)
    met: bool = False
    candidate: str | None = None
    notes: list[str] = field(default_factory=list)


def _shortfall(r: pd.Series, t: Targets) -> float:
    """How far a candidate is from the target, summed relative gaps (0 = meets)."""
    gap = 0.0
    if t.max_p95_ms is not None:
        p = num(r.get("p95_ms"))
        gap += 10.0 if is_missing(p) else max(0.0, p / t.max_p95_ms - 1)
    if t.min_accuracy is not None:
        a = num(r.get("accuracy"))
        gap += 10.0 if is_missing(a) else max(0.0, (t.min_accuracy - a) / max(t.min_accuracy, 1e-9))
    if t.max_usd_per_million is not None:
        u = num(r.get("usd_per_million"))
        gap += 10.0 if is_missing(u) else max(0.0, u / t.max_usd_per_million - 1)
    return gap


def _accuracy_phrase(r: pd.Series) -> str:
    delta, p = num(r.get("accuracy_delta_pts")), num(r.get("p_value_vs_baseline"))
    if is_missing(delta):
        return "accuracy not compared (no baseline accuracy)"
    if abs(delta) < 0.05:
        text = "with the same accuracy"
    else:
        text = f"{'losing' if delta < 0 else 'gaining'} {abs(delta):.1f} points"
    if is_missing(p):
        return text + ", significance not tested"
    return text + (", not significant" if p >= ALPHA else f", significant (p={p:.2g})")


def _where(r: pd.Series) -> str:
    return f"{r['variant']} on {r['where']}"


# What lib.cost.projection writes into a GPU projection's assumptions when it prices int8 as fp16.
INT8_AS_FP16 = "int8 projected at the fp16 peak"


def _cost_text(r: pd.Series) -> str:
    text = f"{fmt_usd(r['usd_per_million'])} per 1M requests"
    if r.get("cost_source") != "projected":
        return text
    how = str(r.get("cost_assumptions") or "")
    if "TFLOP/s" not in how:  # a CPU instance, scaled from the measurement
        return text + f" (projected from {r['hardware']})"
    # An accelerator, projected from the model's FLOPs: say so, and that an int8 variant is
    # priced as the same model in fp16 there (its int8 kernels here are CPU ones).
    text += " (projected from the model's FLOPs on that accelerator"
    if INT8_AS_FP16 in how:
        text += ", its int8 counted as fp16"
    return text + ")"


def recommend(df: pd.DataFrame, targets: Targets | None = None) -> Recommendation:
    """The candidate to ship, in one sentence, e.g.

    "int8 on c7i.2xlarge meets your target at $0.41 per 1M requests, 3.1x cheaper than fp32 on
    g4dn.xlarge, losing 0.4 points, not significant."

    Among the candidates meeting every limit, the cheapest per 1M (or, with no prices, the
    fastest at p95); ties go to the more accurate. It is compared with the cheapest baseline
    (fp32) candidate that meets the latency and accuracy limits (or the cheapest baseline)."""
    t = targets or Targets()
    ok = ok_candidates(df)
    if ok.empty:
        return Recommendation(
            "No variant finished, so there is nothing to recommend yet: run a benchmark or "
            "load the demo results.",
            {"targets": t.describe(), "candidates": 0},
        )
    judged = apply_targets(ok, t)
    priced = judged["usd_per_million"].notna().any() if "usd_per_million" in judged else False
    numbers: dict[str, Any] = {
        "targets": t.describe(),
        "candidates": int(len(judged)),
        "meeting_target": int(judged["meets"].sum()),
    }
    notes: list[str] = []
    datasets = sorted(set(judged["dataset"]))
    if len(datasets) > 1:
        notes.append(
            f"These runs use different datasets ({', '.join(datasets)}): accuracies are only "
            "comparable within one dataset."
        )
    meeting = judged[judged["meets"]]
    if meeting.empty:
        closest = judged.assign(_gap=[_shortfall(r, t) for _, r in judged.iterrows()])
        closest = closest.sort_values(["_gap", "usd_per_million"] if priced else ["_gap"]).iloc[0]
        facts = [
            f"p95 {fmt_ms(closest['p95_ms'])}",
            f"accuracy {num(closest['accuracy']) * 100:.1f}%"
            if not is_missing(closest["accuracy"])
            else "accuracy not measured",
        ]
        if priced:
            facts.append(f"{fmt_usd(closest['usd_per_million'])} per 1M")
        sentence = (
            f"Nothing meets your target ({t.describe()}). The closest is {_where(closest)} "
            f"({', '.join(facts)}), which misses on {closest['misses']}: relax the target or "
            "try another technique or hardware."
        )
        numbers.update(_row_numbers(closest))
        numbers["closest"] = numbers.pop("candidate")
        return Recommendation(sentence, numbers, False, None, notes)

    sort_cols, ascending = (
        (["usd_per_million", "accuracy"], [True, False])
        if priced and meeting["usd_per_million"].notna().any()
        else (["p95_ms", "accuracy"], [True, False])
    )
    pick = meeting.sort_values(sort_cols, ascending=ascending, na_position="last").iloc[0]
    numbers.update(_row_numbers(pick))
    base_name = pick.get("baseline_variant") or BASELINE
    bases = judged[judged["variant"] == base_name]
    same_data = bases[bases["dataset"] == pick["dataset"]]
    bases = same_data if not same_data.empty else bases
    by_cost = priced and not is_missing(pick["usd_per_million"])
    verb = (
        "meets your target"
        if t.any
        else ("is the cheapest choice" if by_cost else "is the fastest choice")
    )

    if pick["variant"] == base_name:
        if by_cost:
            lead = f"{_where(pick)} {verb} at {_cost_text(pick)}"
        else:
            lead = f"{_where(pick)} {verb} at p95 {fmt_ms(pick['p95_ms'])}"
        sentence = f"{lead}; no optimised variant that meets it does better."
        return Recommendation(sentence, numbers, True, pick["candidate"], notes)

    parts = []
    if by_cost:
        parts.append(f"{_where(pick)} {verb} at {_cost_text(pick)}")
        pool = bases[bases["usd_per_million"].notna()]
        fair = pool[pool["meets_latency"] & pool["meets_accuracy"]]
        comp = (fair if not fair.empty else pool).sort_values("usd_per_million")
        if not comp.empty:
            c = comp.iloc[0]
            ratio = c["usd_per_million"] / pick["usd_per_million"]
            parts.append(_ratio_phrase(ratio, "cheaper", "dearer", "the same cost as") + _where(c))
            numbers.update(
                compared_with=c["candidate"],
                compared_usd_per_million=float(c["usd_per_million"]),
                compared_meets_target=bool(c["meets"]),
                cheaper_x=float(ratio),
            )
    else:
        parts.append(f"{_where(pick)} {verb} at p95 {fmt_ms(pick['p95_ms'])}")
        pool = bases[bases["p95_ms"].notna() & (bases["run_id"] == pick["run_id"])]
        if not pool.empty and not is_missing(pick["p95_ms"]) and pick["p95_ms"] > 0:
            c = pool.iloc[0]
            ratio = c["p95_ms"] / pick["p95_ms"]
            parts.append(
                _ratio_phrase(ratio, "faster", "slower", "about as fast as")
                + f"{c['variant']} ({fmt_ms(c['p95_ms'])})"
            )
            numbers.update(
                compared_with=c["candidate"],
                compared_p95_ms=float(c["p95_ms"]),
                faster_x=float(ratio),
            )
    parts.append(_accuracy_phrase(pick))
    sentence = ", ".join(parts) + "."
    return Recommendation(sentence, numbers, True, pick["candidate"], notes)


def _ratio_phrase(ratio: float, better: str, worse: str, same: str) -> str:
    if ratio >= 1.05:
        return f"{fmt_times(ratio)} {better} than "
    if ratio <= 1 / 1.05:
        return f"{fmt_times(1 / ratio)} {worse} than "
    return f"{same} "


def _row_numbers(r: pd.Series) -> dict[str, Any]:
    def f(x):
        v = num(x)
        return None if is_missing(v) else v

    return {
        "candidate": r["candidate"],
        "variant": r["variant"],
        "where": r["where"],
        "run_id": r["run_id"],
        "measured_on": r["hardware"],
        "recorded": r["date"],
        "dataset": r["dataset"],
        "accuracy": f(r["accuracy"]),
        "accuracy_delta_pts": f(r.get("accuracy_delta_pts")),
        "p_value_vs_baseline": f(r.get("p_value_vs_baseline")),
        "significant": bool(r.get("significant")),
        "p95_ms": f(r["p95_ms"]),
        "p95_basis": f"{r['p95_basis']}, measured on {r['hardware']}",
        "usd_per_million": f(r.get("usd_per_million")),
        "cost_source": r.get("cost_source") or None,
        "cost_batch": f(r.get("cost_batch")),
        "price_source": r.get("price_source") if isinstance(r.get("price_source"), str) else None,
        "price_date": r.get("price_date") if isinstance(r.get("price_date"), str) else None,
    }


def numbers_table(rec: Recommendation) -> pd.DataFrame:
    """The numbers behind a recommendation as a two-column table for people."""
    labels = {
        "targets": "Your target",
        "candidates": "Candidates compared",
        "meeting_target": "Candidates meeting the target",
        "candidate": "Recommended",
        "closest": "Closest",
        "measured_on": "Measured on",
        "recorded": "Recorded",
        "dataset": "Dataset",
        "accuracy": "Accuracy",
        "accuracy_delta_pts": "Δ accuracy vs fp32 (points)",
        "p_value_vs_baseline": "p-value vs fp32 (McNemar)",
        "p95_ms": "p95 latency",
        "p95_basis": "Latency basis",
        "usd_per_million": "$ per 1M requests",
        "cost_source": "Cost from",
        "cost_batch": "Batch size used for cost",
        "price_source": "Price source",
        "price_date": "Price date",
        "compared_with": "Compared with",
        "compared_usd_per_million": "Its $ per 1M",
        "compared_meets_target": "It meets the target",
        "cheaper_x": "Cheaper by",
        "compared_p95_ms": "Its p95 latency",
        "faster_x": "Faster by",
    }
    rows = []
    for key, label in labels.items():
        if key not in rec.numbers or rec.numbers[key] is None:
            continue
        v = rec.numbers[key]
        if key == "accuracy":
            v = f"{v * 100:.1f}%"
        elif key in ("usd_per_million", "compared_usd_per_million"):
            v = fmt_usd(v)
        elif key in ("p95_ms", "compared_p95_ms"):
            v = fmt_ms(v)
        elif key in ("cheaper_x", "faster_x"):
            v = fmt_times(v)
        elif key == "accuracy_delta_pts":
            v = f"{v:+.2f}"
        elif key == "p_value_vs_baseline":
            v = f"{v:.3g}"
        elif key == "cost_batch":
            v = f"{v:.0f}"
        elif isinstance(v, bool):
            v = "yes" if v else "no"
        rows.append({"What": label, "Value": str(v)})
    return pd.DataFrame(rows, columns=["What", "Value"])


# ------------------------------------------------------------------ charts
def _layout(fig: go.Figure, title: str, subtitle: str = "", height: int = 460) -> go.Figure:
    return titled_layout(fig, title, subtitle, height=height, top=90)


def empty_chart(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font_size=15
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, "", height=320)


def _esc(text: Any) -> str:
    """Plotly renders titles, labels and hover text as HTML: escape what users typed."""
    import html

    return html.escape(str(text), quote=False)


def _short_place(place: str) -> str:
    """'NVIDIA H100 80GB HBM3' -> 'H100 80GB HBM3'; 'AMD EPYC 9B14 (2 threads)' -> 'EPYC 9B14 (2 threads)'."""
    for prefix in ("NVIDIA ", "AMD ", "Intel(R) Xeon(R) ", "Intel "):
        place = place.removeprefix(prefix)
    return place if len(place) <= 24 else place[:23] + "…"


def frontier_chart(
    df: pd.DataFrame,
    x: str,
    x_title: str,
    title: str,
    subtitle: str,
    log_x: bool = False,
    x_fmt: str = ".2f",
) -> go.Figure:
    """Accuracy (%) against ``x`` (lower is better): frontier points bold and joined, dominated
    ones faded. Colour = variant; marker shape = run."""
    data = df[df[x].notna() & df["accuracy"].notna()] if not df.empty else df
    if data.empty:
        return empty_chart("Nothing to plot: no candidate has both numbers")
    front = pareto_frontier(data, x, "accuracy")
    # Point labels: the variant, plus where it runs when the chart holds more than one place.
    many = data["where"].nunique() > 1
    short = data["variant"].astype(str) + (
        " · " + data["where"].astype(str).map(_short_place) if many else ""
    )
    runs = list(dict.fromkeys(data["run_label"]))
    symbols = {r: SYMBOLS[i % len(SYMBOLS)] for i, r in enumerate(runs)}
    fig = go.Figure()
    for on_front in (False, True):
        part = data[front == on_front]
        for variant, g in part.groupby("variant", sort=False):
            hover = [
                f"<b>{_esc(r['candidate'])}</b><br>run: {_esc(r['run_label'])}<br>"
                f"accuracy {r['accuracy'] * 100:.1f}%"
                + (
                    f" ({r['accuracy_delta_pts']:+.1f} pts vs fp32)"
                    if not is_missing(r.get("accuracy_delta_pts"))
                    else ""
                )
                + f"<br>p95 {fmt_ms(r['p95_ms'])} ({_esc(r['p95_basis'])})"
                + (
                    f"<br>{fmt_usd(r['usd_per_million'])} per 1M ({r['cost_source']})"
                    if not is_missing(r.get("usd_per_million"))
                    else ""
                )
                + ("<br><i>on the frontier</i>" if on_front else "<br>dominated")
                for _, r in g.iterrows()
            ]
            fig.add_trace(
                go.Scatter(
                    x=g[x],
                    y=g["accuracy"] * 100,
                    mode="markers+text" if on_front else "markers",
                    name=_esc(variant),
                    legendgroup=_esc(variant),
                    showlegend=on_front or variant not in set(data[front]["variant"]),
                    text=[_esc(t) for t in short[g.index]] if on_front else None,
                    textposition="top right",
                    textfont=dict(size=11),
                    cliponaxis=False,
                    opacity=1.0 if on_front else 0.35,
                    marker=dict(
                        size=15 if on_front else 11,
                        color=variant_color(str(variant)),
                        symbol=[symbols[r] for r in g["run_label"]],
                        line=dict(width=1.5 if on_front else 0.5, color="white"),
                    ),
                    hovertext=hover,
                    hovertemplate="%{hovertext}<extra></extra>",
                )
            )
    line = data[front].sort_values(x)
    fig.add_trace(
        go.Scatter(
            x=line[x],
            y=line["accuracy"] * 100,
            mode="lines",
            name="Pareto frontier",
            line=dict(color="#111827", width=1.5, dash="dash", shape="hv"),
            hoverinfo="skip",
        )
    )
    acc = data["accuracy"] * 100
    pad = max((acc.max() - acc.min()) * 0.3, 1.0)
    fig.update_yaxes(title_text="Accuracy (%)", range=[max(acc.min() - pad, 0), acc.max() + pad])
    fig.update_xaxes(title_text=x_title, type="log" if log_x else "linear")
    if not log_x:
        xs = data[x].astype(float)
        span = max(xs.max() - xs.min(), xs.max() * 0.1, 1e-9)
        fig.update_xaxes(range=[max(0.0, xs.min() - span * 0.25), xs.max() + span * 0.25])
    _layout(fig, title, subtitle, height=500)
    fig.update_layout(
        legend=dict(orientation="h", yanchor="top", y=-0.2, x=0, xanchor="left"),
        margin=dict(b=110),
    )
    return fig


def accuracy_latency_chart(df: pd.DataFrame) -> go.Figure:
    """Accuracy vs p95 latency of every measured (run, variant); frontier highlighted."""
    pts = measured_points(df)
    b = int(pts["latency_batch"].iloc[0]) if not pts.empty else 1
    lat = pts["p95_ms"].dropna() if not pts.empty else pts
    log_x = len(lat) > 1 and lat.min() > 0 and lat.max() / lat.min() > 20
    return frontier_chart(
        pts,
        "p95_ms",
        f"p95 latency at batch {b} (ms{', log scale' if log_x else ''}; "
        "as measured on each run's hardware)",
        f"Accuracy vs p95 latency at batch {b}",
        "Up and left is better · bold: Pareto frontier · faded: beaten on both",
        log_x=bool(log_x),
    )


def accuracy_cost_chart(df: pd.DataFrame) -> go.Figure:
    """Accuracy vs $ per 1M inferences of every candidate; frontier highlighted."""
    ok = ok_candidates(df)
    if ok.empty or "usd_per_million" not in ok or ok["usd_per_million"].isna().all():
        return empty_chart("No prices yet: pick hardware options to cost")
    return frontier_chart(
        ok,
        "usd_per_million",
        "$ per 1M inferences (log scale)",
        "Accuracy vs $ per 1M inferences",
        "Up and left is better · bold: Pareto frontier · faded: beaten on both",
        log_x=True,
    )


@dataclass(frozen=True)
class BarMetric:
    column: str
    label: str
    unit: str
    scale: float = 1.0
    higher_is_better: bool = True
    fmt: str = ".1f"
    per_option: bool = False


BAR_METRICS: dict[str, BarMetric] = {
    "accuracy": BarMetric("accuracy", "Accuracy", "%", 100),
    "p95_ms": BarMetric("p95_ms", "p95 latency", "ms", higher_is_better=False, fmt=".2f"),
    "throughput_per_s": BarMetric("throughput_per_s", "Throughput", "items/s", fmt=",.0f"),
    "size_mb": BarMetric("size_mb", "Model size", "MB", higher_is_better=False),
    "peak_memory_mb": BarMetric(
        "peak_memory_mb", "Peak memory", "MB", higher_is_better=False, fmt=",.0f"
    ),
    "energy_j_per_1k": BarMetric(
        "energy_j_per_1k", "Energy", "J per 1,000 items", higher_is_better=False, fmt=".2f"
    ),
    "usd_per_million": BarMetric(
        "usd_per_million",
        "$ per 1M inferences",
        "$",
        higher_is_better=False,
        fmt=".3f",
        per_option=True,
    ),
}


def bar_metrics(df: pd.DataFrame) -> list[str]:
    """The metric keys with at least one value among the finished candidates."""
    ok = ok_candidates(df)
    return [k for k, m in BAR_METRICS.items() if m.column in ok and ok[m.column].notna().any()]


def grouped_bars(df: pd.DataFrame, metric: str) -> go.Figure:
    """One metric: a group per variant, one bar per run (or per run and option for $)."""
    if metric not in BAR_METRICS:
        raise UserError(f"Unknown metric '{metric}'; choose one of {', '.join(BAR_METRICS)}.")
    m = BAR_METRICS[metric]
    data = ok_candidates(df) if m.per_option else measured_points(df)
    if data.empty or m.column not in data or data[m.column].isna().all():
        return empty_chart(f"No {m.label.lower()} in these runs")
    data = data[data[m.column].notna()]
    series = "where" if m.per_option else "run_label"
    fig = go.Figure()
    palette = ["#2E6BE6", "#E8833A", "#2BA84A", "#C23B6B", "#7B5BD6", "#13A3A3", "#5A6B7D"]
    for k, (name, g) in enumerate(data.groupby(series, sort=False)):
        ys = g[m.column] * m.scale
        fig.add_trace(
            go.Bar(
                x=[_esc(v) for v in g["variant"]],
                y=ys,
                name=_esc(name),
                marker_color=palette[k % len(palette)],
                text=[format(y, m.fmt) for y in ys],
                textposition="outside",
                cliponaxis=False,
                hovertext=[_esc(c) for c in g["candidate"]],
                hovertemplate=f"<b>%{{hovertext}}</b><br>{m.label}: %{{y:{m.fmt}}} {m.unit}"
                "<extra></extra>",
            )
        )
    better = "higher is better" if m.higher_is_better else "lower is better"
    fig.update_layout(barmode="group", bargap=0.25, bargroupgap=0.05)
    fig.update_yaxes(title_text=f"{m.label} ({m.unit})")
    if m.unit == "%":
        lo = float((data[m.column] * m.scale).min())
        fig.update_yaxes(range=[max(0, lo - 10), 100])
    group = "hardware option" if m.per_option else "run"
    return _layout(fig, f"{m.label} by variant", f"One bar per {group}; {better}")

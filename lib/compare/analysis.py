"""What the gathered candidates say: which finished, the Pareto frontier, deltas vs baseline.

- ``ok_candidates(df)`` / ``measured_points(df)``: the finished candidates, per option or once
  per (run, variant).
- ``pareto_frontier(df, x, y)``: which rows no other row beats on both axes.
- ``deltas(df)``: the table of changes against each run's baseline, with significance.
"""

from __future__ import annotations

import math

import pandas as pd

from lib.format import is_missing, num
from lib.measure.stats import ALPHA
from lib.results.frame import BASELINE


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
                # where a variant was load-tested (``targets.add_load_latency``)
                "p99 under load (ms)": num(r.get("load_p99_ms")),
                "Goodput (req/s)": num(r.get("load_goodput_qps")),
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

"""Gathering stored runs into one frame of candidates: labels, p95 latency, $ per 1M.

- ``gather(run_docs)``: one row per (run, variant), with run / hardware / dataset / date labels
  and each run's deltas against its *own* fp32 baseline (from ``lib.results.frame.to_frame``).
- ``add_latency(df, batch_size)``: the p95 latency at a batch size, and which estimate it is.
- ``add_costs(df, run_docs, options, ...)``: one row per candidate, $ per 1M from ``lib.cost.table``.
- ``compare_frame(...)``: the three above in one call.

Latency against a target is the p95 *measured on the run's own hardware* at the target's batch
size. Runs record p50, p90 and p99; p95 is taken as recorded when a run has it, else interpolated
linearly between p90 and p99 (``p95_basis`` says which). On other hardware, the cost model picks
the largest batch whose (measured or projected) p90 meets the same latency target.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from lib.errors import UserError
from lib.format import is_missing, num
from lib.measure.environment import hardware_label
from lib.measure.stats import is_significant
from lib.results.frame import BASELINE, to_frame
from lib.schema import RunDocument

if TYPE_CHECKING:
    from lib.compare.targets import Targets

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
        try:
            results = RunDocument.from_dict(doc).results
        except UserError:
            raise UserError("A run document must be a dict with a 'results' list.") from None
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
    # not servable on that hardware (CPU int8 on a GPU): never recommended; and the
    # GPU-servable chain priced in a variant's place ("distill:3+half"), "" for itself
    "applicable": "applicable",
    "reason": "cost_reason",
    "priced_as": "priced_as",
}
# The text columns of a candidate without a price: empty, not NaN.
_TEXT_COST_COLUMNS = ("option", "option_kind", "cost_source", "cost_reason", "priced_as")


def _blank(col: str) -> Any:
    return "" if col in _TEXT_COST_COLUMNS else math.nan


def assumptions_for(targets: Targets | None, base=None):
    """Cost assumptions whose latency limit is the target's p95 limit, when one is set."""
    from lib.cost.formulas import CostAssumptions

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

    Each run is costed on its own (``lib.cost.table.cost_table``): measured where the run measured that
    hardware, else projected (``cost_source``). Without options every row keeps ``option`` empty:
    the variant where it was measured, no price."""
    out = df.copy()
    if not options:
        for col in COST_COLUMNS.values():
            out[col] = _blank(col)
        return out
    from lib.cost.catalog import load_catalog
    from lib.cost.formulas import CostAssumptions
    from lib.cost.table import cost_table

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
                r[col] = _blank(col)
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
                failed[col] = _blank(col)
            pieces.append(failed)
    res = pd.concat(pieces, ignore_index=True) if pieces else out
    for col in COST_COLUMNS.values():  # a table whose every row failed lacks some columns
        if col not in res:
            res[col] = _blank(col)
    for col in (
        "usd_per_million",
        "hourly_usd",
        "cost_latency_ms",
        "cost_throughput_per_s",
        "capex_usd",
        "breakeven_months",
    ):
        res[col] = pd.to_numeric(res[col], errors="coerce").astype(float)
    for col in ("option", "cost_source", "cost_reason", "priced_as"):
        if col in res:
            res[col] = res[col].fillna("").astype(str)
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

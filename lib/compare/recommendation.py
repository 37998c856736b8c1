"""The candidate to ship, in one plain sentence, with the numbers it rests on.

``recommend(df, targets)`` picks among the candidates of ``lib.compare.frame.compare_frame``;
``numbers_table(rec)`` lays its numbers out for people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lib.compare.analysis import ok_candidates
from lib.compare.targets import Targets, apply_targets, not_applicable
from lib.format import fmt_ms, fmt_times, fmt_usd, is_missing, num
from lib.measure.stats import ALPHA
from lib.results.frame import BASELINE


@dataclass
class Recommendation:
    """One plain sentence and the numbers it rests on."""

    sentence: str
    numbers: dict[str, Any] = field(default_factory=dict)
    met: bool = False
    candidate: str | None = None
    notes: list[str] = field(default_factory=list)


def _tested(r: pd.Series) -> bool:
    """Was this candidate's variant load-tested (``add_load_latency``)?"""
    v = r.get("load_tested")
    return isinstance(v, bool | np.bool_) and bool(v)


def _under_load(r: pd.Series, t: Targets) -> bool:
    """Is this candidate's latency limit judged on its request latency under load?"""
    return t.max_p95_ms is not None and _tested(r)


def _pct(r: pd.Series) -> str:
    p = r.get("load_percentile")
    return p if isinstance(p, str) and p else "p99"


def _per_s(qps: float) -> str:
    return f"{qps:,.4g} requests/s"


def _load_phrase(r: pd.Series, limit: float) -> str:
    """ "meets p99 ≤ 100 ms up to 350 requests/s under load", or how it misses under load."""
    qps = num(r.get("load_qps_within"))
    if is_missing(qps) or qps <= 0:
        return f"{_pct(r)} under load above {limit:g} ms at every load tried"
    return f"meets {_pct(r)} ≤ {limit:g} ms up to {_per_s(qps)} under load"


def _load_fact(r: pd.Series, limit: float) -> str:
    """The same as a fact in a list: "p99 under load ≤ 100 ms up to 80 requests/s"."""
    qps = num(r.get("load_qps_within"))
    if is_missing(qps) or qps <= 0:
        return f"{_pct(r)} under load above {limit:g} ms at every load tried"
    return f"{_pct(r)} under load ≤ {limit:g} ms up to {_per_s(qps)}"


def _shortfall(r: pd.Series, t: Targets) -> float:
    """How far a candidate is from the target, summed relative gaps (0 = meets)."""
    gap = 0.0
    if t.max_p95_ms is not None and _under_load(r, t):
        qps, best = num(r.get("load_qps_within")), num(r.get("load_best_p99_ms"))
        if is_missing(qps) or qps <= 0:
            gap += 10.0 if is_missing(best) else max(0.0, best / t.max_p95_ms - 1)
    elif t.max_p95_ms is not None:
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


# What lib.cost.projection writes into a GPU projection's assumptions when it prices int8 as
# fp16. Kept for callers; the recommendation reads the cost table's ``priced_as`` instead.
INT8_AS_FP16 = "int8 projected at the fp16 peak"


def _priced_as(r: pd.Series) -> str:
    """The GPU-servable chain priced in this variant's place ("distill:3+half"), else ""."""
    v = r.get("priced_as")
    return v if isinstance(v, str) else ""


def _cost_how(r: pd.Series) -> str:
    """How a price was obtained, in brackets with a leading space; "" when measured as is."""
    priced_as = _priced_as(r)
    if r.get("cost_source") != "projected":
        return f" (priced as {priced_as}, its GPU-servable equivalent)" if priced_as else ""
    how = str(r.get("cost_assumptions") or "")
    if "TFLOP/s" not in how:  # a CPU instance, scaled from the measurement
        return f" (projected from {r['hardware']})"
    # An accelerator, projected from the model's FLOPs: say so, and that a CPU int8 variant is
    # priced as its GPU-servable equivalent there (its int8 kernels here are CPU ones).
    text = " (projected from the model's FLOPs on that accelerator"
    if priced_as:
        text += ", its int8 counted as fp16"
    return text + ")"


def _cost_text(r: pd.Series) -> str:
    return f"{fmt_usd(r['usd_per_million'])} per 1M requests{_cost_how(r)}"


def _load_lead(r: pd.Series, t: Targets, by_cost: bool) -> str:
    """The sentence's start for a candidate judged under load, e.g. "int8@ort meets p99 ≤ 100 ms
    up to 350 requests/s under load (measured with LoadGen), at $0.14 per 1M on c7i.2xlarge"."""
    assert t.max_p95_ms is not None
    said = f"{_load_phrase(r, t.max_p95_ms)} (measured with LoadGen)"
    if by_cost:
        return (
            f"{r['variant']} {said}, at {fmt_usd(r['usd_per_million'])} per 1M on "
            f"{r['where']}{_cost_how(r)}"
        )
    return f"{_where(r)} {said}"


def recommend(df: pd.DataFrame, targets: Targets | None = None) -> Recommendation:
    """The candidate to ship, in one sentence, e.g.

    "int8 on c7i.2xlarge meets your target at $0.41 per 1M requests, 3.1x cheaper than fp32 on
    g4dn.xlarge, losing 0.4 points, not significant."

    or, where the latency limit was judged under load (``add_load_latency``):

    "int8@ort meets p99 ≤ 100 ms up to 350 requests/s under load (measured with LoadGen), at
    $0.14 per 1M on c7i.2xlarge, ..."

    Among the candidates meeting every limit, the cheapest per 1M (or, with no prices, the
    fastest at p95); ties go to the more accurate. It is compared with the cheapest baseline
    (fp32) candidate that meets the latency and accuracy limits (or the cheapest baseline).
    A candidate the cost table marks not applicable (not servable on that hardware) is never
    recommended."""
    t = targets or Targets()
    ok = ok_candidates(df)
    if ok.empty:
        return Recommendation(
            "No variant finished, so there is nothing to recommend yet: run a benchmark or "
            "load the demo results.",
            {"targets": t.describe(), "candidates": 0},
        )
    judged_all = apply_targets(ok, t)
    na = not_applicable(judged_all)
    judged = judged_all[~na]
    numbers: dict[str, Any] = {
        "targets": t.describe(judged_all),
        "candidates": int(len(judged_all)),
        "meeting_target": int(judged["meets"].sum()),
    }
    if na.any():
        numbers["not_applicable"] = int(na.sum())
    if judged.empty:
        reasons = sorted({str(v) for v in judged_all.get("cost_reason", []) if v})
        return Recommendation(
            "None of these variants can be served on the hardware picked"
            + (f" ({'; '.join(reasons)})" if reasons else "")
            + ": pick other hardware, or variants it can serve.",
            numbers,
        )
    priced = judged["usd_per_million"].notna().any() if "usd_per_million" in judged else False
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
            _load_fact(closest, t.max_p95_ms)
            if t.max_p95_ms is not None and _under_load(closest, t)
            else f"p95 {fmt_ms(closest['p95_ms'])}",
            f"accuracy {num(closest['accuracy']) * 100:.1f}%"
            if not is_missing(closest["accuracy"])
            else "accuracy not measured",
        ]
        if priced:
            facts.append(f"{fmt_usd(closest['usd_per_million'])} per 1M")
        sentence = (
            f"Nothing meets your target ({numbers['targets']}). The closest is "
            f"{_where(closest)} ({', '.join(facts)}), which misses on {closest['misses']}: "
            "relax the target or try another technique or hardware."
        )
        numbers.update(_row_numbers(closest, t))
        numbers["closest"] = numbers.pop("candidate")
        return Recommendation(sentence, numbers, False, None, notes)

    sort_cols, ascending = (
        (["usd_per_million", "accuracy"], [True, False])
        if priced and meeting["usd_per_million"].notna().any()
        else (["p95_ms", "accuracy"], [True, False])
    )
    pick = meeting.sort_values(sort_cols, ascending=ascending, na_position="last").iloc[0]
    numbers.update(_row_numbers(pick, t))
    base_name = pick.get("baseline_variant") or BASELINE
    bases = judged[judged["variant"] == base_name]
    same_data = bases[bases["dataset"] == pick["dataset"]]
    bases = same_data if not same_data.empty else bases
    by_cost = priced and not is_missing(pick["usd_per_million"])
    loaded = _under_load(pick, t)
    verb = (
        "meets your target"
        if t.any
        else ("is the cheapest choice" if by_cost else "is the fastest choice")
    )

    if pick["variant"] == base_name:
        if loaded:
            lead = _load_lead(pick, t, by_cost)
        elif by_cost:
            lead = f"{_where(pick)} {verb} at {_cost_text(pick)}"
        else:
            lead = f"{_where(pick)} {verb} at p95 {fmt_ms(pick['p95_ms'])}"
        sentence = f"{lead}; no optimised variant that meets it does better."
        return Recommendation(sentence, numbers, True, pick["candidate"], notes)

    parts = []
    if by_cost:
        parts.append(
            _load_lead(pick, t, True) if loaded else f"{_where(pick)} {verb} at {_cost_text(pick)}"
        )
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
        parts.append(
            _load_lead(pick, t, False)
            if loaded
            else f"{_where(pick)} {verb} at p95 {fmt_ms(pick['p95_ms'])}"
        )
        pool = bases[bases["p95_ms"].notna() & (bases["run_id"] == pick["run_id"])]
        if loaded and not bases[bases["run_id"] == pick["run_id"]].empty:
            c = bases[bases["run_id"] == pick["run_id"]].iloc[0]
        else:
            c = pool.iloc[0] if not pool.empty else None
        if loaded and c is not None and _tested(c):
            parts.append(_load_comparison(pick, c, t, numbers))
        elif (
            c is not None
            and not is_missing(pick["p95_ms"])
            and pick["p95_ms"] > 0
            and not is_missing(c["p95_ms"])
        ):
            ratio = c["p95_ms"] / pick["p95_ms"]
            per_batch = " p95 per batch" if loaded else ""
            parts.append(
                _ratio_phrase(ratio, "faster", "slower", "about as fast as")
                + f"{c['variant']} ({fmt_ms(c['p95_ms'])}{per_batch})"
            )
            numbers.update(
                compared_with=c["candidate"],
                compared_p95_ms=float(c["p95_ms"]),
                faster_x=float(ratio),
            )
    parts.append(_accuracy_phrase(pick))
    sentence = ", ".join(parts)
    payback = _payback_phrase(pick, base_name)
    if payback:  # where the pick trained or calibrated: what that cost once, when it pays back
        sentence += "; " + payback
        numbers.update(_payback_numbers(pick))
    return Recommendation(sentence + ".", numbers, True, pick["candidate"], notes)


def _payback_phrase(r: pd.Series, baseline: str) -> str:
    """ "it cost $0.0043 to train once and saves $3,649 a month against fp32 on c7i.2xlarge:
    pays back in under a minute" for a pick with a one-off cost (``add_payback``'s columns);
    "" for one that trained nothing or has no payback figures."""
    from lib.cost.payback import payback_text

    usd, saving = num(r.get("one_off_usd")), num(r.get("monthly_saving_usd"))
    if is_missing(usd) or usd <= 0 or is_missing(saving):
        return ""
    text = f"it cost {fmt_usd(usd)} to train once and "
    if saving > 0:
        months = num(r.get("payback_months"))
        return text + (
            f"saves {fmt_usd(saving)} a month against {baseline} on {r['where']}: pays back "
            f"{payback_text(months)}"
        )
    if saving == 0:
        return text + f"saves nothing a month on {r['where']} at this volume: it never pays back"
    return text + f"costs {fmt_usd(-saving)} a month more than {baseline} to serve: never pays back"


def _payback_numbers(r: pd.Series) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("one_off_usd", "monthly_saving_usd", "payback_months"):
        v = num(r.get(key))
        # inf payback is "never", as in `cost --json`: JSON has no infinity
        out[key] = None if is_missing(v) else "never" if math.isinf(v) else v
    return out


def add_payback(
    df: pd.DataFrame, run_docs: list[dict], catalog=None, assumptions=None
) -> pd.DataFrame:
    """``df`` (``compare_frame``) with each priced candidate's ``one_off_usd``,
    ``monthly_saving_usd`` and ``payback_months`` (``lib.cost.payback``: its build time on the
    machine that built it, the saving against its run's baseline on the same option at the
    assumptions' volume)."""
    from lib.compare.frame import catalog_for
    from lib.cost.catalog import load_catalog
    from lib.cost.formulas import CostAssumptions
    from lib.cost.payback import payback_frame
    from lib.cost.table import cost_table
    from lib.errors import UserError

    out = df.copy()
    for col in ("one_off_usd", "monthly_saving_usd", "payback_months"):
        out[col] = np.nan
    options = sorted({o for o in out.get("option", []) if isinstance(o, str) and o})
    if out.empty or not options:
        return out
    full = catalog or load_catalog()
    cut = catalog_for(full, options)
    a = assumptions or CostAssumptions()
    for doc in run_docs:
        run_id = str(doc.get("run_id") or "")
        try:
            pay = payback_frame(doc, cost_table(doc, cut, a), catalog=full)
        except UserError:
            continue
        for _, p in pay.iterrows():
            rows = (
                (out["run_id"] == run_id)
                & (out["variant"] == p["variant"])
                & (out["option"] == p["option"])
            )
            for col in ("one_off_usd", "monthly_saving_usd", "payback_months"):
                out.loc[rows, col] = p[col]
    return out


def _load_comparison(pick: pd.Series, c: pd.Series, t: Targets, numbers: dict[str, Any]) -> str:
    """The pick against its baseline, both load-tested: how much more load it serves within the
    limit ("serving 2.6x more load than fp32 (80 requests/s)")."""
    assert t.max_p95_ms is not None
    mine, theirs = num(pick.get("load_qps_within")), num(c.get("load_qps_within"))
    numbers["compared_with"] = c["candidate"]
    if is_missing(theirs) or theirs <= 0:
        return f"where {c['variant']} stays above {t.max_p95_ms:g} ms at every load tried"
    ratio = mine / theirs
    numbers.update(compared_load_qps_within=float(theirs), more_load_x=float(ratio))
    return (
        "serving "
        + _ratio_phrase(ratio, "more load", "less load", "the same load as")
        + f"{c['variant']} ({_per_s(theirs)})"
    )


def _ratio_phrase(ratio: float, better: str, worse: str, same: str) -> str:
    if ratio >= 1.05:
        return f"{fmt_times(ratio)} {better} than "
    if ratio <= 1 / 1.05:
        return f"{fmt_times(1 / ratio)} {worse} than "
    return f"{same} "


def _row_numbers(r: pd.Series, t: Targets | None = None) -> dict[str, Any]:
    def f(x):
        v = num(x)
        return None if is_missing(v) else v

    out = {
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
    if _priced_as(r):
        out["priced_as"] = _priced_as(r)
    if _tested(r):  # the load test's numbers, whether or not the limit was judged on them
        basis = r.get("latency_basis")
        out.update(
            judged_under_load=t is not None and _under_load(r, t),
            latency_basis=f"{basis}, measured on {r['hardware']}"
            if isinstance(basis, str)
            else None,
            load_percentile=_pct(r),
            load_p99_ms=f(r.get("load_p99_ms")),
            load_qps_within=f(r.get("load_qps_within")),
            load_goodput_qps=f(r.get("load_goodput_qps")),
            load_slo_ms=f(r.get("load_slo_ms")),
        )
    return out


def numbers_table(rec: Recommendation) -> pd.DataFrame:
    """The numbers behind a recommendation as a two-column table for people.

    Where the pick was judged under load, its request latency under load and goodput come
    first and the per-batch p95 is labelled as the estimate it is."""
    n = rec.numbers
    under = bool(n.get("judged_under_load"))
    pct = str(n.get("load_percentile") or "p99")
    within = "the limit" if under else "its SLO"
    labels = {
        "targets": "Your target",
        "candidates": "Candidates compared",
        "meeting_target": "Candidates meeting the target",
        "not_applicable": "Left out: not servable on that hardware",
        "candidate": "Recommended",
        "closest": "Closest",
        "measured_on": "Measured on",
        "recorded": "Recorded",
        "dataset": "Dataset",
        "accuracy": "Accuracy",
        "accuracy_delta_pts": "Δ accuracy vs fp32 (points)",
        "p_value_vs_baseline": "p-value vs fp32 (McNemar)",
        "latency_basis": "Latency judged on" if under else "Latency under load",
        "load_p99_ms": f"{pct} under load, at the most load within {within}",
        "load_qps_within": f"Most load within {within}",
        "load_goodput_qps": "Goodput (MLPerf LoadGen)",
        "p95_ms": "p95 per batch (estimate, not judged)" if under else "p95 latency",
        "p95_basis": "p95 basis" if under else "Latency basis",
        "usd_per_million": "$ per 1M requests",
        "priced_as": "Priced as (GPU-servable equivalent)",
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
        "compared_load_qps_within": "Its most load within the limit",
        "more_load_x": "More load by",
        "one_off_usd": "One-off cost (training, calibration)",
        "monthly_saving_usd": "Monthly saving vs fp32",
        "payback_months": "Pays back",
    }
    rows = []
    for key, label in labels.items():
        if key not in n or n[key] is None:
            continue
        v = n[key]
        if key == "accuracy":
            v = f"{v * 100:.1f}%"
        elif key in ("usd_per_million", "compared_usd_per_million", "one_off_usd"):
            v = fmt_usd(v)
        elif key == "monthly_saving_usd":
            v = fmt_usd(v) if v >= 0 else f"{fmt_usd(-v)} more"
        elif key == "payback_months":
            from lib.cost.payback import payback_text

            v = payback_text(v)
        elif key in ("p95_ms", "compared_p95_ms", "load_p99_ms"):
            v = fmt_ms(v)
        elif key in ("cheaper_x", "faster_x", "more_load_x"):
            v = fmt_times(v)
        elif key in ("load_qps_within", "compared_load_qps_within"):
            v = _per_s(v)
        elif key == "load_goodput_qps":
            slo = n.get("load_slo_ms")
            v = _per_s(v) + (f" at {pct} ≤ {slo:g} ms" if slo is not None else "")
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

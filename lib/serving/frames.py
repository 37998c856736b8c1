"""Load-test results as frames: the server points, goodput per variant, the latency breakdown,
and what each cost row was priced on. Pure pandas over result dicts (or ``VariantResult``s).

- ``load_frame(results)``: one row per (variant, Server point), long form, for the hockey stick.
- ``goodput_frame(results)``: one row per load-tested variant: goodput at its SLO and the
  figures around it (SingleStream p90, Offline peak, the simulation's goodput).
- ``breakdown_frame(results)``: one row per (variant, stage): queue / tokenize / model in ms.
- ``cost_basis_frame(table)``: what each row of a cost table was priced on, where the table says.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from lib.format import is_missing, num

# How to get a load test, for every empty chart and page section.
HOW_TO_LOAD_TEST = (
    "No load test in these results: tick “Load-test serving (MLPerf LoadGen)” on the Run page, "
    "or run `python -m lib run --load-test`."
)
STAGES = ("queue", "tokenize", "model")
LOAD_COLUMNS = [
    "variant",
    "target_qps",
    "achieved_qps",
    "p50_ms",
    "p99_ms",
    "valid",
    "meets_slo",
    "slo_ms",
    "percentile",
    "goodput_qps",
]
GOODPUT_COLUMNS = [
    "variant",
    "goodput_qps",
    "slo_ms",
    "percentile",
    "tokenizer",
    "p99_at_goodput_ms",
    "single_stream_p90_ms",
    "offline_qps",
    "simulated_goodput_qps",
    "simulation_error",
    "within_tolerance",
    "converged",
    "note",
]
BREAKDOWN_COLUMNS = ["variant", "stage", "ms", "at"]
BASIS_COLUMNS = ["variant", "option", "kind", "basis", "cost_vs_peak", "applicable", "reason"]


def _get(record: Any, key: str, default: Any = None) -> Any:
    getter = getattr(record, "get", None)
    return getter(key, default) if callable(getter) else default


def load_tests(results: Iterable[Any]) -> list[tuple[str, dict]]:
    """(variant, its ``load_test`` dict) for each finished variant that was load-tested."""
    out = []
    for r in results or []:
        lt = _get(r, "load_test")
        if isinstance(lt, dict) and _get(r, "status", "ok") == "ok":
            out.append((str(_get(r, "variant", "?")), lt))
    return out


def has_load_test(results: Iterable[Any]) -> bool:
    """Was any finished variant in ``results`` load-tested?"""
    return bool(load_tests(results))


def percentile_label(percentile: Any) -> str:
    """``p99`` for 99, ``p99.9`` for 99.9; ``p99`` when not recorded."""
    p = num(percentile)
    return f"p{99 if is_missing(p) else p:g}"


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _float(value: Any) -> float:
    v = num(value)
    return math.nan if is_missing(v) else float(v)


def load_frame(results: Iterable[Any]) -> pd.DataFrame:
    """One row per (variant, Server point): offered load (``target_qps``), achieved QPS, p50 and
    p99 request latency (ms), LoadGen's verdict (``valid``), whether the point meets the SLO,
    with the variant's SLO, percentile and goodput repeated on each row. Sorted by variant (in
    run order) and offered load."""
    rows = []
    for variant, lt in load_tests(results):
        for p in lt.get("server_points") or []:
            if not isinstance(p, dict):
                continue
            target = _float(p.get("target_qps"))
            rows.append(
                {
                    "variant": variant,
                    "target_qps": target,
                    "achieved_qps": _float(p.get("achieved_qps")),
                    "p50_ms": _float(p.get("p50_ms")),
                    "p99_ms": _float(p.get("p99_ms")),
                    "valid": p.get("valid") is not False,
                    "meets_slo": bool(p.get("meets_slo")),
                    "slo_ms": _float(lt.get("slo_ms")),
                    "percentile": _float(lt.get("percentile", 99)),
                    "goodput_qps": _float(lt.get("goodput_qps")),
                }
            )
    df = pd.DataFrame(rows, columns=LOAD_COLUMNS)
    if df.empty:
        return df
    order = {v: i for i, v in enumerate(dict.fromkeys(df["variant"]))}
    df = df[df["target_qps"].notna()]
    return (
        df.assign(_o=df["variant"].map(order))
        .sort_values(["_o", "target_qps"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def _p99_at_goodput(lt: dict, goodput: float) -> float:
    """The request latency at the highest Server point that met the SLO (the goodput point)."""
    passing = [
        p
        for p in lt.get("server_points") or []
        if isinstance(p, dict) and p.get("meets_slo") and not is_missing(num(p.get("target_qps")))
    ]
    if not passing or not goodput > 0:
        return math.nan
    best = max(passing, key=lambda p: float(p["target_qps"]))
    return _float(best.get("p99_ms"))


def goodput_frame(results: Iterable[Any]) -> pd.DataFrame:
    """One row per load-tested variant, in run order: goodput (QPS) at its SLO, the SLO and its
    percentile, the tokenizer, the latency at the goodput point, SingleStream p90, Offline peak
    QPS, the simulated goodput and its relative error, whether the search converged, the note."""
    rows = []
    for variant, lt in load_tests(results):
        goodput = _float(lt.get("goodput_qps"))
        single = _dict(lt.get("single_stream"))
        offline = _dict(lt.get("offline"))
        sim = _dict(lt.get("simulation"))
        search = _dict(lt.get("search"))
        within = sim.get("within_tolerance")
        rows.append(
            {
                "variant": variant,
                "goodput_qps": goodput,
                "slo_ms": _float(lt.get("slo_ms")),
                "percentile": _float(lt.get("percentile", 99)),
                "tokenizer": str(lt.get("tokenizer") or ""),
                "p99_at_goodput_ms": _p99_at_goodput(lt, goodput),
                "single_stream_p90_ms": _float(single.get("p90_ms")),
                "offline_qps": _float(offline.get("qps")),
                "simulated_goodput_qps": _float(lt.get("simulated_goodput_qps")),
                "simulation_error": _float(sim.get("error")),
                "within_tolerance": within if isinstance(within, bool) else None,
                "converged": search["converged"]
                if isinstance(search.get("converged"), bool)
                else None,
                "note": str(lt.get("note") or ""),
            }
        )
    df = pd.DataFrame(rows, columns=GOODPUT_COLUMNS)
    for col in ("within_tolerance", "converged"):  # True / False / None, not numpy booleans
        df[col] = pd.Series([r[col] for r in rows], index=df.index, dtype=object)
    return df


def breakdown_frame(results: Iterable[Any]) -> pd.DataFrame:
    """One row per (variant, stage) with the mean milliseconds a request spends queued, being
    tokenized and in the model; ``at`` says where it was measured ("goodput", "single_stream")."""
    rows = []
    for variant, lt in load_tests(results):
        b = lt.get("breakdown_ms")
        if not isinstance(b, dict):
            continue
        for stage in STAGES:
            ms = _float(b.get(stage))
            if not math.isnan(ms):
                rows.append(
                    {"variant": variant, "stage": stage, "ms": ms, "at": str(b.get("at") or "")}
                )
    return pd.DataFrame(rows, columns=BREAKDOWN_COLUMNS)


# ------------------------------------------------------------------ cost rows
# The cost table's names for the figures a basis needs; the first present is used.
_RATIO_COLUMNS = ("cost_ratio_vs_peak",)  # $ per 1M at goodput / $ per 1M at peak throughput
_SLO_COLUMNS = ("slo_ms",)
_PERCENTILE_COLUMNS = ("slo_percentile", "percentile")


def _first(row: pd.Series, names: tuple[str, ...]) -> Any:
    for n in names:
        if n in row.index and not is_missing(num(row[n])):
            return row[n]
    return None


def basis_text(row: pd.Series) -> str:
    """A cost row's basis in words: "goodput at p99 ≤ 100 ms" or "peak throughput (offline)"
    (the table's own ``basis_label`` when it has one)."""
    label = row.get("basis_label")
    if isinstance(label, str) and label:
        return label
    basis = str(row.get("basis") or "")
    if basis == "goodput":
        slo = _first(row, _SLO_COLUMNS)
        p = percentile_label(_first(row, _PERCENTILE_COLUMNS))
        return f"goodput at {p} ≤ {float(slo):g} ms" if slo is not None else "goodput at the SLO"
    if basis == "peak":
        return "peak throughput (offline)"
    return basis or "–"


def has_basis(table: pd.DataFrame) -> bool:
    """Does this cost table say what each row was priced on (goodput or peak)?"""
    return isinstance(table, pd.DataFrame) and ("basis" in table or "applicable" in table)


def cost_basis_frame(table: pd.DataFrame) -> pd.DataFrame:
    """One row per cost row: variant, option, the basis in words, ``cost_vs_peak`` ($ per 1M at
    goodput ÷ $ per 1M at peak throughput; NaN when not given), whether the row is applicable
    (priced) and why not. Empty when the table does not carry a basis."""
    if not has_basis(table) or table.empty:
        return pd.DataFrame(columns=BASIS_COLUMNS)
    rows = []
    for _, r in table.iterrows():
        ratio = _first(r, _RATIO_COLUMNS)
        applicable = r.get("applicable")
        reason = r.get("reason")
        rows.append(
            {
                "variant": r.get("variant"),
                "option": r.get("option"),
                "kind": str(r.get("basis") or ""),
                "basis": basis_text(r),
                "cost_vs_peak": math.nan if ratio is None else float(ratio),
                "applicable": bool(applicable)
                if isinstance(applicable, bool | int | np.bool_)
                else True,
                "reason": reason if isinstance(reason, str) else "",
            }
        )
    return pd.DataFrame(rows, columns=BASIS_COLUMNS)


def not_applicable_lines(table: pd.DataFrame) -> list[str]:
    """ "**int8** on g4dn.xlarge: not priced (<reason>)" for each row marked not applicable."""
    basis = cost_basis_frame(table)
    return [
        f"**{r['variant']}** on {r['option']}: not priced ({r['reason'] or 'no reason given'})"
        for _, r in basis[~basis["applicable"].astype(bool)].iterrows()
    ]


def basis_summary(table: pd.DataFrame) -> str:
    """What the rows are costed on, in one sentence: how many on goodput at the SLO, how many on
    peak throughput, how far apart the two come out, how many are not priced. "" without a
    basis."""
    b = cost_basis_frame(table)
    if b.empty:
        return ""
    priced = b[b["applicable"].astype(bool)]
    parts = []
    for _, g in priced.groupby("kind", sort=False):
        # in general words (the table's label may add how each row got its figure)
        first = table.iloc[int(g.index[0])].drop(labels=["basis_label"], errors="ignore")
        what = basis_text(first)
        parts.append(f"{len(g)} row{'s' if len(g) != 1 else ''} costed on {what}")
    ratios = priced["cost_vs_peak"].dropna()
    if not ratios.empty:
        low, high = ratios.min(), ratios.max()
        span = f"{low:.2f}×" if math.isclose(low, high, rel_tol=0.005) else f"{low:.2f}–{high:.2f}×"
        parts.append(f"goodput pricing comes to {span} the peak-throughput figure")
    skipped = len(b) - len(priced)
    if skipped:
        parts.append(f"{skipped} not applicable (not priced)")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""

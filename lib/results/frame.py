"""Result dicts -> tidy pandas DataFrames, and the one-sentence summary a product manager reads.

Pure functions, no UI. Two shapes:

- ``to_frame(results)``: wide, one row per variant. Per-batch columns carry the batch size in
  their name: ``p50_ms_b32``, ``throughput_b32``, ``speedup_vs_fp32_b32`` ... The speed-up
  comes from the paired rounds where a result has them (``speedup_low_b32``/``_high_b32`` its
  95% interval, ``speedup_basis_b32`` which it is), else from the two separate p50s.
- ``to_long(results)``: long, one row per (variant, batch size), for charts over batch sizes
  and sequence lengths.

Accuracy stays a fraction (0-1) in the frames; ``accuracy_delta_pts`` is the change against the
baseline in percentage points. Latency is in ms, throughput in items/s, sizes in MB.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from lib.format import num
from lib.schema import BASELINE, VariantResult

LATENCY_STATS = ("p50", "p90", "p99", "mean", "std", "cv")

# Columns of the wide frame that are not per batch size, in display order.
SCALAR_COLUMNS = [
    "variant",
    "status",
    "error",
    "runtime",
    "precision",
    "device",
    "threads",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "accuracy_delta_pts",
    "p_value_vs_baseline",
    "macro_f1",
    "agreement",
    "n_eval",
    "size_mb",
    "size_ratio_vs_fp32",
    "params",
    "peak_memory_mb",
    "build_seconds",
    "energy_j_per_1k",
    "energy_method",
    "unstable",
    "notes",
    "expectations",
]


Results = Iterable[dict | VariantResult]


def parse_results(results: Results) -> list[VariantResult]:
    """Result dicts (or VariantResults) read through the schema, in order."""
    return [VariantResult.from_dict(r) for r in results]


def batch_sizes(results: Results) -> list[int]:
    """Every batch size any result was timed at, ascending."""
    found: set[int] = set()
    for r in parse_results(results):
        for key in list(r.latency_ms) + list(r.throughput_per_s):
            try:
                found.add(int(key))
            except (TypeError, ValueError):
                continue
    return sorted(found)


def notes_text(notes: Any) -> str:
    """A result's notes dict as one short human line."""
    if not notes:
        return ""
    if isinstance(notes, dict):
        parts = []
        for k, v in notes.items():
            if isinstance(v, float):
                v = f"{v:.3g}"
            parts.append(f"{str(k).replace('_', ' ')}: {v}")
        return "; ".join(parts)
    return str(notes)


def expectations_text(expectations: Any) -> str:
    """Whatever the runner says about a technique's expected payoff here, as one line."""
    if not expectations:
        return ""
    if isinstance(expectations, str):
        return expectations
    if isinstance(expectations, dict):
        for key in ("message", "summary", "reason", "text"):
            if isinstance(expectations.get(key), str):
                return expectations[key]
        return "; ".join(f"{k}: {v}" for k, v in expectations.items() if v not in (None, ""))
    if isinstance(expectations, list | tuple):
        return "; ".join(expectations_text(e) for e in expectations if e)
    return str(expectations)


def _unstable(stability: Any) -> bool | None:
    if isinstance(stability, dict):
        flag = stability.get("unstable")
        return None if flag is None else bool(flag)
    if isinstance(stability, bool):
        return stability
    return None


def to_frame(results: Results, baseline: str = BASELINE) -> pd.DataFrame:
    """One row per variant (failed ones included, with NaN metrics), in the order given."""
    results = parse_results(results)
    sizes = batch_sizes(results)
    rows = []
    for r in results:
        ci = r.accuracy_ci or [None, None]
        if len(ci) != 2:
            ci = [None, None]
        row: dict[str, Any] = {
            "variant": str(r.variant),
            "status": r.status,
            "error": r.error or "",
            "runtime": r.runtime or "",
            "precision": r.precision or "",
            "device": r.device or "",
            "threads": num(r.threads),
            "accuracy": num(r.accuracy),
            "accuracy_low": num(ci[0]),
            "accuracy_high": num(ci[1]),
            "p_value_vs_baseline": num(r.p_value_vs_baseline),
            "macro_f1": num(r.macro_f1),
            "agreement": num(r.agreement),
            "n_eval": num(r.n_eval),
            "size_mb": num(r.size_mb),
            "params": num(r.params),
            "peak_memory_mb": num(r.peak_memory_mb),
            "build_seconds": num(r.build_seconds),
            "energy_j_per_1k": num(r.energy_j_per_1k),
            "energy_method": r.energy_method or "",
            # "stability": an older per-result verdict, kept when a file has it
            "unstable": _unstable(r.extra["stability"] if "stability" in r.extra else r.unstable),
            "notes": notes_text(r.notes),
            "expectations": expectations_text(r.expectations),
        }
        for b in sizes:
            stats = r.latency(b)
            for s in LATENCY_STATS:
                value = getattr(stats, s) if stats is not None else None
                row[f"{s}_ms_b{b}" if s != "cv" else f"cv_b{b}"] = num(value)
            t = r.throughput_per_s.get(str(b))
            if t is None and stats is not None and stats.p50:
                t = b / (stats.p50 / 1000)
            row[f"throughput_b{b}"] = num(t)
            paired = r.speedup_paired.get(str(b))
            low, high = ((paired.ci if paired else None) or [None, None])[:2]
            row[f"paired_speedup_b{b}"] = num(paired.speedup if paired else None)
            row[f"speedup_low_b{b}"] = num(low)
            row[f"speedup_high_b{b}"] = num(high)
        rows.append(row)

    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=SCALAR_COLUMNS)

    base = _baseline_row(frame, baseline)
    for b in sizes:
        # The speed-up from rounds in which the variant and fp32 took turns, where the run has
        # them; else the ratio of the two separate timings.
        col = f"speedup_vs_fp32_b{b}"
        frame[col] = math.nan
        if base is not None and base[f"p50_ms_b{b}"] > 0:
            frame[col] = base[f"p50_ms_b{b}"] / frame[f"p50_ms_b{b}"]
        paired = frame[f"paired_speedup_b{b}"].notna()
        frame[f"speedup_basis_b{b}"] = "separate timings"
        frame.loc[paired, f"speedup_basis_b{b}"] = "paired rounds"
        frame.loc[paired, col] = frame.loc[paired, f"paired_speedup_b{b}"]
        if base is not None:
            frame.loc[frame["variant"] == baseline, col] = 1.0
            frame.loc[frame["variant"] == baseline, f"speedup_basis_b{b}"] = "the baseline"
        frame.loc[frame[col].isna(), f"speedup_basis_b{b}"] = ""
    if base is not None:
        frame["accuracy_delta_pts"] = (frame["accuracy"] - base["accuracy"]) * 100
        frame["size_ratio_vs_fp32"] = base["size_mb"] / frame["size_mb"]
    else:
        frame["accuracy_delta_pts"] = math.nan
        frame["size_ratio_vs_fp32"] = math.nan
    per_batch = [c for b in sizes for c in _batch_columns(b)]
    return frame[[c for c in SCALAR_COLUMNS if c in frame.columns] + per_batch]


def _batch_columns(b: int) -> list[str]:
    return [
        f"p50_ms_b{b}",
        f"p90_ms_b{b}",
        f"p99_ms_b{b}",
        f"mean_ms_b{b}",
        f"std_ms_b{b}",
        f"cv_b{b}",
        f"throughput_b{b}",
        f"speedup_vs_fp32_b{b}",
        f"speedup_low_b{b}",
        f"speedup_high_b{b}",
        f"speedup_basis_b{b}",
    ]


def _baseline_row(frame: pd.DataFrame, baseline: str) -> pd.Series | None:
    rows = frame[(frame["variant"] == baseline) & (frame["status"] == "ok")]
    return None if rows.empty else rows.iloc[0]


def frame_batch_sizes(frame: pd.DataFrame) -> list[int]:
    """The batch sizes a wide frame has columns for."""
    out = []
    for c in frame.columns:
        if c.startswith("p50_ms_b"):
            out.append(int(c.removeprefix("p50_ms_b")))
    return sorted(out)


GROUPINGS = ("run order", "runtime", "technique")


def technique_of(variant: str) -> str:
    """A variant's technique chain without its runtime: ``distill:3+int8@ort`` -> distill:3+int8."""
    return str(variant).rsplit("@", 1)[0]


def group_rows(frame: pd.DataFrame, by: str = "run order") -> pd.DataFrame:
    """The wide frame with rows of one runtime (or one technique chain) next to each other.

    Groups appear in the order their first row ran; rows keep the run order inside a group, so
    ``technique`` puts ``int8`` beside ``int8@ort`` and ``runtime`` all ``@ort`` rows together.
    """
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)} (got {by!r})")
    if by == "run order" or frame.empty:
        return frame
    if by == "runtime":
        keys = frame["runtime"].fillna("").replace("", "eager")
    else:
        keys = frame["variant"].map(technique_of)
    first = {k: i for i, k in reversed(list(enumerate(keys)))}
    order = sorted(range(len(frame)), key=lambda i: (first[keys.iloc[i]], i))
    return frame.iloc[order]


def ok_rows(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty or "status" not in frame.columns:
        return frame
    return frame[frame["status"] == "ok"]


def to_long(results: Results, baseline: str = BASELINE, seq_len: int | None = None) -> pd.DataFrame:
    """One row per (variant, batch size) of the variants that were measured.

    ``seq_len``: the sequence length the run timed at, when the results don't say
    (a result's own ``seq_len`` wins)."""
    results = parse_results(results)
    wide = to_frame(results, baseline)
    cols = [
        "variant",
        "runtime",
        "precision",
        "seq_len",
        "batch_size",
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "mean_ms",
        "std_ms",
        "cv",
        "throughput_per_s",
        "speedup_vs_fp32",
        "speedup_low",
        "speedup_high",
        "accuracy",
        "accuracy_low",
        "accuracy_high",
        "size_mb",
    ]
    rows = []
    by_variant = {str(r.variant): r for r in results}
    for _, w in ok_rows(wide).iterrows():
        own = by_variant.get(w["variant"])
        own_len = own.seq_len if own is not None else None
        for b in frame_batch_sizes(wide):
            if math.isnan(w[f"p50_ms_b{b}"]):
                continue
            rows.append(
                {
                    "variant": w["variant"],
                    "runtime": w["runtime"],
                    "precision": w["precision"],
                    "seq_len": own_len if own_len is not None else seq_len,
                    "batch_size": b,
                    "p50_ms": w[f"p50_ms_b{b}"],
                    "p90_ms": w[f"p90_ms_b{b}"],
                    "p99_ms": w[f"p99_ms_b{b}"],
                    "mean_ms": w[f"mean_ms_b{b}"],
                    "std_ms": w[f"std_ms_b{b}"],
                    "cv": w[f"cv_b{b}"],
                    "throughput_per_s": w[f"throughput_b{b}"],
                    "speedup_vs_fp32": w[f"speedup_vs_fp32_b{b}"],
                    "speedup_low": w[f"speedup_low_b{b}"],
                    "speedup_high": w[f"speedup_high_b{b}"],
                    "accuracy": w["accuracy"],
                    "accuracy_low": w["accuracy_low"],
                    "accuracy_high": w["accuracy_high"],
                    "size_mb": w["size_mb"],
                }
            )
    return pd.DataFrame(rows, columns=cols)


def to_length_frame(results: Results) -> pd.DataFrame:
    """One row per (variant, sequence length) of a latency-vs-length sweep, in the columns
    ``charts.latency_vs_length`` draws; empty when no result swept lengths."""
    rows = []
    for r in parse_results(results):
        sweep = r.latency_by_seq_len_ms
        if not r.ok or not sweep:
            continue
        bs = r.sweep_batch_size or 1
        for n, t in sweep.items():
            rows.append(
                {
                    "variant": r.variant,
                    "runtime": r.runtime if r.has("runtime") else "eager",
                    "seq_len": int(n),
                    "batch_size": int(bs),
                    "p50_ms": t.p50,
                    "p90_ms": t.p90 if t.has("p90") else float("nan"),
                    "throughput_per_s": bs / (t.p50 / 1000) if t.p50 else float("nan"),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "variant",
            "runtime",
            "seq_len",
            "batch_size",
            "p50_ms",
            "p90_ms",
            "throughput_per_s",
        ],
    )


# ------------------------------------------------------------------ for people
def display_frame(frame: pd.DataFrame, batch_sizes_shown: list[int] | None = None) -> pd.DataFrame:
    """The wide frame with human column names and units, ready for a table.

    Accuracy, macro-F1 and agreement in %; latency in ms; throughput in items/s."""
    sizes = batch_sizes_shown or frame_batch_sizes(frame)
    out = pd.DataFrame(index=frame.index)
    out["Variant"] = frame["variant"]
    out["Status"] = frame["status"]
    out["Runtime"] = frame["runtime"]
    out["Precision"] = frame["precision"]
    out["Accuracy (%)"] = frame["accuracy"] * 100
    if frame["accuracy_low"].notna().any():
        out["Accuracy 95% CI (%)"] = [
            f"{lo * 100:.1f} – {hi * 100:.1f}" if not (math.isnan(lo) or math.isnan(hi)) else ""
            for lo, hi in zip(frame["accuracy_low"], frame["accuracy_high"], strict=True)
        ]
    out["Δ accuracy (pts)"] = frame["accuracy_delta_pts"]
    if frame["p_value_vs_baseline"].notna().any():
        out["p-value vs fp32"] = frame["p_value_vs_baseline"]
    out["Macro-F1 (%)"] = frame["macro_f1"] * 100
    out["Agreement with fp32 (%)"] = frame["agreement"] * 100
    for b in sizes:
        out[f"p50 b{b} (ms)"] = frame[f"p50_ms_b{b}"]
        out[f"p90 b{b} (ms)"] = frame[f"p90_ms_b{b}"]
        out[f"p99 b{b} (ms)"] = frame[f"p99_ms_b{b}"]
        out[f"Throughput b{b} (items/s)"] = frame[f"throughput_b{b}"]
        out[f"Speed-up b{b} (×)"] = frame[f"speedup_vs_fp32_b{b}"]
        if frame[f"speedup_low_b{b}"].notna().any():
            out[f"Speed-up b{b} 95% CI (paired)"] = [
                f"{lo:.2f} – {hi:.2f}" if not (math.isnan(lo) or math.isnan(hi)) else ""
                for lo, hi in zip(
                    frame[f"speedup_low_b{b}"], frame[f"speedup_high_b{b}"], strict=True
                )
            ]
    out["Size (MB)"] = frame["size_mb"]
    out["Params (M)"] = frame["params"] / 1e6
    out["Peak memory (MB)"] = frame["peak_memory_mb"]
    if frame["energy_j_per_1k"].notna().any():
        out["Energy (J per 1k)"] = frame["energy_j_per_1k"]
    if frame["unstable"].notna().any():
        out["Timing stable"] = frame["unstable"].map(
            lambda u: "" if u is None or u != u else ("no" if u else "yes")
        )
    out["Notes"] = [
        "; ".join(p for p in (err, exp, notes) if p)
        for err, exp, notes in zip(
            frame["error"], frame["expectations"], frame["notes"], strict=True
        )
    ]
    return out.reset_index(drop=True)


def _times(ratio: float) -> str:
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def summary_sentence(
    frame: pd.DataFrame,
    batch_size: int | None = None,
    baseline: str = BASELINE,
    max_loss_pts: float = 1.0,
) -> str:
    """One sentence a product manager can act on, e.g.
    "int8 is 1.6x faster than fp32 at batch 32, 3.9x smaller, and loses 0.4 accuracy points."

    Picks the fastest variant that loses at most ``max_loss_pts`` accuracy points (or the
    fastest overall when none does) at ``batch_size`` (default: the largest measured)."""
    ok = ok_rows(frame)
    if ok.empty:
        return "No variant finished, so there is nothing to compare yet."
    sizes = frame_batch_sizes(frame)
    if not sizes:
        return "No latency was measured, so there is no speed to compare."
    b = batch_size if batch_size in sizes else sizes[-1]
    base = _baseline_row(frame, baseline)
    if base is None:
        fastest = ok.sort_values(f"p50_ms_b{b}").iloc[0]
        return (
            f"The {baseline} baseline was not measured; the fastest variant at batch {b} is "
            f"{fastest['variant']} ({fastest[f'p50_ms_b{b}']:.1f} ms per batch)."
        )
    others = ok[(ok["variant"] != baseline) & ok[f"p50_ms_b{b}"].notna()]
    if others.empty:
        return (
            f"Only the {baseline} baseline was measured: {base['accuracy'] * 100:.1f}% accuracy, "
            f"{base[f'p50_ms_b{b}']:.1f} ms per batch of {b}. Add techniques to compare."
        )
    keeps = others[others["accuracy_delta_pts"].fillna(-math.inf) >= -max_loss_pts]
    pool = keeps if not keeps.empty else others
    best = pool.sort_values(f"speedup_vs_fp32_b{b}", ascending=False).iloc[0]
    speed = best[f"speedup_vs_fp32_b{b}"]
    if speed >= 1.05:
        speed_part = f"{_times(speed)} faster than {baseline}"
    elif speed <= 1 / 1.05:
        speed_part = f"{_times(1 / speed)} slower than {baseline}"
    else:
        speed_part = f"about as fast as {baseline}"
    parts = [f"{best['variant']} is {speed_part} at batch {b}"]
    size_ratio = best["size_ratio_vs_fp32"]
    if not math.isnan(size_ratio) and size_ratio >= 1.2:
        parts.append(f"{_times(size_ratio)} smaller")
    delta = best["accuracy_delta_pts"]
    if math.isnan(delta):
        acc = "its accuracy was not measured"
    elif abs(delta) < 0.05:
        acc = "keeps the same accuracy"
    else:
        verb = "loses" if delta < 0 else "gains"
        acc = f"{verb} {abs(delta):.1f} accuracy points"
        p = best["p_value_vs_baseline"]
        if not math.isnan(p):
            acc += " (not significant)" if p >= 0.05 else f" (significant, p={p:.2g})"
    parts.append(f"and {acc}")
    sentence = ", ".join(parts[:-1]) + (", " if len(parts) > 2 else " ") + parts[-1] + "."
    faster = others[others[f"speedup_vs_fp32_b{b}"] >= 1.05]
    if not keeps.empty and speed < 1.05 and not faster.empty:
        # The best that keeps accuracy is no faster: lead with that, then name the trade.
        quick = faster.sort_values(f"speedup_vs_fp32_b{b}", ascending=False).iloc[0]
        lost = quick["accuracy_delta_pts"]
        cost = (
            f"loses {abs(lost):.1f} accuracy points"
            if not math.isnan(lost) and lost < 0
            else "its accuracy differs"
        )
        return (
            f"No variant that keeps accuracy within {max_loss_pts:g} point of {baseline} is "
            f"faster at batch {b} ({best['variant']} is {speed_part}); the fastest, "
            f"{quick['variant']}, is {_times(quick[f'speedup_vs_fp32_b{b}'])} faster and {cost}."
        )
    if keeps.empty:
        sentence += (
            f" No variant stayed within {max_loss_pts:g} accuracy point of {baseline}; "
            "this is the fastest."
        )
    return sentence

"""The Results page's words and cards as plain Python: which run to show first, one headline
card per variant, which variants were unstable or failed, how sure the accuracy is, whether the
hardware behaved as expected, and the facts of where and how a run was measured."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from lib.results.frame import ok_rows
from lib.schema import BASELINE, Status


def default_run(runs: list[dict], wanted: str | None, live: str | None = None) -> str:
    """The run to show: the one asked for when it is stored, else ``live`` (the session's queued
    or running run) when it is stored, else the newest done, else the newest."""
    ids = {r["id"] for r in runs}
    for run_id in (wanted, live):
        if run_id in ids:
            return str(run_id)
    return next((r["id"] for r in runs if r["status"] == Status.DONE), runs[0]["id"])


def headline_cards(frame: pd.DataFrame, bs: int | None, most: int = 5) -> list[dict[str, Any]]:
    """One card per variant (the first ``most``): p50 latency of a batch of ``bs``, the speed-up
    badge (its colour and arrow), the accuracy change and, from paired rounds, the speed-up's
    95% interval. [] when there is nothing measured at that batch size."""
    ok = ok_rows(frame)
    if ok.empty or bs is None or f"p50_ms_b{bs}" not in ok.columns:
        return []
    cards = []
    for _, r in ok.head(most).iterrows():
        p50 = r[f"p50_ms_b{bs}"]
        speed = r.get(f"speedup_vs_fp32_b{bs}", math.nan)
        delta = r.get("accuracy_delta_pts", math.nan)
        acc = f"accuracy {r['accuracy'] * 100:.1f}%"
        if r["variant"] == BASELINE:
            badge, color, arrow = "baseline", "gray", "off"
        elif math.isnan(speed):
            badge, color, arrow = "no baseline", "gray", "off"
        elif speed >= 1:
            badge, color, arrow = f"{speed:.2f}× faster", "green", "up"
        else:
            badge, color, arrow = f"{1 / speed:.2f}× slower", "red", "down"
        if r["variant"] != BASELINE and not math.isnan(delta):
            acc += f" ({delta:+.1f} pts)"
        low, high = r.get(f"speedup_low_b{bs}", math.nan), r.get(f"speedup_high_b{bs}", math.nan)
        paired = (
            ""
            if math.isnan(low) or math.isnan(high)
            else f" Speed-up 95% CI {low:.2f}–{high:.2f}x, from rounds timed in turns with fp32."
        )
        cards.append(
            {
                "variant": r["variant"],
                "value": f"{p50:,.1f} ms" if not math.isnan(p50) else "–",
                "badge": badge,
                "color": color,
                "arrow": arrow,
                "description": acc,
                "help": f"Median (p50) latency of one batch of {bs}, and accuracy on the eval set."
                + paired,
            }
        )
    return cards


def failures(frame: pd.DataFrame) -> list[str]:
    """ "**half** failed: <why>" for each variant that did not finish."""
    return [
        f"**{r['variant']}** failed: {r['error'] or 'no reason given'}"
        for _, r in frame[frame["status"] != Status.OK].iterrows()
    ]


def unstable_warning(frame: pd.DataFrame) -> str | None:
    """A warning naming the variants whose timing was unstable, if any."""
    unstable = [r["variant"] for _, r in ok_rows(frame).iterrows() if r.get("unstable") is True]
    if not unstable:
        return None
    return (
        f"Timing of {', '.join(unstable)} was unstable (other work on the machine?): "
        "treat their latency with care, or run again."
    )


def noise_caption(results: list[dict]) -> str | None:
    """How sure the accuracy is on this eval set (from the baseline's), if it was measured."""
    from lib.measure.stats import noise_text

    base = next(
        (r for r in results if r.get("variant") == BASELINE and r.get("status") == Status.OK),
        None,
    )
    if not (base and base.get("n_eval") and base.get("accuracy") is not None):
        return None
    return (
        f"Accuracy noise on this eval set: {noise_text(int(base['n_eval']), base['accuracy'])}. "
        "A difference is called significant only when the paired McNemar test against fp32 "
        "gives p < 0.05."
    )


def runtime_advice(results: list[dict]) -> list[str]:
    """The fastest way to serve each technique, where the run tried more than one runtime."""
    from lib.results.advice import fastest_runtimes

    return [a["sentence"] for a in fastest_runtimes(results) if len(a["runtimes_compared"]) > 1]


def expectation_checks(results: list[dict]) -> list[tuple[bool | None, str, str]]:
    """(agrees: True / False / None for unknown, variant, sentence) for each variant whose
    result says whether this hardware behaved as expected."""
    return [
        (r["expectation_check"].get("agrees"), r["variant"], r["expectation_check"]["text"])
        for r in results
        if isinstance(r.get("expectation_check"), dict) and r["expectation_check"].get("text")
    ]


def environment_facts(run: dict, started: str = "") -> list[tuple[str, Any]]:
    """Where a run was measured, as (label, value) lines; [] when nothing was recorded.
    ``started``: the run's start time as shown, used when the environment has no date."""
    env = run.get("environment") or {}
    if not env:
        return []
    return [
        ("Hardware", run.get("hardware") or ""),
        ("CPU", env.get("cpu_model")),
        ("CPU features", ", ".join(env.get("cpu_flags") or []) or "none of AVX512/VNNI/AMX"),
        ("Cores (usable)", f"{env.get('cores')} ({env.get('usable_cores')})"),
        ("Threads", env.get("threads")),
        ("Device", env.get("device")),
        ("GPU", env.get("gpu_name")),
        ("torch / transformers", f"{env.get('torch')} / {env.get('transformers')}"),
        ("onnxruntime", env.get("onnxruntime")),
        ("Python / OS", f"{env.get('python')} / {env.get('os')}"),
        ("Date", env.get("date") or started),
        ("Code commit", env.get("git_commit")),
        ("Host", env.get("hostname")),
    ]


def baseline_facts(run: dict, title: str) -> tuple[str, list[tuple[str, Any]]]:
    """How the baseline was made (a sentence) and its facts as (label, value) lines; ("", [])
    when nothing was recorded. ``title``: the run's title as shown."""
    extra = run.get("extra") or {}
    if not extra:
        return "", []
    if extra.get("adapted"):
        how = (
            "reused from the cache"
            if extra.get("adapt_cached")
            else f"fine-tuned in {extra.get('adapt_seconds') or 0:.0f} s"
        )
        adapted = f"A new classification head was {how} ({extra.get('adapt_steps') or '–'} steps)."
    else:
        adapted = "The model's own classification head matched the labels: used as it is."
    labels = extra.get("labels") or []
    rows = [
        ("Training examples", extra.get("n_train")),
        ("Evaluation examples", extra.get("n_eval")),
        ("Classes", ", ".join(map(str, labels[:12])) + (" …" if len(labels) > 12 else "")),
        ("Run", f"{title} · {run['id']} · {run['status']}"),
    ]
    return adapted, rows


def facts_markdown(rows: list[tuple[str, Any]]) -> str:
    """Label: value lines (markdown), skipping what was not recorded."""
    lines = []
    for k, v in rows:
        if v in (None, "", "None") or str(v).strip() in ("None / None", "None (None)"):
            continue
        lines.append(f"**{k}:** {v}")
    return "  \n".join(lines)


def column_format(column: str) -> dict[str, str] | None:
    """How the results table shows a column, from its unit: a number format or a width."""
    if column.endswith("(ms)"):
        return {"format": "%.2f"}
    if column.endswith("(items/s)"):
        return {"format": "%.0f"}
    if column.endswith("(×)"):
        return {"format": "%.2f×"}
    if column.endswith("(pts)"):
        return {"format": "%+.1f"}
    if column.endswith(("(%)", "(MB)")) or column == "Params (M)":
        return {"format": "%.1f"}
    if column == "p-value vs fp32":
        return {"format": "%.3f"}
    if column == "Notes":
        return {"width": "large"}
    return None


def serving_sentence(results: list[dict], where: str = "this machine") -> str | None:
    """The load test in one line: "int8@ort serves 210 requests/s within p99 ≤ 100 ms on this
    machine (fp32: 80)". The best variant by goodput, then fp32 (or the next best) for scale;
    None when nothing was load-tested."""
    from lib.serving.frames import goodput_frame, percentile_label

    g = goodput_frame(results)
    g = g[g["goodput_qps"].notna()]
    if g.empty:
        return None
    best = g.loc[g["goodput_qps"].idxmax()]
    slo = f"{percentile_label(best['percentile'])} ≤ {best['slo_ms']:g} ms"
    if not best["goodput_qps"] > 0:
        return f"No variant serves any load within {slo} on {where}."
    line = f"{best['variant']} serves {best['goodput_qps']:,.0f} requests/s within {slo} on {where}"
    others = g[g["variant"] != best["variant"]]
    other = others[others["variant"] == BASELINE]
    if other.empty and not others.empty:
        other = others.loc[[others["goodput_qps"].idxmax()]]
    if not other.empty:
        o = other.iloc[0]
        own = "" if o["slo_ms"] == best["slo_ms"] else f" at ≤ {o['slo_ms']:g} ms"
        line += f" ({o['variant']}: {o['goodput_qps']:,.0f}{own})"
    return line + "."


def serving_notes(results: list[dict]) -> list[str]:
    """What to know about each load test: why goodput is 0, a search that did not converge, a
    simulation that strayed from the measurement."""
    from lib.serving.frames import goodput_frame

    notes = []
    for _, r in goodput_frame(results).iterrows():
        if r["note"]:
            notes.append(f"**{r['variant']}**: {r['note']}")
        if r["converged"] is False:
            notes.append(
                f"**{r['variant']}**: the goodput search ran out of points before it converged; "
                "its goodput is a lower bound."
            )
        err = r["simulation_error"]
        if r["within_tolerance"] is False and not math.isnan(err):
            notes.append(
                f"**{r['variant']}**: the batcher's simulation is {err * 100:+.0f}% off the "
                "measured goodput here, so its projections to other hardware are rough."
            )
    return notes

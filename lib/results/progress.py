"""A run's progress for people watching it: one row per step (load the data, prepare the
baseline, each variant) with its state, and the small table of results measured so far.
Plain Python over the store's events and results."""

from __future__ import annotations

import pandas as pd

from lib.execution.runs import ACTIVE
from lib.execution.variant_process import LOAD_TEST_STAGE
from lib.schema import BASELINE, Status


def _load_test_variant(message: str, variants: list[str]) -> str | None:
    """Which variant a load-test event is about: its message reads "variant NAME: ..." (the
    longest name that fits, as names may hold a colon: ``distill:3+int8``)."""
    fits = [v for v in variants if message.startswith(f"variant {v}: ")]
    return max(fits, key=len) if fits else None


def steps(spec: dict, events: list[dict], results: list[dict], status: str) -> list[dict]:
    """One row per step of the run: data, baseline, each variant ({Step, State, Detail}).

    A variant's detail is its latest event: its own (``variant:NAME``) or, while it is
    load-tested, the load test's ("load test: Server at 120 QPS (point 3/8)")."""
    variants = [BASELINE] + [v for v in spec.get("variants", []) if v != BASELINE]
    last: dict[str, dict] = {}
    for e in events:
        last[e["stage"]] = e
        if e["stage"] == LOAD_TEST_STAGE:
            message = str(e.get("message") or "")
            v = _load_test_variant(message, variants)
            if v is not None:
                rest = message.removeprefix(f"variant {v}: ")
                last[f"variant:{v}"] = {**e, "message": f"load test: {rest}"}
    by_variant = {r.get("variant"): r for r in results}
    stage_now = events[-1]["stage"] if events else ""
    rows = []
    for stage, label in (("data", "Load the data"), ("adapt", "Prepare the baseline")):
        seen = stage in last
        state = "done" if seen and stage_now != stage else ("in progress" if seen else "waiting")
        if status in (Status.FAILED, Status.INTERRUPTED) and stage_now == stage:
            state = "stopped"
        rows.append(
            {"Step": label, "State": state, "Detail": last.get(stage, {}).get("message", "")}
        )
    for v in variants:
        r = by_variant.get(v)
        event = last.get(f"variant:{v}")
        if r is not None:
            state = "measured" if r.get("status") == Status.OK else "failed"
            detail = r.get("error") or ""
        elif event is not None and status in ACTIVE:
            state, detail = "in progress", event["message"]
        elif status in ACTIVE:
            state, detail = "waiting", ""
        else:
            state, detail = "– not run", ""
        rows.append({"Step": f"Variant {v}", "State": state, "Detail": detail})
    return rows


def results_so_far(ok: pd.DataFrame) -> pd.DataFrame:
    """The measured variants (``lib.results.frame.ok_rows``) in a few columns: accuracy, p50
    and speed-up at each batch size, size."""
    from lib.results.frame import frame_batch_sizes

    out = pd.DataFrame({"Variant": ok["variant"], "Accuracy (%)": ok["accuracy"] * 100})
    for b in frame_batch_sizes(ok):
        out[f"p50 b{b} (ms)"] = ok[f"p50_ms_b{b}"]
        out[f"Speed-up b{b} (×)"] = ok[f"speedup_vs_fp32_b{b}"]
    out["Size (MB)"] = ok["size_mb"]
    return out


def number_format(column: str) -> str:
    """The display format of a results-so-far column: ×, ms or one decimal."""
    return "%.2f×" if "×" in column else ("%.2f" if "ms" in column else "%.1f")


def live_summary(run: dict, results: list[dict], events: list[dict]) -> dict:
    """How far a queued or running run has got, for the Results page's live panel.

    ``{"status", "fraction" (0-1), "headline", "detail"}``: the headline says the stage
    ("Running: 45% · variant int8: latency at batch 32", "Queued: waiting for another run on
    this machine to finish"), the detail which variants are measured and which are still to
    come ("2 of 4 variants measured (fp32, half); still to come: int8, int8@ort.")."""
    status = str(run.get("status") or "")
    fraction = min(max(float(run.get("progress") or 0.0), 0.0), 1.0)
    message = str(run.get("message") or "").strip()
    if status == Status.QUEUED:
        waiting = any(e.get("stage") == "queued" for e in events)
        headline = (
            "Queued: waiting for another run on this machine to finish (runs take turns so "
            "their timings don't disturb each other)"
            if waiting
            else "Queued: starting the worker"
        )
    else:
        headline = f"Running: {fraction * 100:.0f}%" + (f" · {message}" if message else "")
    spec = run.get("spec") or {}
    planned = [BASELINE] + [v for v in spec.get("variants", []) if v != BASELINE]
    measured = [str(r["variant"]) for r in results if r.get("variant")]
    ok = [str(r["variant"]) for r in results if r.get("variant") and r.get("status") == Status.OK]
    failed = [v for v in measured if v not in ok]
    to_come = [v for v in planned if v not in measured]
    total = len(dict.fromkeys(planned + measured))
    detail = f"{len(measured)} of {total} variants finished"
    if ok:
        detail += f" ({', '.join(ok)})"
    if failed:
        detail += f"; failed: {', '.join(failed)}"
    detail += f"; still to come: {', '.join(to_come)}." if to_come else "."
    return {"status": status, "fraction": fraction, "headline": headline, "detail": detail}

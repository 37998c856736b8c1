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

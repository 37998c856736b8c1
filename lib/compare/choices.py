"""The Compare page's choices as plain Python: the runs to preselect, the variants of the runs
picked, the runs cut to the variants picked, the batch size to start at, the deltas table with
whether each candidate meets the target, and the names and help of the metrics."""

from __future__ import annotations

import pandas as pd

from lib.compare.analysis import deltas, ok_candidates
from lib.schema import FINISHED, Status

# The bar chart's metrics as the picker names them.
BAR_LABELS = {
    "accuracy": "Accuracy",
    "p95_ms": "p95 latency",
    "throughput_per_s": "Throughput",
    "size_mb": "Size",
    "peak_memory_mb": "Peak memory",
    "energy_j_per_1k": "Energy",
    "usd_per_million": "$ per 1M",
}
METRIC_HELP = (
    "**Accuracy**: share of held-out examples the model gets right. **p95 latency**: 95 of 100 "
    "requests are answered at least this fast. **Throughput**: items per second at the chosen "
    "batch size. **Size**: the model file. **Peak memory**: the most memory the model used "
    "while answering. **$ per 1M**: what a million answers cost on that hardware. "
    "**Significant**: the accuracy change is larger than chance would explain (McNemar test on "
    "the same examples, p < 0.05)."
)


def finished_runs(runs: list[dict]) -> list[dict]:
    """The runs that can be compared: those that will not change again."""
    return [r for r in runs if r["status"] in FINISHED]


def default_runs(runs: list[dict], chosen: list[str] | None = None) -> list[str]:
    """The runs to preselect: the earlier choice while every one of them is still there, else
    the demo runs, else the newest done run, else the newest finished run."""
    usable = finished_runs(runs)
    ids = [r["id"] for r in usable]
    if chosen is not None and set(chosen) <= set(ids):
        return list(chosen)
    demo = [r["id"] for r in usable if (r.get("extra") or {}).get("demo")]
    done = [r["id"] for r in usable if r["status"] == Status.DONE]
    return demo or done[:1] or ids[:1]


def variants_of(docs: list[dict]) -> list[str]:
    """Every variant of the run documents, in run order, each once."""
    return list(dict.fromkeys(r.get("variant") for d in docs for r in d["results"]))


def keep_variants(docs: list[dict], variants: list[str]) -> list[dict]:
    """The run documents with only the results of ``variants``."""
    return [
        d | {"results": [r for r in d["results"] if r.get("variant") in variants]} for d in docs
    ]


def default_batch(sizes: list[int]) -> int:
    """Batch 1 (one request at a time) when measured, else the smallest measured, else 1."""
    return 1 if 1 in sizes else (sizes[0] if sizes else 1)


def deltas_with_targets(df: pd.DataFrame, judged: pd.DataFrame) -> pd.DataFrame:
    """The deltas table (``analysis.deltas``) with a first column saying whether each candidate
    meets the target: "yes" or "no (<what it misses>)". Empty when no variant finished."""
    table = deltas(df)
    if table.empty:
        return table
    ok = ok_candidates(judged).reset_index(drop=True)
    table.insert(
        0,
        "Meets target",
        ["yes" if m else f"no ({w})" for m, w in zip(ok["meets"], ok["misses"], strict=True)],
    )
    return table


def report_stamp(docs: list[dict]) -> str:
    """The part of a download's file name that says which runs it holds."""
    return "-".join(d["run_id"] for d in docs)[:60]

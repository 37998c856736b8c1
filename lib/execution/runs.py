"""Stored runs described for people: a run's title and one-line label, the table of recent runs,
and which run is live. Plain Python over the store's run records (dicts)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from lib.schema import Status
from lib.spec import BUILTIN_DATASETS, BUILTIN_MODEL

ACTIVE = (Status.QUEUED, Status.RUNNING)  # a run that is still going


def run_title(run: dict) -> str:
    """The run's name, else "<model> on <dataset>" (file names, not whole paths)."""
    spec = run.get("spec") or {}
    model = (spec.get("model") or {}).get("source", "?")
    dataset = (spec.get("dataset") or {}).get("source", "?")
    if dataset not in BUILTIN_DATASETS:
        dataset = Path(str(dataset)).name
    if model != BUILTIN_MODEL and "/" in model and Path(model).expanduser().exists():
        model = Path(model).name
    return run.get("name") or f"{model} on {dataset}"


def when(value: Any) -> str:
    """A stored time in the local time zone, to the minute ("" for none)."""
    if not isinstance(value, dt.datetime):
        return "" if value is None else str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def run_label(run: dict) -> str:
    """One line for a run picker: title · status · started · hardware · id."""
    parts = [run_title(run), run["status"], when(run.get("created_at"))]
    if run.get("hardware"):
        parts.append(run["hardware"])
    parts.append(run["id"])
    return " · ".join(p for p in parts if p)


def runs_table(runs: list[dict]) -> pd.DataFrame:
    """Recent runs as a table: status, title, start, progress, message, hardware, id."""
    return pd.DataFrame(
        [
            {
                "Status": r["status"],
                "Run": run_title(r),
                "Started": when(r.get("created_at")),
                "Progress": float(r.get("progress") or 0.0),
                "Message": r.get("message") or "",
                "Hardware": r.get("hardware") or "",
                "Id": r["id"],
            }
            for r in runs
        ]
    )


def active_run(store) -> dict | None:
    """The newest queued or running run in the store, if any."""
    for run in store.list_runs(limit=50):
        if run["status"] in ACTIVE:
            return run
    return None

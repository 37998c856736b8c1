"""A sweep's progress for people: per node (what each machine has done, is doing, has lost) and
per run. Plain pandas over the store's rows (``sweeps``, ``sweep_runs``, ``runs``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from lib.spec import BUILTIN_DATASETS

NODE_COLUMNS = ["Machine kind", "Node", "Host", "Done", "Failed", "Lost", "Now", "Progress"]
LOST = "lost"  # an attempt whose node (or worker) died mid-run
RUN_COLUMNS = [
    "#",
    "Run",
    "Machine kind",
    "Status",
    "Node",
    "Attempts",
    "Progress",
    "Message",
    "Run id",
]


def counts_line(counts: dict[str, int]) -> str:
    """ "12 runs: 8 done, 1 failed, 2 running, 1 pending"."""
    total = sum(counts.values())
    parts = [f"{counts.get(s, 0)} {s}" for s in ("done", "failed", "running", "pending")]
    return f"{total} run{'s' if total != 1 else ''}: " + ", ".join(parts)


def is_finished(sweep: dict[str, Any]) -> bool:
    return sweep.get("status") in ("done", "failed", "interrupted")


def _host(run: dict[str, Any] | None, fallback: str) -> str:
    env = (run or {}).get("environment") or {}
    found = env.get("cluster")
    cluster: dict[str, Any] = found if isinstance(found, dict) else {}
    return str(cluster.get("hostname") or (run or {}).get("host") or fallback or "")


def _title(row: dict[str, Any]) -> str:
    data = row["dataset"] if row["dataset"] in BUILTIN_DATASETS else Path(row["dataset"]).name
    model = Path(row["model"]).name if "/" in row["model"] else row["model"]
    return f"{model} on {data}"


def node_progress(rows: list[dict[str, Any]], runs: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per node that ran (or is running) an attempt, plus one per machine kind for
    runs still waiting for a node: runs done, failed, lost (the node died mid-run), and what
    it measures now with its progress. ``runs``: the stored runs by id."""
    nodes: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        for attempt in row.get("history") or []:
            node_id = str(attempt.get("node_id") or "")
            key = (row["target"], node_id)
            run = runs.get(str(attempt.get("run_id") or ""))
            entry = nodes.setdefault(
                key,
                {
                    "Machine kind": row["target"],
                    "Node": node_id[:8],
                    "Host": _host(run, str(attempt.get("node_ip") or "")),
                    "Done": 0,
                    "Failed": 0,
                    "Lost": 0,
                    "Now": "",
                    "Progress": None,
                },
            )
            status = attempt.get("status")
            if status == "done":
                entry["Done"] += 1
            elif status == "running" and row["status"] == "running":
                entry["Now"] = _title(row)
                entry["Progress"] = float((run or {}).get("progress") or 0.0)
            elif status == LOST:
                entry["Lost"] += 1
            elif status == "failed":
                entry["Failed"] += 1
    waiting: dict[str, int] = {}
    for row in rows:
        if row["status"] == "pending":
            waiting[row["target"]] = waiting.get(row["target"], 0) + 1
    out = list(nodes.values())
    for target, n in waiting.items():
        out.append(
            {
                "Machine kind": target,
                "Node": "(waiting)",
                "Host": "",
                "Done": 0,
                "Failed": 0,
                "Lost": 0,
                "Now": f"{n} run{'s' if n != 1 else ''} waiting for a free node",
                "Progress": None,
            }
        )
    return pd.DataFrame(out, columns=NODE_COLUMNS)


def runs_frame(rows: list[dict[str, Any]], runs: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per planned run: its machine kind, status, node, attempts and progress."""
    out = []
    for row in rows:
        run = runs.get(str(row.get("run_id") or "")) or {}
        running = row["status"] == "running"
        out.append(
            {
                "#": int(row["position"]) + 1,
                "Run": _title(row),
                "Machine kind": row["target"],
                "Status": row["status"],
                "Node": str(row.get("node_id") or "")[:8],
                "Attempts": int(row.get("attempts") or 0),
                "Progress": float(run.get("progress") or 0.0) if running else None,
                "Message": (run.get("message") if running else row.get("message")) or "",
                "Run id": row.get("run_id") or "",
            }
        )
    return pd.DataFrame(out, columns=RUN_COLUMNS)

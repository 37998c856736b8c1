"""The same variants across machines: the pivot, the ranking per machine, and where the winner
changes from one machine to another.

A run's machine is the machine kind a sweep placed it on (``environment.cluster.target``, the
node label ``leanbench.hardware``: ``lib.sweep``), else the hardware it recorded (CPU model and
threads, or GPU). Every figure is that run's own, against its own fp32 (``gather``); when a
variant was measured more than once on one machine for one model and dataset, the newest run
counts. Pure pandas.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from lib.compare.frame import gather
from lib.format import is_missing

# metric -> (label, higher is better)
MACHINE_METRICS = {
    "throughput": ("Throughput (inf/s)", True),
    "latency": ("p50 latency (ms)", False),
    "speedup": ("Speed-up vs fp32 (×)", True),
    "accuracy": ("Accuracy (%)", True),
}
KEYS = ["model", "dataset", "variant"]


def machine_of(doc: dict) -> tuple[str, str, str]:
    """(machine, host, node id) of a run document; machine "" when the run recorded none."""
    env = doc.get("environment") or {}
    found = env.get("cluster")
    cluster: dict[str, Any] = found if isinstance(found, dict) else {}
    if cluster.get("target"):
        host = str(cluster.get("hostname") or cluster.get("node_ip") or "")
        return str(cluster["target"]), host, str(cluster.get("node_id") or "")
    return "", str(env.get("hostname") or ""), ""


def machine_frame(docs: list[dict], batch_size: int) -> pd.DataFrame:
    """One row per (model, dataset, variant, machine) that measured ok: throughput, p50 latency
    and speed-up at ``batch_size``, accuracy, and the run, host and node it came from."""
    df = gather(docs)
    columns = [*KEYS, "machine", "host", "node_id", "run_id", *MACHINE_METRICS]
    if df.empty:
        return pd.DataFrame(columns=columns)
    where = {str(d.get("run_id") or ""): machine_of(d) for d in docs}
    df = df[df["status"] == "ok"].copy()
    df["machine"] = [
        where.get(r, ("", "", ""))[0] or h
        for r, h in zip(df["run_id"], df["hardware"], strict=True)
    ]
    df["host"] = [where.get(r, ("", "", ""))[1] for r in df["run_id"]]
    df["node_id"] = [where.get(r, ("", "", ""))[2] for r in df["run_id"]]
    df["throughput"] = _column(df, f"throughput_b{batch_size}")
    df["latency"] = _column(df, f"p50_ms_b{batch_size}")
    df["speedup"] = _column(df, f"speedup_vs_fp32_b{batch_size}")
    df["accuracy"] = df["accuracy"] * 100
    df = df.sort_values("date", kind="stable").drop_duplicates([*KEYS, "machine"], keep="last")
    return df[columns].reset_index(drop=True)


def machines(frame: pd.DataFrame) -> list[str]:
    """The machines in a machine frame, in order of first appearance."""
    return list(dict.fromkeys(frame["machine"])) if not frame.empty else []


def machine_pivot(frame: pd.DataFrame, metric: str = "throughput") -> pd.DataFrame:
    """Rows (model, dataset, variant), one column per machine: the same variant across
    hardware."""
    _check(metric)
    if frame.empty:
        return pd.DataFrame()
    out = frame.pivot_table(
        index=KEYS, columns="machine", values=metric, aggfunc="last", sort=False
    )
    out = out.reindex(columns=machines(frame))
    out.columns.name = None
    return out.reset_index()


def machine_ranking(frame: pd.DataFrame, metric: str = "throughput") -> pd.DataFrame:
    """Rows (model, dataset, variant), one column per machine: the variant's place (1 = best)
    on that machine, among the variants measured there for that model and dataset."""
    _check(metric)
    if frame.empty:
        return pd.DataFrame()
    ranked = frame.copy()
    higher = MACHINE_METRICS[metric][1]
    ranked["rank"] = ranked.groupby(["model", "dataset", "machine"])[metric].rank(
        ascending=not higher, method="min"
    )
    out = ranked.pivot_table(
        index=KEYS, columns="machine", values="rank", aggfunc="min", sort=False
    )
    out = out.reindex(columns=machines(frame)).astype("Int64")
    out.columns.name = None
    return out.reset_index()


def winners(frame: pd.DataFrame, metric: str = "throughput") -> pd.DataFrame:
    """The best variant per (model, dataset, machine) by ``metric``."""
    _check(metric)
    rows = []
    higher = MACHINE_METRICS[metric][1]
    for (model, dataset, machine), group in frame.groupby(
        ["model", "dataset", "machine"], sort=False
    ):
        group = group[[not is_missing(v) for v in group[metric]]]
        if group.empty:
            continue
        best = group.loc[group[metric].idxmax() if higher else group[metric].idxmin()]
        rows.append(
            {
                "model": model,
                "dataset": dataset,
                "machine": machine,
                "variant": best["variant"],
                metric: best[metric],
            }
        )
    return pd.DataFrame(rows, columns=["model", "dataset", "machine", "variant", metric])


def winner_changes(frame: pd.DataFrame, metric: str = "throughput") -> list[str]:
    """A sentence for each model and dataset whose best variant is not the same on every
    machine, e.g. "tiny on reviews.csv: the best throughput is int8 on c7i but half on l4: ..."."""
    if frame.empty:
        return []
    best = winners(frame, metric)
    label = MACHINE_METRICS[metric][0].split(" (")[0].lower()
    out = []
    for (model, dataset), group in best.groupby(["model", "dataset"], sort=False):
        if group["variant"].nunique() < 2:
            continue
        by_variant: dict[str, list[str]] = {}
        for m, v in zip(group["machine"], group["variant"], strict=True):
            by_variant.setdefault(str(v), []).append(str(m))
        parts = [f"{v} on {' and '.join(ms)}" for v, ms in by_variant.items()]
        out.append(
            f"{model} on {dataset}: the best {label} is {parts[0]} but "
            + ", ".join(parts[1:])
            + ": the winner changes with the machine, so pick for the one you deploy on."
        )
    return out


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df.columns else pd.Series(math.nan, index=df.index)


def _check(metric: str) -> None:
    if metric not in MACHINE_METRICS:
        raise ValueError(f"metric must be one of {', '.join(MACHINE_METRICS)} (got {metric!r})")

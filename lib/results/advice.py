"""Which runtime serves each technique fastest on this hardware, what it bought, and which
variant of all is the fastest that keeps its accuracy.

``fastest_runtimes`` compares runtimes per technique chain; ``best_within_budget`` answers "what
is the fastest version of my model that keeps its accuracy?" across every technique and runtime,
within an accuracy budget (default 1 point below fp32).

Pure functions over result dicts (as the runner writes them: ``variant``, ``steps``, ``runtime``,
``status``, ``accuracy``, ``latency_ms`` = {batch: {"p50": ms, ...}}), so pages and the CLI can
both use them and tests need no model.
"""

from __future__ import annotations

from typing import Any

from lib.runtimes.configs import RUNTIMES
from lib.schema import BASELINE as BASELINE_CHAIN

EAGER = "eager"

# One plain sentence per runtime, for the Techniques page: from the torch-free runtime configs,
# so that a page can show them without importing torch.
RUNTIME_SENTENCES = {name: c.sentence for name, c in RUNTIMES.items()}


def runtime_sentences() -> dict[str, str]:
    """``{runtime: one plain sentence}`` for eager, ort and compile."""
    return dict(RUNTIME_SENTENCES)


def chain_of(result: dict[str, Any]) -> str:
    """The technique chain of a result: its variant without the runtime (``int8@ort`` -> int8)."""
    steps = result.get("steps")
    if steps:
        return "+".join(str(s) for s in steps)
    return str(result.get("variant", "")).rsplit("@", 1)[0]


def _p50(result: dict[str, Any], batch: str) -> float | None:
    entry = (result.get("latency_ms") or {}).get(batch)
    if isinstance(entry, dict):
        value = entry.get("p50")
    else:
        value = entry
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _batch_key(batch: str) -> tuple[int, str]:
    try:
        return (int(batch), batch)
    except ValueError:
        return (10**9, batch)


def _accuracy(result: dict[str, Any] | None) -> float | None:
    if result is None:
        return None
    value = result.get("accuracy")
    return float(value) if isinstance(value, int | float) else None


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _ratio(slow: float | None, fast: float | None) -> float | None:
    return None if slow is None or fast is None else slow / fast


def _vs_fp32(best: dict, baseline: dict | None, batch: str, p50: float) -> float | None:
    """The paired-rounds speed-up where the result has one, else the ratio of the two p50s."""
    paired = (best.get("speedup_paired") or {}).get(str(batch))
    if paired:
        return paired["speedup"]
    if best is baseline:
        return 1.0
    return _ratio(_p50(baseline, batch), p50) if baseline else None


def fastest_runtimes(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each technique chain and batch size: the fastest runtime and what it bought.

    One row per (chain, batch) with keys ``chain``, ``batch`` (int), ``runtime``, ``variant``,
    ``p50_ms``, ``runtimes_compared`` (runtime -> p50 ms), ``speedup_vs_eager`` (the same chain
    on plain PyTorch, None if not measured), ``speedup_vs_fp32`` (fp32 on plain PyTorch; from the paired rounds where measured),
    ``accuracy``, ``accuracy_delta_vs_eager`` and ``accuracy_delta_vs_fp32`` (fractions, e.g.
    -0.004 = 0.4 points worse), and ``sentence``. Failed results are ignored. Rows follow the
    order in which chains first appear, then batch size.
    """
    ok = [r for r in results if r.get("status", "ok") == "ok" and r.get("latency_ms")]
    chains: dict[str, dict[str, dict[str, Any]]] = {}
    for r in ok:
        runtime = r.get("runtime") or EAGER
        chains.setdefault(chain_of(r), {}).setdefault(runtime, r)
    baseline = chains.get(BASELINE_CHAIN, {}).get(EAGER)

    rows = []
    for chain, by_runtime in chains.items():
        batches = sorted(
            {b for r in by_runtime.values() for b in (r.get("latency_ms") or {})}, key=_batch_key
        )
        eager = by_runtime.get(EAGER)
        for batch in batches:
            p50s = {rt: _p50(r, batch) for rt, r in by_runtime.items()}
            timed = {rt: t for rt, t in p50s.items() if t is not None}
            if not timed:
                continue
            best_rt = min(timed, key=lambda rt: (timed[rt], rt != EAGER))
            best = by_runtime[best_rt]
            p50 = timed[best_rt]
            row = {
                "chain": chain,
                "batch": _batch_key(batch)[0] if batch.isdigit() else batch,
                "runtime": best_rt,
                "variant": best.get("variant", f"{chain}@{best_rt}"),
                "p50_ms": p50,
                "runtimes_compared": dict(sorted(timed.items(), key=lambda kv: kv[1])),
                "speedup_vs_eager": _ratio(timed.get(EAGER), p50) if eager else None,
                "speedup_vs_fp32": _vs_fp32(best, baseline, batch, p50),
                "accuracy": _accuracy(best),
                "accuracy_delta_vs_eager": _delta(_accuracy(best), _accuracy(eager)),
                "accuracy_delta_vs_fp32": _delta(_accuracy(best), _accuracy(baseline)),
            }
            row["sentence"] = _sentence(row)
            rows.append(row)
    return rows


_NAMES = {name: c.label for name, c in RUNTIMES.items()}


def _sentence(row: dict[str, Any]) -> str:
    where = _NAMES.get(row["runtime"], row["runtime"])
    text = (
        f"At batch {row['batch']}, {row['chain']} runs fastest on {where} ({row['p50_ms']:.1f} ms"
    )
    gains = []
    if row["runtime"] != EAGER and row["speedup_vs_eager"] is not None:
        gains.append(f"{row['speedup_vs_eager']:.2f}x faster than plain PyTorch")
    if row["chain"] != BASELINE_CHAIN and row["speedup_vs_fp32"] is not None:
        gains.append(f"{row['speedup_vs_fp32']:.2f}x faster than fp32")
    text += (", " + " and ".join(gains) if gains else "") + ")"
    if row["runtime"] == EAGER and len(row["runtimes_compared"]) > 1:
        text += "; no other runtime beat it here"
    delta = row["accuracy_delta_vs_fp32"]
    if row["chain"] != BASELINE_CHAIN and delta is not None:
        text += f", accuracy {100 * delta:+.1f} points vs fp32"
    elif row["runtime"] != EAGER and row["accuracy_delta_vs_eager"] is not None:
        text += f", accuracy {100 * row['accuracy_delta_vs_eager']:+.1f} points vs plain PyTorch"
    return text + "."


# ---------------------------------------------------------------- the fastest within a budget
DEFAULT_BUDGET_POINTS = 1.0
# Steps that make the model smaller (not "full size"): the targets tell them apart.
RESIZING_STEPS = ("prune-structured", "prune-unstructured", "distill", "student")


def is_full_size(result: dict[str, Any]) -> bool:
    """No pruning, distillation or student step: the model keeps all its weights."""
    steps = result.get("steps") or chain_of(result).split("+")
    return not any(str(s).split(":")[0].split("/")[0] in RESIZING_STEPS for s in steps)


def best_within_budget(
    results: list[dict[str, Any]],
    budget_points: float = DEFAULT_BUDGET_POINTS,
    *,
    full_size_only: bool = False,
    rank_by: str = "p50",
) -> list[dict[str, Any]]:
    """For each batch size: the fastest variant, across every technique and runtime, whose
    accuracy is at most ``budget_points`` below fp32's (served by plain PyTorch).

    ``results`` are one run's result dicts (fp32 among them: without it nothing can be judged
    and the answer is ``[]``); failed ones are ignored. ``full_size_only`` keeps variants without
    pruning, distillation or a student. One row per batch size (ascending) with keys ``batch``,
    ``variant``, ``chain``, ``runtime``, ``p50_ms``, ``speedup_vs_fp32`` (the paired-rounds
    speed-up where measured, else the ratio of p50s), ``accuracy``, ``accuracy_delta_points``
    (e.g. -0.4), ``p_value_vs_baseline``, ``within_budget`` (how many variants qualified),
    ``runner_up`` (the next fastest within budget: variant, p50_ms; or None),
    ``faster_outside_budget`` (faster variants that lost more: [{variant, p50_ms,
    accuracy_delta_points}]), ``roofline_share`` (fraction of the CPU's peak, where recorded),
    ``budget_points``, ``ranked_by`` and ``sentence``. The fp32 baseline itself qualifies (0
    points lost). Variants are ranked by p50 latency (``rank_by="p50"``, what "fastest" means),
    or with ``rank_by="paired"`` by their paired speed-up over fp32 where every one has it at
    that batch size (p50 otherwise). On a quiet machine the two agree; on a loaded one the
    paired ratio also carries how much worse plain PyTorch (the fp32 reference) suffered from
    the load than the variant's runtime did, so it is not the default.
    """
    if rank_by not in ("p50", "paired"):
        raise ValueError(f"rank_by must be 'p50' or 'paired', not {rank_by!r}")
    ok = [r for r in results if r.get("status", "ok") == "ok" and r.get("latency_ms")]
    baseline = next(
        (r for r in ok if chain_of(r) == BASELINE_CHAIN and (r.get("runtime") or EAGER) == EAGER),
        None,
    )
    base_acc = _accuracy(baseline)
    if baseline is None or base_acc is None:
        return []
    pool = [r for r in ok if not full_size_only or is_full_size(r)]
    batches = sorted({b for r in pool for b in (r.get("latency_ms") or {})}, key=_batch_key)
    rows = []
    for batch in batches:
        timed = []
        for r in pool:
            p50, acc = _p50(r, batch), _accuracy(r)
            if p50 is not None and acc is not None:
                timed.append((p50, r, 100 * (acc - base_acc)))
        # By p50, or (rank_by="paired") by the paired speed-up over fp32 when every variant has
        # one at this batch (rounds in turns with fp32 in the variant's own process).
        paired = {id(r): _paired(r, batch) for _, r, _ in timed if r is not baseline}
        by_paired = (
            rank_by == "paired" and bool(paired) and all(v is not None for v in paired.values())
        )

        def rank(t, by_paired=by_paired, paired=paired):
            key = -(paired.get(id(t[1])) or 1.0) if by_paired else t[0]
            return (key, str(t[1].get("variant")))

        timed.sort(key=rank)
        inside = [t for t in timed if t[2] >= -budget_points - 1e-9]
        if not inside:
            continue
        p50, best, delta = inside[0]
        best_rank = rank(inside[0])
        roof = best.get("roofline") or {}
        row = {
            "batch": _batch_key(batch)[0] if batch.isdigit() else batch,
            "variant": best.get("variant"),
            "chain": chain_of(best),
            "runtime": best.get("runtime") or EAGER,
            "p50_ms": p50,
            "speedup_vs_fp32": _vs_fp32(best, baseline, batch, p50),
            "accuracy": _accuracy(best),
            "accuracy_delta_points": round(delta, 2),
            "p_value_vs_baseline": best.get("p_value_vs_baseline"),
            "within_budget": len(inside),
            "runner_up": (
                {"variant": inside[1][1].get("variant"), "p50_ms": inside[1][0]}
                if len(inside) > 1
                else None
            ),
            "faster_outside_budget": [
                {"variant": r.get("variant"), "p50_ms": t, "accuracy_delta_points": round(d, 2)}
                for t, r, d in timed
                if rank((t, r, d)) < best_rank and d < -budget_points - 1e-9
            ],
            "ranked_by": "paired speed-up" if by_paired else "p50 latency",
            "roofline_share": (roof.get("share") or {}).get(str(batch)),
            "budget_points": budget_points,
        }
        row["sentence"] = _budget_sentence(row, full_size_only)
        rows.append(row)
    return rows


def _paired(result: dict[str, Any], batch: str) -> float | None:
    entry = (result.get("speedup_paired") or {}).get(str(batch))
    value = entry.get("speedup") if isinstance(entry, dict) else None
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _budget_sentence(row: dict[str, Any], full_size_only: bool) -> str:
    what = "full-size variant" if full_size_only else "variant"
    where = _NAMES.get(row["runtime"], row["runtime"])
    text = (
        f"At batch {row['batch']}, the fastest {what} within {row['budget_points']:g} accuracy "
        f"point{'s' if row['budget_points'] != 1 else ''} of fp32 is {row['variant']} on {where}: "
        f"{row['p50_ms']:.1f} ms"
    )
    if row["variant"] != BASELINE_CHAIN and row["speedup_vs_fp32"] is not None:
        text += f", {row['speedup_vs_fp32']:.2f}x faster than fp32"
    text += f", accuracy {row['accuracy_delta_points']:+.1f} points"
    if row["roofline_share"] is not None:
        text += f", {100 * row['roofline_share']:.0f}% of this CPU's peak for its precision"
    outside = row["faster_outside_budget"]
    if outside:
        quickest = outside[0]
        text += (
            f". {quickest['variant']} was faster ({quickest['p50_ms']:.1f} ms) but lost "
            f"{-quickest['accuracy_delta_points']:.1f} points"
        )
    return text + "."

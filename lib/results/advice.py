"""Which runtime serves each technique fastest on this hardware, and what it bought.

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

"""How sure a number is: accuracy intervals, the paired test against the baseline, stability.

- ``accuracy_ci``: the Wilson score interval of an accuracy (right at the edges, 0.99 and small
  samples, where the plain normal interval goes outside [0, 1]).
- ``mcnemar_p``: the exact McNemar test of a variant against the baseline on the *same* examples.
  Only the examples where the two disagree carry information; with none, p is 1.
- ``stability``: whether a latency measurement drifted while it was taken (the rule below).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

ALPHA = 0.05
STABILITY_WINDOWS = 3
STABILITY_THRESHOLD = 0.10
MIN_SAMPLES_PER_WINDOW = 3


# ---------------------------------------------------------------- accuracy
def accuracy_ci(correct: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``correct`` successes out of ``n``; (0, 1) when n is 0."""
    from statsmodels.stats.proportion import proportion_confint

    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= correct <= n:
        raise ValueError(f"correct must be between 0 and n (got {correct} of {n})")
    low, high = proportion_confint(int(correct), int(n), alpha=1 - level, method="wilson")
    # Wilson's bound at 0/n or n/n is exactly the estimate in theory but lands a rounding step
    # inside it in floats (1 - 2e-16), so an interval could miss its own point.
    share = correct / n
    return (float(max(0.0, min(low, share))), float(min(1.0, max(high, share))))


def noise_points(n: int, acc: float, level: float = 0.95) -> float:
    """Half-width of the accuracy's interval in percentage points (the "+/- x points" text).

    Normal approximation ``z * sqrt(acc * (1 - acc) / n)``: 872 examples at 90% give about 2.0.
    """
    if n <= 0:
        return float("nan")
    z = _z(level)
    acc = min(max(acc, 0.0), 1.0)
    return 100 * z * math.sqrt(acc * (1 - acc) / n)


def noise_text(n: int, acc: float, level: float = 0.95) -> str:
    """E.g. ``"+/- 2.0 points (95%, 872 examples)"``."""
    return f"+/- {noise_points(n, acc, level):.1f} points ({level:.0%}, {n} examples)"


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(1 - (1 - level) / 2))


# ---------------------------------------------------------------- paired test
def discordant(baseline_correct, variant_correct) -> tuple[int, int]:
    """(baseline right and variant wrong, baseline wrong and variant right)."""
    b, v = _bools(baseline_correct, variant_correct)
    return int(np.sum(b & ~v)), int(np.sum(~b & v))


def mcnemar_p(baseline_correct, variant_correct) -> float:
    """Exact (binomial) McNemar p-value of a variant against the baseline on the same examples.

    The 2x2 table counts examples both got right, only one got right, neither got right. Under
    "no difference" the examples only one got right split 50/50 between the two.
    """
    from statsmodels.stats.contingency_tables import mcnemar

    b, v = _bools(baseline_correct, variant_correct)
    only_base, only_var = int(np.sum(b & ~v)), int(np.sum(~b & v))
    if only_base + only_var == 0:
        return 1.0
    table = [[int(np.sum(b & v)), only_base], [only_var, int(np.sum(~b & ~v))]]
    return float(min(1.0, mcnemar(table, exact=True).pvalue))


def is_significant(p: float | None, alpha: float = ALPHA) -> bool:
    """True only when the test says so; a missing p-value is never significant."""
    return p is not None and not math.isnan(p) and p < alpha


def accuracy_evidence(
    labels: Sequence[int] | np.ndarray,
    preds: Sequence[int] | np.ndarray,
    baseline_preds: Sequence[int] | np.ndarray | None = None,
) -> dict:
    """What the runner stores beside an accuracy: its interval and, with a baseline, the test.

    Returns ``accuracy_ci`` as ``[low, high]``, ``accuracy_noise_points``, and where
    ``baseline_preds`` is given ``p_value_vs_baseline``, ``significant_vs_baseline`` and the
    discordant counts ``only_baseline_right`` / ``only_variant_right``.
    """
    truth = np.asarray(labels)
    correct = np.asarray(preds) == truth
    n = int(correct.size)
    k = int(correct.sum())
    low, high = accuracy_ci(k, n)
    out: dict = {
        "accuracy_ci": [low, high],
        "accuracy_noise_points": noise_points(n, k / n) if n else None,
    }
    if baseline_preds is not None:
        base_correct = np.asarray(baseline_preds) == truth
        p = mcnemar_p(base_correct, correct)
        only_base, only_var = discordant(base_correct, correct)
        out.update(
            p_value_vs_baseline=p,
            significant_vs_baseline=is_significant(p),
            only_baseline_right=only_base,
            only_variant_right=only_var,
        )
    return out


def _bools(a, b) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"paired arrays differ in length ({a.size} vs {b.size})")
    return a, b


# ---------------------------------------------------------------- stability
def stability(
    samples_ms: Sequence[float],
    windows: int = STABILITY_WINDOWS,
    threshold: float = STABILITY_THRESHOLD,
) -> dict:
    """Did the latency drift while it was measured?

    The rule: split the timed samples, in the order they were taken, into ``windows`` consecutive
    windows of (nearly) equal size and take each window's median. The measurement is
    **unstable** when ``(max - min) / median`` of those window medians is above ``threshold``
    (default 10%): the machine was not the same machine from start to end (another process,
    thermal or frequency changes, a garbage collection storm, a cache that filled up).

    Medians, not means, so that a few outliers (visible in p99) do not by themselves flag a run;
    the coefficient of variation is reported separately for that. With fewer than three samples
    per window nothing is judged (``judged`` False, ``unstable`` False).

    Returns ``unstable``, ``window_spread`` (the ratio above), ``window_medians_ms``, ``judged``
    and a plain-language ``reason``.
    """
    s = np.asarray(samples_ms, dtype=float)
    windows = max(2, int(windows))
    if s.size < windows * MIN_SAMPLES_PER_WINDOW:
        return {
            "unstable": False,
            "judged": False,
            "window_spread": 0.0,
            "window_medians_ms": [],
            "reason": f"too few samples ({s.size}) to judge stability; "
            f"need {windows * MIN_SAMPLES_PER_WINDOW}",
        }
    medians = [float(np.median(w)) for w in np.array_split(s, windows)]
    overall = float(np.median(s))
    spread = (max(medians) - min(medians)) / overall if overall > 0 else 0.0
    unstable = spread > threshold
    shown = " / ".join(f"{m:.3g}" for m in medians)
    if unstable:
        reason = (
            f"the median of {windows} consecutive windows moved by {spread:.0%} "
            f"({shown} ms), more than {threshold:.0%}: something else was using the machine "
            "or its clock speed changed; measure again on a quiet machine"
        )
    else:
        reason = f"window medians within {spread:.1%} of each other ({shown} ms)"
    return {
        "unstable": bool(unstable),
        "judged": True,
        "window_spread": float(spread),
        "window_medians_ms": medians,
        "reason": reason,
    }


# ---------------------------------------------------------------- paired speed-up
def paired_speedup(
    baseline_ms: Sequence[float], variant_ms: Sequence[float], level: float = 0.95
) -> dict:
    """Speed-up of a variant over the baseline from interleaved rounds (round i timed both).

    Each round gives one ratio ``baseline / variant``; a slow spell of the machine slows both
    halves of a round alike, so the ratios hold still where separate timings minutes apart drift
    (on the 2-core dev VMs fp32 alone moved 890-1000 ms between runs). The speed-up is the
    geometric mean of the ratios, with a Student t interval on their logarithms: ratios multiply,
    so their logs are what averages.

    Returns ``speedup``, ``ci`` ([low, high]; equal to the speed-up when there is one round),
    ``rounds``, ``ratios``, ``baseline_ms`` and ``variant_ms`` (medians over the rounds).
    """
    from scipy.stats import t as student_t

    b = np.asarray(baseline_ms, dtype=float)
    v = np.asarray(variant_ms, dtype=float)
    if b.shape != v.shape or b.size == 0:
        raise ValueError(
            f"need as many baseline as variant rounds, at least one ({b.size}, {v.size})"
        )
    if np.any(b <= 0) or np.any(v <= 0):
        raise ValueError("latencies must be positive")
    logs = np.log(b / v)
    centre = float(np.exp(logs.mean()))
    if logs.size > 1:
        half = float(student_t.ppf(1 - (1 - level) / 2, logs.size - 1)) * float(
            logs.std(ddof=1) / math.sqrt(logs.size)
        )
        ci = [float(np.exp(logs.mean() - half)), float(np.exp(logs.mean() + half))]
    else:
        ci = [centre, centre]
    return {
        "speedup": centre,
        "ci": ci,
        "rounds": int(logs.size),
        "ratios": [float(x) for x in np.exp(logs)],
        "baseline_ms": float(np.median(b)),
        "variant_ms": float(np.median(v)),
    }

"""Accuracy intervals, the paired test and the stability rule, against known values."""

from __future__ import annotations

import numpy as np
import pytest

from lib.measure import stats


def test_wilson_interval_known_value():
    low, high = stats.accuracy_ci(90, 100)
    assert low == pytest.approx(0.8256, abs=1e-4)
    assert high == pytest.approx(0.9448, abs=1e-4)


def test_wilson_interval_edges_stay_inside_0_1():
    low, high = stats.accuracy_ci(100, 100)
    assert high == 1.0 and 0.95 < low < 1.0
    low, high = stats.accuracy_ci(0, 20)
    assert low == 0.0 and 0.0 < high < 0.2
    assert stats.accuracy_ci(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        stats.accuracy_ci(11, 10)


@pytest.mark.parametrize("n", [1, 7, 60, 61, 500, 872, 10_000])
def test_wilson_interval_contains_its_own_estimate_at_every_edge(n):
    # at n/n the float bound once came out as 1 - 2e-16, below the accuracy it bounds
    for correct in (0, 1, n - 1, n):
        if 0 <= correct <= n:
            low, high = stats.accuracy_ci(correct, n)
            assert low <= correct / n <= high


def test_wider_level_gives_wider_interval():
    l95, h95 = stats.accuracy_ci(80, 100, 0.95)
    l99, h99 = stats.accuracy_ci(80, 100, 0.99)
    assert l99 < l95 and h99 > h95


def test_noise_points_for_872_examples_at_90_percent_is_about_two():
    assert stats.noise_points(872, 0.90) == pytest.approx(1.99, abs=0.01)
    assert "2.0 points" in stats.noise_text(872, 0.90)


def _pairs(both, only_base, only_var, neither):
    base = [True] * both + [True] * only_base + [False] * only_var + [False] * neither
    var = [True] * both + [False] * only_base + [True] * only_var + [False] * neither
    return np.array(base), np.array(var)


def test_mcnemar_exact_known_table():
    # 10 vs 2 discordant pairs: p = 2 * P(X <= 2 | Binomial(12, 0.5)) = 158 / 4096.
    base, var = _pairs(50, 10, 2, 30)
    assert stats.mcnemar_p(base, var) == pytest.approx(158 / 4096, rel=1e-9)
    assert stats.is_significant(stats.mcnemar_p(base, var))


def test_mcnemar_symmetric_and_not_significant_when_balanced():
    base, var = _pairs(50, 5, 5, 30)
    assert stats.mcnemar_p(base, var) == pytest.approx(1.0)
    assert stats.mcnemar_p(var, base) == stats.mcnemar_p(base, var)
    assert not stats.is_significant(stats.mcnemar_p(base, var))


def test_mcnemar_no_discordant_pairs_is_one():
    same = np.array([True, False, True, True])
    assert stats.mcnemar_p(same, same) == 1.0


def test_mcnemar_rejects_unpaired_input():
    with pytest.raises(ValueError):
        stats.mcnemar_p([True, False], [True])


def test_is_significant_handles_missing():
    assert not stats.is_significant(None)
    assert not stats.is_significant(float("nan"))
    assert stats.is_significant(0.01) and not stats.is_significant(0.05)


def test_accuracy_evidence_for_a_variant():
    labels = np.array([0, 1] * 50)
    base_preds = labels.copy()
    var_preds = labels.copy()
    var_preds[:12] = 1 - var_preds[:12]  # the variant gets 12 examples wrong the baseline got right
    ev = stats.accuracy_evidence(labels, var_preds, base_preds)
    low, high = ev["accuracy_ci"]
    assert low < 0.88 < high
    assert ev["only_baseline_right"] == 12 and ev["only_variant_right"] == 0
    assert ev["p_value_vs_baseline"] == pytest.approx(2 * 0.5**12)
    assert ev["significant_vs_baseline"] is True
    assert "p_value_vs_baseline" not in stats.accuracy_evidence(labels, base_preds)


# ---------------------------------------------------------------- stability
def test_stable_noise_is_stable():
    rng = np.random.default_rng(0)
    samples = 10 + rng.normal(0, 0.5, size=300)  # 5% noise, no drift
    out = stats.stability(samples)
    assert out["judged"] and not out["unstable"]
    assert out["window_spread"] < 0.05
    assert len(out["window_medians_ms"]) == 3


def test_a_few_outliers_do_not_flag_a_run():
    samples = np.full(90, 10.0)
    samples[[5, 40, 80]] = 100.0  # three GC pauses
    assert not stats.stability(samples)["unstable"]


def test_step_change_is_unstable():
    rng = np.random.default_rng(1)
    samples = np.concatenate([10 + rng.normal(0, 0.2, 100), 14 + rng.normal(0, 0.2, 50)])
    out = stats.stability(samples)
    assert out["unstable"]
    assert out["window_spread"] > 0.3
    assert "measure again" in out["reason"]


def test_threshold_and_windows_are_parameters():
    samples = [10.0] * 20 + [10.8] * 20 + [11.0] * 20  # 10% spread
    assert not stats.stability(samples, threshold=0.15)["unstable"]
    assert stats.stability(samples, threshold=0.05)["unstable"]
    assert len(stats.stability(samples, windows=4)["window_medians_ms"]) == 4


def test_too_few_samples_are_not_judged():
    out = stats.stability([10.0, 30.0, 10.0, 30.0])
    assert out == {**out, "unstable": False, "judged": False}
    assert "too few" in out["reason"]


# ---------------------------------------------------------------- paired speed-up
def test_paired_speedup_is_the_geometric_mean_of_round_ratios():
    out = stats.paired_speedup([100, 200, 400], [50, 100, 100])  # ratios 2, 2, 4
    assert out["speedup"] == pytest.approx((2 * 2 * 4) ** (1 / 3))
    assert out["ratios"] == pytest.approx([2, 2, 4]) and out["rounds"] == 3
    assert out["baseline_ms"] == 200 and out["variant_ms"] == 100
    low, high = out["ci"]
    assert low < out["speedup"] < high


def test_paired_speedup_ignores_drift_that_hits_both_halves():
    # The machine slows down threefold over the rounds: every round still says 2x, exactly.
    drift = np.linspace(1.0, 3.0, 6)
    out = stats.paired_speedup(100 * drift, 50 * drift)
    assert out["speedup"] == pytest.approx(2.0)
    assert out["ci"] == pytest.approx([2.0, 2.0])


def test_paired_speedup_interval_widens_with_disagreeing_rounds():
    steady = stats.paired_speedup([100] * 5, [50, 51, 49, 50, 50])
    noisy = stats.paired_speedup([100] * 5, [40, 60, 45, 58, 50])
    width = lambda o: o["ci"][1] - o["ci"][0]  # noqa: E731
    assert width(noisy) > 5 * width(steady)


def test_paired_speedup_one_round_and_bad_input():
    assert stats.paired_speedup([90], [30])["ci"] == pytest.approx([3.0, 3.0])
    with pytest.raises(ValueError):
        stats.paired_speedup([1, 2], [1])
    with pytest.raises(ValueError):
        stats.paired_speedup([1, 0], [1, 1])

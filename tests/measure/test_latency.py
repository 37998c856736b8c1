import numpy as np

from lib.measure import latency as measure
from lib.runtimes.registry import Predictor


def test_accuracy_and_macro_f1_against_hand_computed_values():
    labels = np.array([0, 0, 1, 1, 2, 2])
    preds = np.array([0, 1, 1, 1, 2, 0])
    assert measure.accuracy(labels, preds) == 4 / 6
    # per class F1: c0 = 2*1/(2+1+1)=0.5, c1 = 2*2/(4+1+0)=0.8, c2 = 2*1/(2+0+1)=2/3
    assert abs(measure.macro_f1(labels, preds, 3) - np.mean([0.5, 0.8, 2 / 3])) < 1e-12


def test_timing_reaches_both_min_count_and_min_time():
    calls = []
    predictor = Predictor(lambda b: calls.append(1), "fake")
    timing = measure.time_predictor(predictor, {}, warmup=3, min_repeats=7, min_seconds=0.0)
    assert len(timing.samples_ms) == 7 and len(calls) == 10
    slow = Predictor(lambda b: __import__("time").sleep(0.01), "fake")
    timing = measure.time_predictor(slow, {}, warmup=0, min_repeats=1, min_seconds=0.1)
    assert len(timing.samples_ms) >= 8


def test_timing_summary_percentiles():
    s = measure.Timing([float(x) for x in range(1, 101)]).summary()
    assert s["p50"] == 50.5 and abs(s["p99"] - 99.01) < 1e-9 and s["n"] == 100
    assert abs(s["cv"] - s["std"] / s["mean"]) < 1e-12


def test_interleaved_rounds_take_turns_and_flip_the_order():
    calls = []

    def named(name):
        return Predictor(lambda batch: calls.append(name), "eager")

    out = measure.interleaved_rounds(
        {"a": (named("a"), {}), "b": (named("b"), {})},
        rounds=4,
        min_repeats=2,
        min_seconds=0.0,
        pause_s=0.0,
    )
    assert len(out["a"]) == len(out["b"]) == 4 and all(x >= 0 for x in out["a"])
    timed = calls[4:]  # each warmed up first
    assert calls[:4] == ["a", "a", "b", "b"]
    assert timed == ["a"] * 2 + ["b"] * 4 + ["a"] * 4 + ["b"] * 4 + ["a"] * 2  # A B, B A, A B, B A

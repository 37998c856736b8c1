"""Advice on synthetic results: the fastest runtime per technique and what it bought."""

from __future__ import annotations

import pytest

from lib.results.advice import chain_of, fastest_runtimes, runtime_sentences


def result(variant, runtime, accuracy, b1, b32, status="ok"):
    steps = variant.split("@")[0].split("+")
    return {
        "variant": variant,
        "steps": steps,
        "runtime": runtime,
        "status": status,
        "accuracy": accuracy,
        "latency_ms": {"1": {"p50": b1}, "32": {"p50": b32}},
    }


RESULTS = [
    result("fp32", "eager", 0.80, 26.0, 660.0),
    result("fp32@ort", "ort", 0.80, 17.0, 550.0),
    result("fp32@compile", "compile", 0.80, 23.0, 580.0),
    result("int8", "eager", 0.78, 11.0, 330.0),
    result("int8@ort", "ort", 0.795, 8.0, 250.0),
    result("int8@compile", "compile", 0.0, 1.0, 1.0, status="error"),
    result("half", "eager", 0.80, 14.0, 320.0),
]


def row(rows, chain, batch):
    (found,) = [r for r in rows if r["chain"] == chain and r["batch"] == batch]
    return found


def test_fastest_runtime_per_chain_and_batch():
    rows = fastest_runtimes(RESULTS)
    assert [(r["chain"], r["batch"]) for r in rows] == [
        ("fp32", 1),
        ("fp32", 32),
        ("int8", 1),
        ("int8", 32),
        ("half", 1),
        ("half", 32),
    ]
    r = row(rows, "int8", 1)
    assert r["runtime"] == "ort" and r["variant"] == "int8@ort" and r["p50_ms"] == 8.0
    assert r["speedup_vs_eager"] == pytest.approx(11 / 8)
    assert r["speedup_vs_fp32"] == pytest.approx(26 / 8)
    assert r["accuracy_delta_vs_eager"] == pytest.approx(0.015)
    assert r["accuracy_delta_vs_fp32"] == pytest.approx(-0.005)
    assert list(r["runtimes_compared"]) == ["ort", "eager"]  # the failed compile is left out
    assert "ONNX Runtime" in r["sentence"] and "3.25x faster than fp32" in r["sentence"]
    assert "-0.5 points vs fp32" in r["sentence"]


def test_baseline_chain_and_a_chain_without_other_runtimes():
    rows = fastest_runtimes(RESULTS)
    fp32 = row(rows, "fp32", 32)
    assert fp32["runtime"] == "ort" and fp32["speedup_vs_fp32"] == pytest.approx(660 / 550)
    half = row(rows, "half", 1)
    assert half["runtime"] == "eager" and half["speedup_vs_eager"] == pytest.approx(1.0)
    assert half["speedup_vs_fp32"] == pytest.approx(26 / 14)


def test_eager_wins_ties_and_missing_baseline_is_none():
    rows = fastest_runtimes(
        [result("int8", "eager", 0.7, 10.0, 100.0), result("int8@ort", "ort", 0.7, 10.0, 120.0)]
    )
    assert row(rows, "int8", 1)["runtime"] == "eager"
    assert "no other runtime beat it" in row(rows, "int8", 32)["sentence"]
    assert row(rows, "int8", 1)["speedup_vs_fp32"] is None
    assert row(rows, "int8", 1)["accuracy_delta_vs_fp32"] is None


def test_only_failures_or_nothing_gives_no_advice():
    assert fastest_runtimes([]) == []
    assert fastest_runtimes([result("int8@ort", "ort", 0.0, 1, 1, status="error")]) == []


def test_chain_of_falls_back_to_the_variant_text():
    assert chain_of({"variant": "distill:3+int8@ort"}) == "distill:3+int8"
    assert chain_of({"variant": "x", "steps": ["distill:3", "int8"]}) == "distill:3+int8"


def test_one_plain_sentence_per_runtime():
    sentences = runtime_sentences()
    assert set(sentences) >= {"eager", "ort", "compile"}
    for text in sentences.values():
        assert text.endswith(".") and text.count(". ") == 0 and len(text) > 40


def test_every_registered_runtime_has_a_sentence():
    from lib.runtimes import registry as runtimes

    assert set(runtime_sentences()) == set(runtimes.runtimes())

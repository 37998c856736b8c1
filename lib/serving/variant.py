"""The load test of one variant: LoadGen's three scenarios, the goodput search, and the
simulation of the same batcher over the service times measured on the way, as one dict."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from lib.errors import UserError
from lib.serving.batcher import DynamicBatcher
from lib.serving.goodput import search_goodput
from lib.serving.loadgen import LoadGenHarness, ScenarioResult, loadgen_version
from lib.serving.simulate import REPLICATIONS, ServiceCurve, simulated_goodput
from lib.serving.tokenizers import max_length_for, serving_tokenizer
from lib.spec import LoadTestSpec

# The bar for trusting projected goodput on hardware that was never load-tested.
SIMULATION_TOLERANCE = 0.15
_WARMUP_ROUNDS = 3

Progress = Callable[[float, str], None]


def load_test(
    predictor: Callable[[dict], Any],
    tokenizer,
    texts: Sequence[str],
    spec: LoadTestSpec | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Load-test ``predictor`` serving raw ``texts`` and return the ``load_test`` dict.

    Raises ``UserError`` for bad input and ``VariantCrashed`` when the variant fails mid-test.
    """
    spec = spec or LoadTestSpec()
    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if not texts:
        raise UserError("A load test needs eval texts to send as queries; none were given.")
    report = progress or (lambda fraction, message: None)
    steps = 3 + spec.max_points  # warm-up, SingleStream, Offline, the Server points
    started = time.perf_counter()

    tokenizer = serving_tokenizer(tokenizer, spec.tokenizer, texts)
    max_length = max_length_for(tokenizer, spec.max_length)
    batcher = DynamicBatcher(
        predictor,
        tokenizer,
        max_batch=spec.max_batch,
        max_delay_ms=spec.max_delay_ms,
        max_length=max_length,
    )
    with LoadGenHarness(batcher, texts, spec) as harness:
        report(0.0, "Warming up the serving loop")
        expected_qps = _warm_up(batcher, texts, spec.max_batch)
        batcher.take_records()  # first calls pay one-off costs; they are no service time

        report(1 / steps, "SingleStream: one query at a time")
        single = harness.single_stream()
        records = batcher.take_records()
        report(2 / steps, "Offline: every query at once, for peak throughput")
        offline = harness.offline(expected_qps)
        offline_records = batcher.take_records()

        alone_ms = single.latency_ms(spec.percentile)
        floor_ms = alone_ms + spec.max_delay_ms  # at low load each request waits the full delay
        if floor_ms > spec.slo_ms:
            search = None
            note: str | None = _unreachable(spec, single, alone_ms)
        else:

            def on_point(index: int, qps: float) -> None:
                report(
                    (3 + index) / steps,
                    f"Server at {qps:.4g} QPS (point {index + 1}/{spec.max_points})",
                )

            search = search_goodput(
                harness.server,
                lambda point: point.latency_ms(spec.percentile) <= spec.slo_ms,
                offline.achieved_qps,
                max_points=spec.max_points,
                tolerance=spec.tolerance,
                progress=on_point,
            )
            note = search.note
        # Offline's batches are left out when Server ran: LoadGen issues Offline's queries in one
        # call, while under Server its thread takes the GIL once per query, slowing the
        # batcher's Python work in a way the curve must carry for the simulation to match.
        server_records = batcher.take_records()
        records += server_records or offline_records

    report((steps - 0.5) / steps, "Simulating the batcher over the measured service times")
    lengths = token_lengths(tokenizer, texts, max_length)
    points = search.points if search is not None else []
    curve = ServiceCurve.fit(records, spec.max_batch, query_overhead_s(points or [single]))
    simulated = simulated_goodput(
        curve,
        lengths,
        slo_ms=spec.slo_ms,
        percentile=spec.percentile,
        max_batch=spec.max_batch,
        max_delay_ms=spec.max_delay_ms,
        duration_s=spec.duration_s,
        min_queries=spec.min_queries,
        seed=spec.seed,
    )
    result = _assemble(spec, max_length, single, offline, search, note, curve, simulated)
    # What the simulation was given, so that it can be rerun from the document alone.
    result["simulation"]["lengths"] = lengths
    result["simulation"]["replications"] = REPLICATIONS
    result["wall_s"] = round(time.perf_counter() - started, 2)
    report(1.0, "Load test done")
    return result


def token_lengths(tokenizer, texts: Sequence[str], max_length: int) -> list[int]:
    """Each text's length in tokens as served (truncated), for the simulation's requests."""
    ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    return [len(x) for x in ids]


def query_overhead_s(results: Sequence[ScenarioResult]) -> float:
    """Each query's time outside the batcher: LoadGen's mean latency less the batcher's own
    (queue, tokenize, model), the median over ``results``: LoadGen issuing the query into
    Python, and hearing of its completion, which wait on the GIL while the batcher holds it."""
    gaps = [r.mean_ms - sum(r.breakdown_ms.values()) for r in results if r.queries > 0]
    if not gaps:
        return 0.0
    return max(float(statistics.median(gaps)), 0.0) / 1000


def _warm_up(batcher: DynamicBatcher, texts: Sequence[str], max_batch: int) -> float:
    """Serve a few full batches and single requests; return a first guess at peak QPS."""
    full = [texts[i % len(texts)] for i in range(max_batch)]
    best = float("inf")
    for _ in range(_WARMUP_ROUNDS):
        batcher.serve(texts[:1])
        start = time.perf_counter()
        batcher.serve(full)
        best = min(best, time.perf_counter() - start)
    return max_batch / max(best, 1e-6)


def _unreachable(spec: LoadTestSpec, single: ScenarioResult, alone_ms: float) -> str:
    p = f"p{spec.percentile:g}"
    message = (
        f"Goodput is 0: the SLO of {spec.slo_ms:g} ms at {p} is below what this variant reaches "
        f"alone, {alone_ms:.3g} ms at {p} one query at a time "
        f"(p90 {single.latency_ms(90):.3g} ms)"
    )
    if alone_ms <= spec.slo_ms:
        message += (
            f", once the batcher's wait of up to {spec.max_delay_ms:g} ms for a batch to fill is "
            "added: a lower max_delay_ms may meet it"
        )
    return message + "."


def _point(result: ScenarioResult, spec: LoadTestSpec) -> dict[str, Any]:
    p99 = result.latency_ms(spec.percentile)
    return {
        "target_qps": round(result.target_qps, 3) if result.target_qps is not None else None,
        "achieved_qps": round(result.achieved_qps, 3),
        "p50_ms": round(result.latency_ms(50), 3),
        "p99_ms": round(p99, 3),
        "mean_ms": round(result.mean_ms, 3),
        "meets_slo": p99 <= spec.slo_ms,
        "valid": result.valid,
        "latency_source": result.latency_source,
        "mean_batch": round(result.mean_batch, 2),
        "queries": result.queries,
        "breakdown_ms": _rounded(result.breakdown_ms),
        "loadgen": result.summary,
    }


def _assemble(spec, max_length, single, offline, search, note, curve, simulated) -> dict:
    points = search.points if search is not None else []
    passing = [p for p in points if p.latency_ms(spec.percentile) <= spec.slo_ms]
    at_goodput = max(passing, key=lambda p: p.target_qps) if passing else None
    goodput = search.goodput_qps if search is not None else 0.0
    breakdown_from = at_goodput or single
    simulated_qps = simulated.goodput_qps
    error = (simulated_qps - goodput) / goodput if goodput > 0 else None
    return {
        "slo_ms": spec.slo_ms,
        "percentile": spec.percentile,
        "tokenizer": spec.tokenizer,
        "goodput_qps": round(goodput, 3),
        "note": note,
        "single_stream": {
            "p90_ms": round(single.latency_ms(90), 3),
            "p50_ms": round(single.latency_ms(50), 3),
            "p99_ms": round(single.latency_ms(99), 3),
            "early_stopping_p90_ms": single.summary.get("early_stopping_p90_ms"),
            "qps": round(single.achieved_qps, 3),
            "valid": single.valid,
            "latency_source": single.latency_source,
            "breakdown_ms": _rounded(single.breakdown_ms),
        },
        "offline": {
            "qps": round(offline.achieved_qps, 3),
            "valid": offline.valid,
            "mean_batch": round(offline.mean_batch, 2),
        },
        "server_points": [_point(p, spec) for p in points],
        "search": (search.to_dict() if search is not None else None),
        "breakdown_ms": {
            **_rounded(breakdown_from.breakdown_ms),
            "at": "goodput" if at_goodput else "single_stream",
            "at_qps": round(at_goodput.target_qps, 3) if at_goodput else None,
        },
        "simulated_goodput_qps": round(simulated_qps, 3),
        "simulation": {
            "error": round(error, 4) if error is not None else None,
            "within_tolerance": abs(error) <= SIMULATION_TOLERANCE if error is not None else None,
            "tolerance": SIMULATION_TOLERANCE,
            "search": simulated.to_dict(),
            "service_curve": curve.to_dict(),
        },
        "batcher": {
            "max_batch": spec.max_batch,
            "max_delay_ms": spec.max_delay_ms,
            "max_length": max_length,
            "padding": "longest",
        },
        "loadgen": {
            "version": loadgen_version(),
            "settings": {
                "mode": "PerformanceOnly",
                "min_duration_ms": int(spec.duration_s * 1000),
                "min_query_count": spec.min_queries,
                "server_target_latency_ns": int(spec.slo_ms * 1e6),
                "server_target_latency_percentile": spec.percentile / 100,
                "seed": spec.seed,
                "mlperf_minimum": spec.mlperf_minimum,
            },
            # LoadGen's verdict on the runs the headline figures come from.
            "valid": bool(
                single.valid and offline.valid and (at_goodput is None or at_goodput.valid)
            ),
            "verdicts": {
                "single_stream": single.summary.get("result"),
                "offline": offline.summary.get("result"),
                "server_at_goodput": at_goodput.summary.get("result") if at_goodput else None,
            },
        },
        "spec": spec.to_dict(),
    }


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in values.items()}

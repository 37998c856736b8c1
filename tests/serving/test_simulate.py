"""The simulated batcher against queueing theory, the service curve, and the goodput search."""

from __future__ import annotations

import pytest

from lib.serving.batcher import BatchRecord
from lib.serving.goodput import search_goodput
from lib.serving.simulate import (
    ServiceCurve,
    simulate_offline,
    simulate_server,
    simulated_goodput,
)


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_batch_of_one_is_an_md1_queue(rho):
    # Poisson arrivals, one server, a constant service time: M/D/1, whose mean wait is
    # Wq = rho * S / (2 * (1 - rho)).
    service = 0.010
    point = simulate_server(
        lambda batch, length: service,
        [12],
        rho / service,
        max_batch=1,
        max_delay_ms=0,
        duration_s=40_000 * service / rho,
        seed=1,
    )
    expected_ms = 1000 * rho * service / (2 * (1 - rho))
    assert point.mean_wait_ms == pytest.approx(expected_ms, rel=0.05)
    assert point.mean_batch == 1
    assert point.mean_latency_ms == pytest.approx(expected_ms + 10, rel=0.05)


def test_a_lone_request_waits_the_full_delay_and_a_backlog_none():
    alone = simulate_server(
        lambda b, L: 0.001, [8], 1.0, max_batch=8, max_delay_ms=20, duration_s=200, seed=0
    )
    assert alone.mean_wait_ms == pytest.approx(20, abs=0.5)
    # Offline: everything at once, so batches are full and throughput is batch / service.
    qps = simulate_offline(lambda b, L: 0.002 + 0.001 * b, [8], max_batch=8, queries=800)
    assert qps == pytest.approx(8 / 0.010, rel=1e-6)


def test_batches_take_the_longest_request_s_length():
    seen = []

    def service(batch, length):
        seen.append((batch, length))
        return 0.001

    simulate_offline(service, [5, 50], max_batch=16, queries=64, seed=0)
    assert all(batch == 16 and length == 50 for batch, length in seen)


def test_service_curve_fits_served_batches_and_round_trips():
    truth = lambda n, L: 0.002 + 0.0005 * n + 0.00001 * n * L  # noqa: E731
    records = [
        BatchRecord(n, L, 0.0001, truth(n, L) - 0.0001)
        for n in (1, 2, 3, 5, 8, 13)
        for L in (10, 20, 40)
    ]
    curve = ServiceCurve.fit(records, max_batch=16)
    assert curve.batch_sizes == [1, 2, 4, 8, 16]
    for n, L in [(1, 10), (7, 33), (16, 40), (32, 80)]:  # the last two lie outside the data
        assert curve(n, L) == pytest.approx(truth(n, L), rel=1e-3)
    assert curve.jitter and min(curve.jitter) == pytest.approx(1, abs=1e-3)
    again = ServiceCurve.from_dict(curve.to_dict())
    assert again(7, 33) == pytest.approx(curve(7, 33), rel=1e-4)


def test_simulated_goodput_sits_below_capacity_and_falls_with_the_slo():
    service = lambda b, L: 0.004 + 0.001 * b  # noqa: E731
    common = dict(max_batch=16, max_delay_ms=2, duration_s=5, seed=0)
    loose = simulated_goodput(service, [10], slo_ms=60, **common)
    tight = simulated_goodput(service, [10], slo_ms=15, **common)
    peak = 16 / 0.020
    assert loose.converged and tight.converged
    assert 0 < tight.goodput_qps < loose.goodput_qps < peak
    none = simulated_goodput(service, [10], slo_ms=4, **common)
    assert none.goodput_qps == 0 and "No tested rate" in none.note


# ---------------------------------------------------------------- the search
def _threshold(limit):
    return lambda qps: {"qps": qps, "ok": qps <= limit}


def test_search_brackets_the_threshold():
    result = search_goodput(_threshold(37), lambda p: p["ok"], 100, max_points=10, tolerance=0.05)
    assert result.converged and result.note is None
    lo, hi = result.bracket
    assert lo <= 37 < hi and hi - lo <= 0.05 * hi
    assert result.goodput_qps == lo
    assert len({p["qps"] for p in result.points}) == len(result.points)


def test_search_that_runs_out_of_points_reports_its_bracket():
    result = search_goodput(_threshold(37), lambda p: p["ok"], 100, max_points=2, tolerance=0.01)
    assert not result.converged
    assert result.bracket == (25.0, 50.0)
    assert "between 25 and 50 QPS" in result.note
    assert result.to_dict()["bracket_qps"] == [25.0, 50.0]


# ---------------------------------------------------------------- fidelity to LoadGen
def test_query_overhead_adds_to_every_latency_and_keeps_no_batch_waiting():
    # Time outside the batcher (LoadGen issuing the query and hearing back) delays the answer
    # but not the server: waits and batches stay as they were, every latency moves by it.
    common = dict(max_batch=4, max_delay_ms=1, duration_s=20, seed=3)
    plain = simulate_server(ServiceCurve.constant(0.004), [10], 150, **common)
    curve = ServiceCurve.constant(0.004)
    curve.overhead_s = 0.0025
    late = simulate_server(curve, [10], 150, **common)
    assert late.mean_wait_ms == pytest.approx(plain.mean_wait_ms)
    assert late.mean_batch == pytest.approx(plain.mean_batch)
    for key, ms in plain.percentiles_ms.items():
        assert late.percentiles_ms[key] == pytest.approx(ms + 2.5)
    again = ServiceCurve.from_dict(curve.to_dict())
    assert again.overhead_s == pytest.approx(0.0025)
    assert ServiceCurve.from_dict({**curve.to_dict(), "overhead_ms": None}).overhead_s == 0


def test_query_overhead_is_loadgen_s_latency_less_the_batcher_s():
    from lib.serving.loadgen import ScenarioResult
    from lib.serving.variant import query_overhead_s

    def point(mean_ms, queue, tokenize, model):
        breakdown = {"queue": queue, "tokenize": tokenize, "model": model}
        return ScenarioResult(
            "Server", 100.0, 99.0, {}, mean_ms, "loadgen", True, {}, breakdown, 2.0, 500, 5.0
        )

    points = [point(21.5, 6.0, 1.0, 13.0), point(30.0, 9.0, 1.2, 18.0), point(9.0, 3.0, 1, 5.5)]
    assert query_overhead_s(points) == pytest.approx(0.0015)  # the median of 1.5, 1.8, -0.5
    assert query_overhead_s([point(5.0, 1.0, 1.0, 4.0)]) == 0  # never negative
    records = [BatchRecord(n, 20, 0.0001, 0.002 + 0.001 * n) for n in (1, 2, 4, 8)]
    assert ServiceCurve.fit(records, max_batch=8, overhead_s=0.0015).overhead_s == 0.0015


def test_replicated_points_take_the_median_and_steady_the_search():
    # One 5 s run's p99 is a handful of requests; a search over one seed follows its luck.
    service = ServiceCurve(
        [1, 32], [10, 60], [[0.003, 0.004], [0.03, 0.08]], jitter=[0.8, 0.9, 1.0, 1.1, 1.6]
    )
    common = dict(max_batch=32, max_delay_ms=5, duration_s=5, min_queries=100)
    one = simulate_server(service, [10, 30, 60], 300, **common, seed=0)
    assert one.replications == 1 and one.request_mean_batch >= one.mean_batch
    many = simulate_server(service, [10, 30, 60], 300, **common, seed=0, replications=5)
    assert many.replications == 5 and many.queries == pytest.approx(1500, rel=0.1)

    def spread(replications):
        found = [
            simulated_goodput(
                service,
                [10, 30, 60],
                slo_ms=60,
                **common,
                seed=s,
                replications=replications,
                max_points=8,
                tolerance=0.02,
            ).goodput_qps
            for s in range(4)
        ]
        return max(found) - min(found)

    assert spread(9) < spread(1)

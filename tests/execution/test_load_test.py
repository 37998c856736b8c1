"""The load test wired into runs (issue 12): a run with ``load_test`` stores each variant's
``load_test`` dict; a stored run is load-tested after the fact; a crash in the load test fails
that variant only. On a tiny model with short LoadGen runs."""

from __future__ import annotations

import time

import pytest

from lib.errors import UserError
from lib.execution import runner
from lib.spec import AdaptSpec, DatasetSpec, LoadTestSpec, MeasureSpec, ModelSpec, RunSpec
from lib.store import Store
from tests.execution import load_test_helpers

# Short LoadGen runs: SingleStream, Offline and two Server points of half a second each.
SHORT = LoadTestSpec(slo_ms=250, point_seconds=0.5, min_queries=20, max_points=2, max_batch=8)


def tiny_spec(model_dir, csv, variants=("fp32", "int8"), load_test=SHORT) -> RunSpec:
    return RunSpec(
        model=ModelSpec(str(model_dir)),
        dataset=DatasetSpec(
            str(csv), text_column="review", label_column="sentiment", train_limit=80, eval_limit=24
        ),
        variants=list(variants),
        adapt=AdaptSpec(epochs=5, max_length=16, batch_size=8, learning_rate=3e-3),
        measure=MeasureSpec(
            batch_sizes=[1, 4],
            seq_len=16,
            warmup=1,
            min_repeats=3,
            min_seconds=0.0,
            paired_rounds=0,
        ),
        load_test=load_test,
    )


@pytest.fixture(scope="module")
def load_tested_run(tiny_model_dir, small_csv, tmp_path_factory):
    home = tmp_path_factory.mktemp("load-test-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("LEANBENCH_HOME", str(home))
    store = Store(f"sqlite:///{home / 'store.db'}")
    events: list = []
    start = time.monotonic()
    run_id = runner.execute(
        tiny_spec(tiny_model_dir, small_csv), store, progress=lambda *e: events.append(e)
    )
    seconds = time.monotonic() - start
    yield store, run_id, events, home, seconds
    mp.undo()


def check_load_test(lt: dict, spec: LoadTestSpec) -> None:
    """The issue's keys, with values that hang together."""
    assert lt["slo_ms"] == spec.slo_ms and lt["percentile"] == spec.percentile
    assert lt["tokenizer"] == spec.tokenizer
    assert lt["goodput_qps"] > 0, lt.get("note")  # a tiny model meets a 250 ms SLO
    assert lt["single_stream"]["p90_ms"] > 0
    assert lt["offline"]["qps"] > 0
    points = lt["server_points"]
    assert 1 <= len(points) <= spec.max_points
    for p in points:
        assert {"target_qps", "achieved_qps", "p50_ms", "p99_ms", "valid"} <= set(p)
        assert p["target_qps"] > 0 and p["achieved_qps"] > 0 and p["p99_ms"] >= p["p50_ms"] > 0
    assert {"queue", "tokenize", "model"} <= set(lt["breakdown_ms"])
    assert lt["simulated_goodput_qps"] >= 0
    loadgen = lt["loadgen"]
    assert loadgen["version"] and isinstance(loadgen["valid"], bool)
    assert loadgen["settings"]["min_duration_ms"] == int(spec.point_seconds * 1000)
    assert loadgen["settings"]["min_query_count"] == spec.min_queries
    assert lt["spec"] == spec.to_dict()


def test_a_run_with_a_load_test_stores_each_variant_s_load_test(load_tested_run):
    store, run_id, _, _, seconds = load_tested_run
    doc = store.run_document(run_id)
    assert doc["status"] == "done", doc["message"]
    assert doc["spec"]["load_test"] == SHORT.to_dict()
    assert [r["variant"] for r in doc["results"]] == ["fp32", "int8"]
    for r in doc["results"]:
        assert r["status"] == "ok", r.get("error")
        assert r["accuracy"] >= 0 and set(r["latency_ms"]) == {"1", "4"}  # measured as ever
        check_load_test(r["load_test"], SHORT)
    assert seconds < 90, f"the tiny load-tested run took {seconds:.0f} s"


def test_load_test_progress_names_each_qps_point(load_tested_run):
    _, _, events, _, _ = load_tested_run
    load = [e for e in events if e[0] == runner.LOAD_TEST_STAGE]
    assert any(m.startswith("variant fp32: Server at ") and "(point 1/2)" in m for _, m, _ in load)
    assert any(m.startswith("variant int8: ") for _, m, _ in load)
    fractions = [e[2] for e in events if e[2] is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_a_stored_run_is_load_tested_again_in_place(load_tested_run, capsys):
    """``python -m lib load-test`` on the stored run: int8's load test replaced, nothing else."""
    from lib.cli.main import main

    store, run_id, _, home, _ = load_tested_run
    before = store.results_for(run_id)
    again = LoadTestSpec(slo_ms=300, point_seconds=0.5, min_queries=20, max_points=2, max_batch=4)
    flags = ["--slo-ms", "300", "--point-seconds", "0.5", "--min-queries", "20"]
    flags += ["--max-points", "2", "--max-batch", "4"]
    mp = pytest.MonkeyPatch()
    mp.setenv("LEANBENCH_HOME", str(home))
    try:
        code = main(
            ["load-test", "--run", run_id, "--store", store.url, "--variants", "int8"]
            + flags
            + ["--quiet"]
        )
    finally:
        mp.undo()
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.startswith("int8: goodput ") and "at p99 <= 300.0 ms" in out.out
    after = store.results_for(run_id)
    assert [r["variant"] for r in after] == ["fp32", "int8"]  # nothing added or lost
    assert after[0] == before[0]  # fp32 untouched
    int8 = after[1]
    check_load_test(int8["load_test"], again)
    assert int8["load_test"]["added"]["hardware"]
    # Everything but the load test is the stored measurement.
    assert {k: v for k, v in int8.items() if k != "load_test"} == {
        k: v for k, v in before[1].items() if k != "load_test"
    }
    assert store.get_run(run_id)["status"] == "done"


def test_a_stored_run_refuses_unknown_runs_and_variants(load_tested_run):
    store, run_id, _, _, _ = load_tested_run
    with pytest.raises(UserError, match="No run with id 'nope'"):
        runner.load_test_stored("nope", store, SHORT)
    with pytest.raises(UserError, match="no measured variant 'half'"):
        runner.load_test_stored(run_id, store, SHORT, variants=["half"])


def test_the_time_out_allows_for_the_load_test(tiny_model_dir, small_csv):
    plain = tiny_spec(tiny_model_dir, small_csv, load_test=None)
    tested = tiny_spec(tiny_model_dir, small_csv)
    assert runner.variant_timeout_s(plain) == plain.measure.variant_timeout_s
    extra = runner.variant_timeout_s(tested) - plain.measure.variant_timeout_s
    assert extra == SHORT.time_budget_s and extra > SHORT.planned_s == 4 * 0.5
    long = LoadTestSpec(mlperf_minimum=True)
    assert long.time_budget_s > (2 + long.max_points) * 600


def test_a_crash_during_the_load_test_fails_that_variant_and_says_so():
    seen: list = []
    out = runner.run_isolated(
        {"variant": "int8", "entry": f"{load_test_helpers.__name__}:crash_in_load_test"},
        30,
        lambda *p: seen.append(p),
    )
    assert out["status"] == "failed"
    assert "exit code 3" in out["error"] and out["error"].endswith("during the load test")
    assert seen == [(0.4, "measured"), (0.6, "Server at 120 QPS (point 3/8)", "load test")]


def test_an_exception_in_the_load_test_fails_the_variant_with_its_reason():
    out = runner.run_isolated(
        {"variant": "int8", "entry": f"{load_test_helpers.__name__}:raise_in_load_test"},
        30,
        lambda *p: None,
    )
    assert out["status"] == "failed"
    assert out["error"] == "load test failed: VariantCrashed: out of device memory"
    assert "Traceback" in out["error_detail"]

"""The whole flow on a tiny model: data -> adapted baseline -> isolated variants -> store."""

import pytest

from lib.execution import runner
from lib.spec import AdaptSpec, DatasetSpec, MeasureSpec, ModelSpec, RunSpec
from lib.store import Store


def tiny_spec(model_dir, csv, variants=("fp32", "int8")):
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
            sweep_seq_lens=[8],
            warmup=1,
            min_repeats=3,
            min_seconds=0.0,
        ),
    )


@pytest.fixture(scope="module")
def finished_run(tiny_model_dir, small_csv, tmp_path_factory):
    home = tmp_path_factory.mktemp("runner-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("LEANBENCH_HOME", str(home))
    store = Store(f"sqlite:///{home / 'store.db'}")
    events = []
    spec = tiny_spec(tiny_model_dir, small_csv, variants=("int8", "fp32", "half", "half+int8"))
    run_id = runner.execute(spec, store, progress=lambda *e: events.append(e))
    yield store, run_id, events, home
    mp.undo()


def test_every_variant_is_measured_and_stored(finished_run):
    store, run_id, events, _ = finished_run
    doc = store.run_document(run_id)
    assert doc["status"] == "done"
    names = [r["variant"] for r in doc["results"]]
    assert names == ["fp32", "int8", "half", "half+int8"]  # the baseline first
    for r in doc["results"][:3]:
        assert r["status"] == "ok", r.get("error")
        assert 0 <= r["accuracy"] <= 1 and 0 <= r["macro_f1"] <= 1
        assert set(r["latency_ms"]) == {"1", "4"}
        assert r["latency_ms"]["4"]["p50"] > 0
        assert r["throughput_per_s"]["4"] == pytest.approx(4 / (r["latency_ms"]["4"]["p50"] / 1000))
        assert r["size_mb"] > 0 and r["params"] > 0 and r["peak_memory_mb"] > 50
        assert r["n_eval"] == 24
        # The length sweep: timed at the smallest batch size, the main length included.
        assert set(r["latency_by_seq_len_ms"]) == {"8", "16"} and r["sweep_batch_size"] == 1
        assert r["latency_by_seq_len_ms"]["16"] == r["latency_ms"]["1"]
    fp32, int8, half, _ = doc["results"]
    assert fp32["agreement"] == 1.0
    assert int8["size_mb"] < fp32["size_mb"] and half["size_mb"] < fp32["size_mb"]
    assert (int8["precision"], half["precision"]) == ("int8", "bf16")


def test_each_variant_is_timed_in_turns_with_fp32(finished_run):
    store, run_id, _, _ = finished_run
    fp32, int8, half, _ = store.run_document(run_id)["results"]
    assert fp32["speedup_paired"] == {}  # the baseline against itself says nothing
    for r in (int8, half):
        assert set(r["speedup_paired"]) == {"1", "4"}
        paired = r["speedup_paired"]["4"]
        assert paired["rounds"] == 5 and len(paired["ratios"]) == 5
        assert paired["ci"][0] <= paired["speedup"] <= paired["ci"][1]
    # The expectation verdict judges the paired speed-up at the largest batch.
    assert int8["speedup_vs_baseline"] == pytest.approx(int8["speedup_paired"]["4"]["speedup"])


def test_the_head_was_adapted_and_learned_the_easy_task(finished_run):
    store, run_id, _, _ = finished_run
    doc = store.run_document(run_id)
    assert doc["baseline"]["adapted"] is True and doc["baseline"]["adapt_cached"] is False
    assert doc["results"][0]["accuracy"] >= 0.9  # the words give the label away
    assert doc["environment"]["threads"] >= 1 and doc["environment"]["cpu_model"]
    # where the head was trained, for its one-off cost; kept by the cache (test below)
    built_on = doc["baseline"]["adapt_built_on"]
    assert built_on["cpu_model"] == doc["environment"]["cpu_model"] and built_on["built_at"]


def test_progress_reports_each_stage(finished_run):
    _, _, events, _ = finished_run
    stages = [e[0] for e in events]
    assert stages[0] == "data" and "adapt" in stages and stages[-1] == "done"
    assert {"variant:fp32", "variant:int8", "variant:half"} <= set(stages)
    fractions = [e[2] for e in events if e[2] is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_second_run_reuses_the_cached_baseline(finished_run, tiny_model_dir, small_csv):
    store, _, _, home = finished_run
    mp = pytest.MonkeyPatch()
    mp.setenv("LEANBENCH_HOME", str(home))
    try:
        run_id = runner.execute(tiny_spec(tiny_model_dir, small_csv, variants=("fp32",)), store)
    finally:
        mp.undo()
    again = store.run_document(run_id)["baseline"]
    assert again["adapt_cached"] is True
    first = store.run_document(finished_run[1])["baseline"]["adapt_built_on"]
    assert again["adapt_built_on"] == first  # the first build's machine and time, not this run's


def test_a_failing_variant_is_reported_and_the_others_go_on(finished_run):
    store, run_id, _, _ = finished_run
    doc = store.run_document(run_id)
    # half then int8 cannot be built: that variant fails with its reason, the others land.
    bad = doc["results"][-1]
    assert bad["variant"] == "half+int8" and bad["status"] == "failed" and "32-bit" in bad["error"]
    assert all(r["status"] == "ok" for r in doc["results"][:-1])
    assert doc["status"] == "done" and doc["message"] == "3 of 4 variants measured"

import json

import pytest

from lib.errors import UserError
from lib.spec import (
    DatasetSpec,
    LoadTestSpec,
    MeasureSpec,
    ModelSpec,
    RunSpec,
    default_spec_dict,
    spec_lines,
)


def test_default_spec_round_trips_through_json():
    spec = RunSpec()
    again = RunSpec.from_json(spec.to_json())
    assert again == spec
    assert again.variants == ["fp32", "half", "int8"]
    assert again.measure.batch_sizes == [1, 32]


def test_custom_spec_round_trips():
    spec = RunSpec(
        model=ModelSpec("/some/folder"),
        dataset=DatasetSpec("data.csv", text_column="t", label_column="y", eval_limit=50),
        variants=["fp32", "int8:per-channel"],
        measure=MeasureSpec(batch_sizes=[8, 1, 8], seq_len=64, threads=2),
        name="mine",
    )
    again = RunSpec.from_json(spec.to_json())
    assert again == spec
    assert again.measure.batch_sizes == [1, 8]  # sorted, de-duplicated


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda: DatasetSpec(eval_limit=0), "eval limit"),
        (lambda: DatasetSpec(train_limit=-5), "train limit"),
        (lambda: MeasureSpec(batch_sizes=[1, -4]), "Batch sizes"),
        (lambda: MeasureSpec(batch_sizes=[]), "at least one batch size"),
        (lambda: MeasureSpec(seq_len=4096), "above 512"),
        (lambda: MeasureSpec(device="tpu"), "Device"),
        (lambda: MeasureSpec(sweep_seq_lens=[64, 600]), "Sweep sequence lengths"),
        (lambda: DatasetSpec("my.csv"), "text column"),
        (lambda: ModelSpec("  "), "No model"),
        (lambda: RunSpec(variants=[]), "at least one variant"),
        (lambda: RunSpec(variants=["fp32", "warp-speed"]), "warp-speed"),
        (lambda: RunSpec(variants=["int8", "int8"]), "twice"),
    ],
)
def test_bad_values_raise_user_errors_that_say_what(make, fragment):
    with pytest.raises(UserError, match=fragment):
        make()


def test_from_json_rejects_unknown_keys_and_bad_json():
    with pytest.raises(UserError, match="Unknown key"):
        RunSpec.from_dict({"modle": {}})
    with pytest.raises(UserError, match="not valid JSON"):
        RunSpec.from_json("{nope")
    with pytest.raises(UserError, match="Unknown key"):
        RunSpec.from_dict({"measure": {"batchsizes": [1]}})


def test_sweep_lengths_are_sorted_and_skip_the_main_length():
    assert MeasureSpec(seq_len=128, sweep_seq_lens=[256, 32, 128, 32]).sweep_seq_lens == [32, 256]


# ------------------------------------------------------------------ the load test (issue 12)
def test_a_spec_with_a_load_test_round_trips():
    spec = RunSpec(load_test=LoadTestSpec(slo_ms=50, tokenizer="slow", max_points=3))
    data = json.loads(spec.to_json())
    assert data["load_test"]["slo_ms"] == 50.0 and data["load_test"]["tokenizer"] == "slow"
    again = RunSpec.from_json(spec.to_json())
    assert again == spec and again.load_test == LoadTestSpec(
        slo_ms=50, tokenizer="slow", max_points=3
    )
    assert RunSpec(load_test={"slo_ms": 20}).load_test == LoadTestSpec(slo_ms=20)


def test_a_spec_without_a_load_test_has_none():
    assert RunSpec().load_test is None and RunSpec().to_dict()["load_test"] is None
    old = RunSpec().to_dict()
    del old["load_test"]  # a spec stored before issue 12
    assert RunSpec.from_dict(old).load_test is None
    assert RunSpec.from_dict({**old, "load_test": None}).load_test is None
    assert default_spec_dict()["load_test"] is None


@pytest.mark.parametrize(
    "value, fragment",
    [
        ({"slo_ms": -1}, "slo_ms must be above 0"),
        ({"percentile": 98}, "not one LoadGen reports"),
        ({"slo": 10}, "Unknown load test setting"),
        ("fast", "must be a JSON object"),
    ],
)
def test_bad_load_test_settings_in_a_spec_are_user_errors(value, fragment):
    with pytest.raises(UserError, match=fragment):
        RunSpec.from_dict({"load_test": value})


def test_the_load_test_line_shows_only_when_asked():
    assert "Load test" not in dict(spec_lines(default_spec_dict()))
    d = RunSpec(load_test=LoadTestSpec(slo_ms=50, max_batch=8)).to_dict()
    line = dict(spec_lines(d))["Load test"]
    assert "p99 ≤ 50 ms" in line and "up to 8" in line and "10 s per LoadGen run" in line


def test_the_time_budget_covers_every_loadgen_run():
    spec = LoadTestSpec(point_seconds=2, max_points=4)
    assert spec.planned_s == (2 + 4) * 2
    assert spec.time_budget_s > spec.planned_s
    assert LoadTestSpec(mlperf_minimum=True).planned_s == 10 * 600

import pytest

from lib.errors import UserError
from lib.spec import DatasetSpec, MeasureSpec, ModelSpec, RunSpec


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

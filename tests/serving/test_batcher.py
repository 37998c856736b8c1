"""The dynamic batcher, the serving tokenizers and the load test's settings."""

from __future__ import annotations

import json
import threading
import time

import pytest
import torch

from lib.errors import UserError
from lib.serving.batcher import DynamicBatcher, VariantCrashed
from lib.serving.tokenizers import max_length_for, serving_tokenizer
from lib.spec import LoadTestSpec


class Recorder:
    """A predictor that remembers each batch's shape, optionally after a pause."""

    def __init__(self, model, pause_s: float = 0.0):
        self.model, self.pause_s, self.shapes = model, pause_s, []

    def __call__(self, batch):
        self.shapes.append(tuple(batch["input_ids"].shape))
        if self.pause_s:
            time.sleep(self.pause_s)
        with torch.inference_mode():
            return self.model(**batch).logits.float()


def test_batches_fill_up_to_max_batch(model, tokenizer):
    predictor = Recorder(model)
    gate = threading.Event()
    original = predictor.__call__

    def held(batch):  # the first batch waits, so the rest queue up behind it
        gate.wait(5)
        return original(batch)

    with DynamicBatcher(held, tokenizer, max_batch=4, max_delay_ms=1000, max_length=32) as batcher:
        futures = [batcher.submit("good film", i) for i in range(10)]
        gate.set()
        done = [f.result(timeout=10) for f in futures]
    assert [s[0] for s in predictor.shapes] == [4, 4, 2]
    assert [c.batch_size for c in done] == [4] * 8 + [2] * 2
    assert [c.tag for c in done] == list(range(10))


def test_max_delay_is_honoured(model, tokenizer):
    with DynamicBatcher(
        Recorder(model), tokenizer, max_batch=8, max_delay_ms=60, max_length=32
    ) as batcher:
        alone = batcher.submit("good film").result(timeout=5)
        # A full batch does not wait for the delay.
        full = [batcher.submit("bad plot") for _ in range(8)]
        first = full[0].result(timeout=5)
    assert alone.batch_size == 1
    assert 0.055 <= alone.queue_s < 0.5
    assert first.batch_size == 8 and first.queue_s < 0.055


def test_pads_to_the_longest_request_and_truncates(model, tokenizer):
    predictor = Recorder(model)
    short, long = "good", "the plot of this film was long and dull and the actor was awful"
    expected = len(tokenizer(long)["input_ids"])
    with DynamicBatcher(
        predictor, tokenizer, max_batch=2, max_delay_ms=500, max_length=64
    ) as batcher:
        a, b = batcher.submit(short), batcher.submit(long)
        assert a.result(timeout=5).length == b.result(timeout=5).length == expected
    assert predictor.shapes == [(2, expected)]
    with DynamicBatcher(predictor, tokenizer, max_batch=1, max_delay_ms=0, max_length=8) as b2:
        assert b2.submit(long).result(timeout=5).length == 8


def test_labels_match_the_model_and_time_is_split(model, tokenizer):
    texts = ["good film", "bad movie with a dull plot", "great actor", "awful"] * 3
    with DynamicBatcher(
        Recorder(model), tokenizer, max_batch=4, max_delay_ms=5, max_length=64
    ) as batcher:
        labels = batcher.serve(texts)
        completion = batcher.submit(texts[0]).result(timeout=5)
        records = batcher.take_records()
    with torch.inference_mode():
        alone = [int(model(**tokenizer(t, return_tensors="pt")).logits.argmax()) for t in texts]
    assert labels == alone
    assert completion.tokenize_s > 0 and completion.model_s > 0 and completion.queue_s >= 0
    assert sum(r.size for r in records) == len(texts) + 1
    assert all(r.service_s >= r.tokenize_s + r.model_s for r in records)


def test_a_crash_fails_this_and_every_later_request(tokenizer):
    def broken(batch):
        raise RuntimeError("kernel fault")

    seen = []
    with DynamicBatcher(
        broken, tokenizer, max_batch=2, max_delay_ms=0, max_length=16, on_batch=seen.append
    ) as batcher:
        first, later = batcher.submit("good"), None
        with pytest.raises(VariantCrashed, match="kernel fault"):
            first.result(timeout=5)
        later = batcher.submit("bad")
        with pytest.raises(VariantCrashed):
            later.result(timeout=5)
    assert isinstance(batcher.error, RuntimeError)
    # Whoever waits on every request (LoadGen) still hears of the failed ones.
    assert [c.ok for batch in seen for c in batch] == [False, False]


def test_max_batch_zero_is_refused(tokenizer):
    with pytest.raises(UserError, match="max_batch"):
        DynamicBatcher(lambda b: None, tokenizer, max_batch=0, max_delay_ms=1, max_length=8)
    with pytest.raises(UserError, match="max_batch"):
        LoadTestSpec(max_batch=0)


# ---------------------------------------------------------------- tokenizers
def test_slow_tokenizer_is_python_and_gives_the_same_ids(tokenizer):
    texts = ["The Film was GREAT, café naïve!", "bad movie", "東京 plot twist"]
    slow = serving_tokenizer(tokenizer, "slow", texts)
    assert tokenizer.is_fast and not slow.is_fast
    assert slow(texts)["input_ids"] == tokenizer(texts)["input_ids"]
    assert serving_tokenizer(tokenizer, "fast", texts) is tokenizer


def test_max_length_defaults_to_the_model_and_is_capped(tokenizer):
    assert max_length_for(tokenizer, None) == 512
    assert max_length_for(tokenizer, 128) == 128
    with pytest.raises(UserError, match="beyond this model's maximum"):
        max_length_for(tokenizer, 1024)


# ---------------------------------------------------------------- settings
def test_spec_round_trips_through_json():
    spec = LoadTestSpec(slo_ms=50, tokenizer="slow", max_batch=8, max_length=128, seed=3)
    again = LoadTestSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert LoadTestSpec().duration_s == 10.0
    assert LoadTestSpec(mlperf_minimum=True).duration_s == 600.0


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"slo_ms": 0}, "slo_ms"),
        ({"slo_ms": True}, "slo_ms"),
        ({"percentile": 98}, "percentile"),
        ({"tokenizer": "rust"}, "tokenizer"),
        ({"max_delay_ms": -1}, "max_delay_ms"),
        ({"max_length": 1}, "max_length"),
        ({"max_points": 0}, "max_points"),
        ({"tolerance": 1.5}, "tolerance"),
        ({"mlperf_minimum": "yes"}, "mlperf_minimum"),
        ({"max_batch": 2.5}, "max_batch"),
    ],
)
def test_spec_refuses_bad_settings(bad, message):
    with pytest.raises(UserError, match=message):
        LoadTestSpec(**bad)


def test_spec_refuses_unknown_keys():
    with pytest.raises(UserError, match="Unknown load test setting"):
        LoadTestSpec.from_dict({"slo": 10})


def test_the_load_test_spec_imports_nothing_heavy():
    import subprocess
    import sys

    code = (
        "import sys; import lib.spec; "
        "print(any(m in sys.modules for m in ('numpy', 'torch', 'simpy', 'mlperf_loadgen')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

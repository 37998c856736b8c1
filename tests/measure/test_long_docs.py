"""Long documents (issue 18): windows that cover every token with the overlap asked for, pooled
logits, the strategies on a tiny model, and short texts where the choice changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from lib.errors import UserError
from lib.measure import long_docs as ld


@pytest.mark.parametrize(
    "length,size,overlap",
    [(1000, 126, 32), (126, 126, 32), (127, 126, 32), (5, 126, 0), (300, 100, 0), (301, 10, 9)],
)
def test_chunks_cover_every_token_with_the_overlap(length, size, overlap):
    spans = ld.chunk_spans(length, size, overlap)
    covered = np.zeros(length, dtype=int)
    for a, b in spans:
        assert 0 <= a < b <= length and b - a <= size
        covered[a:b] += 1
    assert covered.min() >= 1  # every token in a window
    assert spans[0][0] == 0 and spans[-1][1] == length
    stride = size - overlap
    for (a0, b0), (a1, _) in zip(spans, spans[1:], strict=False):
        assert a1 - a0 == stride  # each window starts stride after the previous
        assert b0 - a1 == overlap  # and shares exactly `overlap` tokens with it
    if length > size:
        assert len(spans) == -(-(length - overlap) // stride)
    else:
        assert spans == [(0, length)]


def test_chunk_windows_hold_the_text_exactly():
    ids = list(range(1000))
    s = ld.parse_strategy("chunk:128:32:mean", model_max=512)
    parts = ld.windows(ids, s)  # 126 text tokens per window after [CLS] and [SEP]
    assert all(len(p) <= 126 for p in parts)
    assert parts[0] == ids[:126] and parts[1][:32] == ids[94:126] and parts[-1][-1] == 999
    assert sorted(set(t for p in parts for t in p)) == ids


def test_truncate_and_head_tail():
    ids = list(range(1000))
    assert ld.windows(ids, ld.parse_strategy("truncate:128", 512)) == [ids[:126]]
    ht = ld.parse_strategy("head-tail:128", 512)
    assert ht.head == 126 // 4
    (w,) = ld.windows(ids, ht)
    assert w == ids[:31] + ids[1000 - 95 :] and len(w) == 126
    assert ld.windows(ids[:50], ht) == [ids[:50]]  # a short text is read whole
    assert ld.windows(ids, ld.parse_strategy("head-tail:128:126", 512)) == [ids[:126]]


def test_pooling_chunk_logits():
    logits = np.array([[1.0, 4.0, -2.0], [3.0, 0.0, 0.0], [2.0, 2.0, 5.0]])
    assert ld.pool_logits(logits, "mean") == pytest.approx([2.0, 2.0, 1.0])
    assert ld.pool_logits(logits, "max") == pytest.approx([3.0, 4.0, 5.0])
    assert int(np.argmax(ld.pool_logits(logits, "max"))) == 2  # one window's strong vote wins
    with pytest.raises(ValueError):
        ld.pool_logits(np.zeros((0, 3)))


def test_strategy_grammar_and_bad_input():
    s = ld.parse_strategy("chunk", model_max=512)
    assert (s.max_tokens, s.overlap, s.pool, s.name) == (512, 127, "mean", "chunk:512:127:mean")
    assert ld.parse_strategy("chunk:128:0:max", 512).name == "chunk:128:0:max"
    for bad, why in [
        ("sliding", "Unknown"),
        ("truncate:1024", "more than this model reads"),
        ("chunk:128:126", "overlap"),
        ("chunk:128:32:median", "mean or max"),
        ("head-tail:128:x", "whole number"),
    ]:
        with pytest.raises(UserError, match=why):
            ld.parse_strategy(bad, model_max=512)


def test_length_stats():
    st = ld.length_stats([50, 100, 200, 600, 3000], [128, 512])
    assert st["max"] == 3000 and st["p50"] == 200
    assert st["share_longer_than"] == {"128": 0.6, "512": 0.4}
    assert sum(b["documents"] for b in st["histogram"]) == 5


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    import torch

    from lib.models import load as models

    torch.manual_seed(0)
    tok = models.load_tokenizer(str(tiny_model_dir))
    model = models.load_classifier(str(tiny_model_dir), num_labels=2).eval()
    return model, tok


def _docs(n_words: int):
    from lib.datasets import LabelledText

    rng = np.random.default_rng(0)
    words = ["market", "goal", "film", "vote", "bank", "match", "album", "minister"]
    texts = [" ".join(rng.choice(words, n_words)) for _ in range(6)]
    return LabelledText(texts, np.array([0, 1] * 3), ["a", "b"])


def test_strategies_on_a_tiny_model(tiny):
    import torch

    torch.set_num_threads(1)
    model, tok = tiny
    data = _docs(300)  # about 300 tokens each: longer than a 64-token window
    strategies = [
        ld.parse_strategy(s, 512)
        for s in ("truncate:64", "head-tail:64", "chunk:64:16:mean", "chunk:64:16:max")
    ]
    out = ld.evaluate(model, tok, data, strategies, model_max=512, warmup=1)
    by = {r["strategy"]: r for r in out["strategies"]}
    assert list(by) == ["truncate:64", "head-tail:64:15", "chunk:64:16:mean", "chunk:64:16:max"]
    for r in by.values():
        assert 0 <= r["accuracy_ci"][0] <= r["accuracy"] <= r["accuracy_ci"][1] <= 1
        assert r["docs_per_s"] > 0 and r["latency_ms_p50"] > 0 and r["n_eval"] == 6
        assert not r["changes_nothing"] and r["share_longer"] == 1.0
        assert sum(b["documents"] for b in r["by_length"]) == 6
    assert by["truncate:64"]["windows_per_doc"] == 1
    assert by["chunk:64:16:mean"]["windows_per_doc"] == pytest.approx(-(-(300 - 16) // 46), abs=1)
    assert by["chunk:64:16:mean"]["tokens_per_doc"] > by["truncate:64"]["tokens_per_doc"]
    assert out["token_lengths"]["p50"] >= 300 and out["tokenize_ms_per_doc"] > 0

    # the same model by hand: the chunked prediction is the argmax of the pooled window logits
    ids = tok(data.texts[0], add_special_tokens=False)["input_ids"]
    parts = ld.windows(ids, strategies[2])
    with torch.inference_mode():
        logits = model(**ld._batch(tok, parts)).logits.numpy()
    assert by["chunk:64:16:mean"]["predictions"][0] == int(np.argmax(logits.mean(axis=0)))

    from lib.results.long_docs import by_length_frame, price, strategies_frame
    from lib.results.long_docs_charts import docs_per_second_chart

    doc = price({**out, "environment": {"device": "cpu", "cpu_model": "AMD EPYC", "threads": 1}})
    assert all(s["usd_per_million_docs"] > 0 for s in doc["strategies"])
    assert doc["rate"]["price_source"] and doc["rate"]["price_date"]
    assert len(strategies_frame(doc)) == 4 and len(doc["sentences"]) == 4
    fig = docs_per_second_chart(by_length_frame(doc))
    assert fig.layout.xaxis.type == "log" and len(fig.data) == 4


def test_on_short_texts_a_strategy_changes_nothing(tiny):
    model, tok = tiny
    data = _docs(10)
    strategies = [ld.parse_strategy(s, 512) for s in ("truncate:64", "chunk:64:16:mean")]
    out = ld.evaluate(model, tok, data, strategies, model_max=512, warmup=0)
    assert out["changes_nothing"] and all(r["changes_nothing"] for r in out["strategies"])
    assert out["strategies"][1]["predictions"] == out["strategies"][0]["predictions"]
    note = ld.short_text_note(out)
    assert note and "changes nothing" in note and "longer than 64 tokens" in note

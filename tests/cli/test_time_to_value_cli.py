"""``python -m lib curve`` and ``python -m lib long-docs`` (issue 18) end to end on a tiny model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lib.cli.main import main


@pytest.fixture
def articles(tmp_path):
    """250 'articles' of about 150 words in two topics whose words give the topic away."""
    rng = np.random.default_rng(0)
    sport, money = ["goal", "match", "team", "coach"], ["bank", "market", "shares", "profit"]
    rows = ["text,topic"]
    for i in range(250):
        topic = "sport" if i % 2 else "business"
        words = rng.choice(sport if topic == "sport" else money, 150)
        rows.append(f'"{" ".join(words)}",{topic}')
    path = tmp_path / "articles.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_curve_writes_points_and_labels_needed(tiny_model_dir, articles, tmp_path, capsys):
    import torch

    torch.set_num_threads(1)
    out = tmp_path / "curve.json"
    code = main(
        ["curve", "--model", str(tiny_model_dir), "--dataset", str(articles),
         "--text-column", "text", "--label-column", "topic", "--sizes", "10,40",
         "--seeds", "1", "--target", "0.99", "--eval-limit", "50", "--min-steps", "2",
         "--max-length", "16", "--quiet", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out.read_text())
    assert [p["n_labels"] for p in doc["points"]] == [10, 40]
    assert {"n_labels", "seed", "accuracy", "accuracy_ci", "seconds"} <= set(doc["points"][0])
    assert "labels_needed" in doc
    assert doc["sentence"] in capsys.readouterr().err
    # a dataset smaller than the smallest subset: one line, exit 2
    assert main(["curve", "--model", str(tiny_model_dir), "--dataset", str(articles),
                 "--text-column", "text", "--label-column", "topic", "--sizes", "5000",
                 "--quiet"]) == 2  # fmt: skip
    assert "fewer than the smallest subset" in capsys.readouterr().err


def test_long_docs_writes_each_strategy(tiny_model_dir, articles, tmp_path, capsys):
    import torch

    torch.set_num_threads(1)
    out = tmp_path / "long.json"
    code = main(
        ["long-docs", "--model", str(tiny_model_dir), "--dataset", str(articles),
         "--text-column", "text", "--label-column", "topic", "--eval-limit", "50",
         "--train-limit", "40", "--adapt-max-length", "16",
         "--strategies", "truncate:64,head-tail:64,chunk:64:16:mean", "--quiet",
         "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out.read_text())
    assert [s["strategy"] for s in doc["strategies"]] == [
        "truncate:64", "head-tail:64:15", "chunk:64:16:mean"
    ]  # fmt: skip
    assert doc["token_lengths"]["p50"] > 64 and not doc["changes_nothing"]
    assert all(s["usd_per_million_docs"] > 0 and s["docs_per_s"] > 0 for s in doc["strategies"])
    assert doc["rate"]["price_source"] and doc["baseline"]["adapted"]
    err = capsys.readouterr().err
    assert "documents/s" in err and "median" in err
    assert main(["long-docs", "--model", str(tiny_model_dir), "--dataset", str(articles),
                 "--text-column", "text", "--label-column", "topic", "--eval-limit", "50",
                 "--strategies", "sliding:64", "--quiet"]) == 2  # fmt: skip
    assert "Unknown long-document strategy" in capsys.readouterr().err

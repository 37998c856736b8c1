"""Shared fixtures: an isolated data folder, a tiny model on disk, a small labelled CSV."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def keep_main_module():
    """Streamlit's AppTest runs page scripts as ``__main__`` and leaves them there; a
    multiprocessing "spawn" child started later would re-run that script. Restore it."""
    import sys

    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own data folder, so nothing touches ~/.leanbench."""
    home = tmp_path_factory.mktemp("leanbench-home")
    monkeypatch.setenv("LEANBENCH_HOME", str(home))
    monkeypatch.delenv("LEANBENCH_STORE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never wait on the network in tests
    return home


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A 2-layer BERT (random weights, the built-in model's tokenizer) saved in HF format."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from lib.paths import asset_path

    path = tmp_path_factory.mktemp("tiny-bert")
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    # A bare encoder, like the built-in model: Leanbench must add and train a head.
    BertModel(config).save_pretrained(path)
    AutoTokenizer.from_pretrained(str(asset_path("minilm-l6"))).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory):
    """120 short reviews in two classes whose words give the label away."""
    import random

    rng = random.Random(0)
    good = ["great", "wonderful", "superb", "loved", "delightful"]
    bad = ["awful", "boring", "terrible", "hated", "dull"]
    rows = ["review,sentiment"]
    for i in range(120):
        label = "pos" if i % 2 else "neg"
        words = rng.sample(good if label == "pos" else bad, 3)
        rows.append(f'"the film was {" and ".join(words)}",{label}')
    path = tmp_path_factory.mktemp("data") / "reviews.csv"
    path.write_text("\n".join(rows) + "\n")
    return path

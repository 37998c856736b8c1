"""Issue 14 on the pages: Model & data shows a model's family, sizes and parameters and which
techniques apply, before a run; Techniques greys out what cannot work on it, with the sentence
the runner would fail the variant with."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def albert_dir(tmp_path_factory):
    """A 2-layer ALBERT (one shared layer), random weights, saved in HF format."""
    from transformers import AlbertConfig, AlbertForSequenceClassification, AutoTokenizer

    from lib.paths import asset_path

    path = tmp_path_factory.mktemp("tiny-albert")
    config = AlbertConfig(
        vocab_size=30522,
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
    )
    AlbertForSequenceClassification(config).save_pretrained(path)
    AutoTokenizer.from_pretrained(asset_path("minilm-l6")).save_pretrained(path)
    return path


def app(page: str, source: str | None = None) -> AppTest:
    from lib.spec import default_spec_dict

    at = AppTest.from_file(APP, default_timeout=120)
    if source:
        draft = default_spec_dict()
        draft["model"]["source"] = source
        at.session_state["draft"] = draft
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def test_model_and_data_shows_the_builtin_models_anatomy():
    at = app("pages/model_data.py")
    text = captions(at)
    assert "**BERT-like** family · 6 layers · 12 heads of 32 · hidden 384" in text
    assert "22.7M parameters · every technique and runtime applies" in text


def test_model_and_data_says_what_does_not_apply_to_albert(albert_dir):
    at = app("pages/model_data.py", str(albert_dir))
    text = captions(at)
    assert "**ALBERT** family" in text
    assert "not on this model: prune-structured, distill" in text
    assert "one shared layer applied 2 times" in text


def test_techniques_greys_out_what_cannot_work_on_albert(albert_dir):
    at = app("pages/techniques.py", str(albert_dir))
    assert at.checkbox(key="tq_on_prune-structured").disabled
    assert at.checkbox(key="tq_on_distill").disabled
    assert not at.checkbox(key="tq_on_int8").disabled
    assert "shared layer" in captions(at)
    at.text_input(key="tq_advanced").input("distill:1+int8").run()
    errors = "\n".join(e.value for e in at.error)
    assert "does not apply to ALBERT models" in errors
    assert "distill:1+int8" not in at.session_state["draft"]["variants"]

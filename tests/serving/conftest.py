"""Fixtures every serving test shares: one torch thread, the tiny model and its tokenizer."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    # A tiny model gains nothing from threads on a busy 2-core machine.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(0)
    return AutoModelForSequenceClassification.from_pretrained(
        str(tiny_model_dir), num_labels=2
    ).eval()

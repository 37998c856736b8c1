import pytest

from lib.errors import UserError
from lib.models import load as models
from lib.spec import ModelSpec


def test_builtin_model_resolves_to_package_files():
    resolved = models.resolve(ModelSpec("minilm-l6"))
    assert resolved.is_local
    config = models.load_config(resolved)
    assert config.num_hidden_layers == 6 and config.hidden_size == 384


def test_missing_folder(tmp_path):
    with pytest.raises(UserError, match="not found"):
        models.resolve(ModelSpec(str(tmp_path / "no-such-model")))


def test_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(UserError, match="no config.json"):
        models.resolve(ModelSpec(str(tmp_path)))


def test_hub_id_offline_names_the_id_and_suggests_a_folder():
    resolved = models.resolve(ModelSpec("someone/some-model"))
    assert not resolved.is_local
    with pytest.raises(UserError, match="someone/some-model.*local folder"):
        models.load_config(resolved)


def test_head_match(tiny_model_dir):
    config = models.load_config(models.resolve(ModelSpec(str(tiny_model_dir))))
    assert not models.head_matches(config, ["neg", "pos"])
    config.architectures = ["BertForSequenceClassification"]
    config.id2label = {0: "NEG", 1: "POS"}
    assert models.head_matches(config, ["neg", "pos"])

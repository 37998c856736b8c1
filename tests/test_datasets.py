import numpy as np
import pytest

from lib import datasets
from lib.errors import UserError
from lib.spec import DatasetSpec


def test_builtin_rotten_tomatoes_leaves_plot_summaries_out():
    data = datasets.load(DatasetSpec("rotten-tomatoes"))
    assert data.label_names == ["fresh", "rotten"]
    assert 12_000 < len(data) < 13_000


@pytest.mark.parametrize(
    "name, labels",
    [
        ("bbc-news", ["business", "entertainment", "politics", "sports", "tech"]),
        ("tweets", ["negative", "neutral", "positive"]),
    ],
)
def test_other_builtins_load(name, labels):
    data = datasets.load(DatasetSpec(name))
    assert data.label_names == labels
    assert len(data) > 2000


def test_split_is_stratified_deterministic_and_disjoint(small_csv):
    data = datasets.load(
        DatasetSpec(str(small_csv), text_column="review", label_column="sentiment")
    )
    train, evals = datasets.split(data, train_limit=40, eval_limit=20, seed=3)
    again_train, again_eval = datasets.split(data, train_limit=40, eval_limit=20, seed=3)
    assert train.texts == again_train.texts and evals.texts == again_eval.texts
    assert len(train) == 40 and len(evals) == 20
    assert np.bincount(evals.labels).tolist() == [10, 10]
    # The eval set does not depend on the training budget.
    _, evals_more_train = datasets.split(data, train_limit=90, eval_limit=20, seed=3)
    assert evals_more_train.texts == evals.texts


def test_jsonl_file(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"t": "a", "y": 1}\n{"t": "b", "y": 0}\n{"t": "c", "y": 1}\n')
    data = datasets.load(DatasetSpec(str(path), text_column="t", label_column="y"))
    assert data.label_names == ["0", "1"] and len(data) == 3


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "empty"),
        (b"text,label\n\xff\xfe bad,1\n", "not UTF-8"),
        (b"text,label\nhello,a\nworld,a\n", "only one class"),
        (b"words,label\nhello,a\nworld,b\n", "no column 'text'"),
    ],
)
def test_bad_csv_files_say_what_is_wrong(tmp_path, content, fragment):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(UserError, match=fragment):
        datasets.load(DatasetSpec(str(path), text_column="text", label_column="label"))


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        datasets.load(DatasetSpec(str(tmp_path / "nope.csv"), text_column="t", label_column="y"))

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


# ------------------------------------------------------------------ enough to evaluate on (issue 13)
def labelled(per_class: list[int]) -> datasets.LabelledText:
    labels = np.concatenate([np.full(n, i, dtype=np.int64) for i, n in enumerate(per_class)])
    return datasets.LabelledText([f"text {i}" for i in range(len(labels))], labels, ["a", "b"])


def test_accuracy_half_width_is_the_wilson_interval_at_fifty_percent():
    from statsmodels.stats.proportion import proportion_confint

    for n in (10, 50, 200, 1000):
        low, high = proportion_confint(n // 2, n, alpha=0.05, method="wilson")
        assert datasets.accuracy_half_width(n) == pytest.approx((high - low) / 2, abs=1e-9)
    assert datasets.accuracy_half_width(50) == pytest.approx(0.134, abs=0.001)
    assert datasets.accuracy_half_width(1000) == pytest.approx(0.031, abs=0.001)
    assert datasets.accuracy_half_width(0) == 0.5


@pytest.mark.parametrize(
    ("per_class", "train_limit", "eval_limit"),
    [([60, 60], 40, 20), ([60, 60], 4000, 1000), ([7, 300], 100, 30), ([1, 1], 10, 10)],
)
def test_eval_size_counts_what_split_gives(per_class, train_limit, eval_limit):
    data = labelled(per_class)
    size = datasets.eval_size(data, train_limit, eval_limit)
    try:
        train, evals = datasets.split(data, train_limit, eval_limit, seed=1)
    except UserError:
        assert size.too_small
        return
    assert (size.n_train, size.n_eval) == (len(train), len(evals))


def test_two_usable_rows_are_refused_with_the_interval_they_would_give():
    size = datasets.eval_size(labelled([1, 1]), 4000, 1000)
    assert size.too_small
    problem = size.problem()
    assert (
        problem and "at least 50 evaluation examples" in problem and "250 labelled rows" in problem
    )
    with pytest.raises(UserError, match="at least 50"):
        datasets.check_eval_size(labelled([1, 1]), DatasetSpec("rotten-tomatoes"))


def test_a_few_rows_are_refused_with_the_interval_they_would_give():
    problem = datasets.eval_size(labelled([10, 10]), 4000, 1000).problem() or ""
    assert problem.startswith("Only 4 examples would be used to measure accuracy")
    assert "±35 points (95% interval)" in problem and "250 labelled rows" in problem


def test_the_floor_is_fifty_evaluation_examples():
    # 250 rows: a fifth (50) held out, exactly the floor; 245 rows: 49, one short.
    assert not datasets.eval_size(labelled([125, 125]), 4000, 1000).too_small
    short = datasets.eval_size(labelled([122, 123]), 4000, 1000)
    assert short.n_eval == 49 and short.too_small
    # Enough data but a low eval limit: the fix is the limit, not the file.
    low = datasets.eval_size(labelled([500, 500]), 4000, 20)
    assert low.too_small and "Raise the evaluation examples" in (low.problem() or "")
    assert "±20 points" in (low.problem() or "")


def test_sentence_and_wide_warning():
    size = datasets.eval_size(labelled([500, 500]), 4000, 200)
    assert size.wide and not size.too_small
    assert size.sentence().startswith("Accuracy will be measured on 200 held-out examples")
    assert "±6.9 points" in size.sentence()
    assert not datasets.eval_size(labelled([5000, 5000]), 4000, 1000).wide


def test_check_spec_size_reads_a_file_and_spares_the_builtins(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("words,stars\ngreat film,5\nawful film,1\n")
    spec = DatasetSpec(str(path), text_column="words", label_column="stars")
    with pytest.raises(UserError, match="No example would be left to measure accuracy on"):
        datasets.check_spec_size(spec)
    assert datasets.check_spec_size(DatasetSpec("bbc-news")) is None
    with pytest.raises(UserError, match="Raise the evaluation examples to at least 50"):
        datasets.check_spec_size(DatasetSpec("bbc-news", eval_limit=10))


@pytest.mark.parametrize("name", ["rotten-tomatoes", "bbc-news", "tweets"])
def test_every_builtin_holds_out_more_than_the_floor(name):
    """check_spec_size does not read a built-in: it may assume each holds out enough."""
    data = datasets.load(DatasetSpec(name))
    assert datasets.eval_size(data, 4000, 10**9).n_eval >= 4 * datasets.MIN_EVAL_EXAMPLES

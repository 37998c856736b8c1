"""The learning curve (issue 18): nested, stratified subsets; points trained once and cached;
the labels needed, with its interval; a target never reached; a dataset too small."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lib.errors import UserError
from lib.results import curve as rc
from lib.results.curve_charts import learning_curve_chart
from lib.training import curve as tc


def _labels(counts: list[int], seed: int = 0) -> np.ndarray:
    labels = np.concatenate([np.full(n, c) for c, n in enumerate(counts)])
    return labels[np.random.default_rng(seed).permutation(len(labels))]


@pytest.mark.parametrize("counts", [[500, 500], [700, 200, 100], [50, 30, 15, 5]])
def test_subsets_are_nested_and_stratified(counts):
    labels = _labels(counts)
    sizes = [10, 25, 50, 100, 250, 600]
    sizes = [s for s in sizes if s <= len(labels)]
    share = np.array(counts) / sum(counts)
    for seed in (0, 1):
        subsets = tc.nested_subsets(labels, sizes, seed)
        assert sorted(subsets) == sizes
        previous: set[int] = set()
        for n in sizes:
            idx = subsets[n]
            assert len(idx) == n and len(set(idx.tolist())) == n  # n distinct examples
            assert previous <= set(idx.tolist())  # each contains the smaller ones
            previous = set(idx.tolist())
            got = np.bincount(labels[idx], minlength=len(counts))
            assert np.all(np.abs(got - share * n) <= 1 + 1e-9)  # within one example per class
    # another seed draws other examples (a different chain), the same balance
    a, b = tc.nested_subsets(labels, [50], 0)[50], tc.nested_subsets(labels, [50], 1)[50]
    assert set(a.tolist()) != set(b.tolist())


def test_plan_gives_every_seed_to_the_small_sizes_only():
    assert tc.plan([1000, 50, 100], seeds=3, multi_seed_up_to=100) == [
        (50, 0),
        (50, 1),
        (50, 2),
        (100, 0),
        (100, 1),
        (100, 2),
        (1000, 0),
    ]
    with pytest.raises(UserError):
        tc.plan([50], seeds=0)


def test_sizes_against_a_small_train_split():
    kept, notes = tc.check_sizes([50, 100, 5000], pool=800, n_classes=2)
    assert kept == [50, 100] and "5,000" in notes[0]
    with pytest.raises(UserError, match="fewer than the smallest subset"):
        tc.check_sizes([1000, 2000], pool=800, n_classes=2)
    with pytest.raises(UserError, match="number of classes"):
        tc.check_sizes([2, 10], pool=800, n_classes=3)


def test_more_epochs_for_small_subsets():
    s = tc.CurveSettings(min_steps=20)  # batch 16
    assert s.epochs_for(50) == pytest.approx(6.4)
    assert s.epochs_for(4000) == 1.0


def _point(n, seed, correct, n_eval=100):
    return tc.Point(n, seed, correct, n_eval, 10.0, 5, 1.0, 0.5, False, [], {})


def test_labels_needed_uses_the_mean_and_reports_its_interval():
    env = {"device": "cpu", "cpu_model": "AMD EPYC", "threads": 2}
    points = [
        _point(50, 0, 60),
        _point(50, 1, 70),  # mean 65%
        _point(100, 0, 78),
        _point(100, 1, 84),  # mean 81%: reaches 80%
        _point(250, 0, 95),  # low bound above 80%: sure by 250
    ]
    doc = rc.curve_document(points, 0.8, env)
    assert doc["labels_needed"] == 100
    early, sure = doc["labels_needed_ci"]
    assert early == 100 and sure == 250  # the 50-label interval's top (79.6%) stays below 80%
    assert doc["reached"] and "100 labels reach the 80.0% target" in doc["sentence"]
    by = {r["n_labels"]: r for r in doc["by_size"]}
    assert by[50]["accuracy_mean"] == pytest.approx(0.65) and by[50]["seeds"] == 2
    lo50 = min(p["accuracy_ci"][0] for p in doc["points"] if p["n_labels"] == 50)
    assert by[50]["accuracy_ci"][0] == lo50
    # every point priced on the machine that trained it, with the rate's source and date
    assert doc["rate"]["price_source"] and doc["rate"]["price_date"]
    assert all(
        p["usd"] == pytest.approx(10 / 3600 * doc["rate"]["hourly_usd"]) for p in doc["points"]
    )
    fig = learning_curve_chart(rc.points_frame(doc), 0.8)
    assert fig.layout.xaxis.type == "log"
    assert any(s.y0 == pytest.approx(80) for s in fig.layout.shapes)  # the target line


def test_a_target_never_reached_says_so_and_shows_the_best():
    doc = rc.curve_document([_point(50, 0, 60), _point(100, 0, 72)], 0.9, {"device": "cpu"})
    assert doc["labels_needed"] is None and not doc["reached"]
    assert doc["best"] == {"n_labels": 100, "accuracy": 0.72}
    assert "No subset reached the 90.0% target: the best was 72.0%" in doc["sentence"]


@pytest.fixture
def reviews_csv(tmp_path):
    rng = np.random.default_rng(0)
    good, bad = ["great", "superb", "loved"], ["awful", "dull", "hated"]
    rows = ["review,sentiment"]
    for i in range(300):
        label = "pos" if i % 2 else "neg"
        words = rng.choice(good if label == "pos" else bad, 3)
        rows.append(f'"the film was {" and ".join(words)}",{label}')
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_points_are_cached_and_reused(tiny_model_dir, reviews_csv, monkeypatch):
    import torch

    from lib.spec import AdaptSpec, DatasetSpec, ModelSpec

    torch.set_num_threads(1)
    spec = DatasetSpec(str(reviews_csv), "review", "sentiment", eval_limit=60)
    settings = tc.CurveSettings(adapt=AdaptSpec(max_length=16), min_steps=2, eval_max_length=16)
    args = (ModelSpec(str(tiny_model_dir)), spec, [10, 20, 40], 2, 0.8, settings)
    first = rc.learning_curve(*args, multi_seed_up_to=10)
    assert [(p["n_labels"], p["seed"]) for p in first["points"]] == [
        (10, 0),
        (10, 1),
        (20, 0),
        (40, 0),
    ]
    assert first["trained"] == 4 and not any(p["cached"] for p in first["points"])
    for p in first["points"]:
        assert 0 <= p["accuracy_ci"][0] <= p["accuracy"] <= p["accuracy_ci"][1] <= 1
        assert p["seconds"] > 0 and p["steps"] >= 2
    assert first["eval"]["n_eval"] == 60 and first["train_pool"] == 240

    def no_training(*a, **k):
        raise AssertionError("a cached point was trained again")

    monkeypatch.setattr("lib.training.loop.train", no_training)
    second = rc.learning_curve(*args, multi_seed_up_to=10)
    assert second["trained"] == 0 and all(p["cached"] for p in second["points"])
    assert [p["accuracy"] for p in second["points"]] == [p["accuracy"] for p in first["points"]]
    assert [p["seconds"] for p in second["points"]] == [p["seconds"] for p in first["points"]]
    saved = rc.saved_curve(str(tiny_model_dir), str(reviews_csv))
    assert saved is not None and saved["labels_needed"] == second["labels_needed"]
    run = {
        "spec": {"model": {"source": str(tiny_model_dir)}, "dataset": {"source": str(reviews_csv)}}
    }
    assert rc.curve_for_run(run)["points"] == saved["points"]
    # other settings are another curve: a cache miss
    other = tc.CurveSettings(adapt=AdaptSpec(max_length=16), min_steps=3, eval_max_length=16)
    key_a = tc.point_key("m", _tiny_text(), _tiny_text(), settings, 0)
    key_b = tc.point_key("m", _tiny_text(), _tiny_text(), other, 0)
    assert key_a != key_b
    json.dumps(second)  # the document is plain JSON


def _tiny_text():
    from lib.datasets import LabelledText

    return LabelledText(["a", "b"], np.array([0, 1]), ["x", "y"])


def test_a_dataset_smaller_than_the_smallest_subset(tiny_model_dir, reviews_csv):
    from lib.spec import DatasetSpec, ModelSpec

    spec = DatasetSpec(str(reviews_csv), "review", "sentiment", eval_limit=60)
    with pytest.raises(UserError, match="train split has 240 examples, fewer than the smallest"):
        rc.learning_curve(ModelSpec(str(tiny_model_dir)), spec, [500, 1000], 1, 0.8, save=False)


def test_another_target_reads_the_same_points_again():
    doc = rc.curve_document([_point(50, 0, 60), _point(100, 0, 72)], 0.9, {"device": "cpu"})
    easier = rc.retarget(doc, 0.7)
    assert easier["labels_needed"] == 100 and easier["reached"]
    assert easier["points"] == doc["points"] and "100 labels reach the 70.0%" in easier["sentence"]


def test_the_table_for_people_is_rounded():
    doc = rc.curve_document(
        [_point(50, 0, 60), _point(50, 1, 61), _point(50, 2, 63)], 0.9, {"device": "cpu"}
    )
    row = rc.display_frame(doc).iloc[0]
    assert row["Accuracy (mean, %)"] == 61.3  # not 61.3333...


def test_the_probe_fits_the_new_head_from_the_subset(tiny_model_dir):
    import torch

    from lib.datasets import LabelledText
    from lib.models import load as models

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    texts = [
        "the film was "
        + " and ".join(rng.choice(["great", "superb"] if i % 2 else ["awful", "dull"], 2))
        for i in range(40)
    ]
    data = LabelledText(texts, np.array([i % 2 for i in range(40)]), ["neg", "pos"])
    tok = models.load_tokenizer(str(tiny_model_dir))
    model = models.load_classifier(str(tiny_model_dir), num_labels=2)
    before = tc.predict(model, tok, data, 16, 64, "cpu")
    seconds = tc.probe_head(model, tok, data, 16, "cpu")
    after = tc.predict(model, tok, data, 16, 64, "cpu")
    assert seconds > 0
    assert np.mean(after == data.labels) == 1.0 > np.mean(before == data.labels)
    with pytest.raises(UserError):
        tc.CurveSettings(head_init="zeros")

"""Trained once, measured anywhere: the bundle a build makes carries the adapted baseline and the
distilled student, and a node with an empty data folder that installs it finds that student in
its own build cache (the key is the same: same baseline weights, same train split, same
settings), so it trains nothing and measures those very weights. No Ray: the build and the
node's side are called as the tasks call them (the whole run on a node is tested on the cluster).
"""

from __future__ import annotations

from lib import datasets
from lib.paths import user_dir
from lib.sweep.build import build_bundle
from lib.sweep.bundle import BundleFacts, install
from lib.sweep.spec import expand
from lib.sweep.task import node_spec
from tests.sweep.conftest import tiny_sweep


def test_a_node_finds_the_shipped_student_and_trains_nothing(sweep_files, tmp_path, monkeypatch):
    from lib.models import load as models
    from lib.techniques import BuildContext, apply_chain, parse_variant

    sweep = tiny_sweep(sweep_files, variants=("fp32", "distill:1/examples=120"))
    (planned,) = expand(sweep)
    monkeypatch.setenv("LEANBENCH_HOME", str(tmp_path / "builder"))
    blob, facts = build_bundle(planned.spec.to_dict(), "key1", {"node_id": "builder"})
    shipped = BundleFacts.from_dict(facts)
    assert shipped.adapted and shipped.baseline and not shipped.failures
    assert [e.split("-")[0] for e in shipped.entries] == ["distill"]  # the student, trained once
    assert shipped.data_file == "reviews.csv"

    monkeypatch.setenv("LEANBENCH_HOME", str(tmp_path / "node"))  # another machine, empty
    installed = install(blob, shipped)
    here = node_spec(planned.spec, installed, shipped)
    assert here.model.source == str(installed.baseline)
    assert here.dataset.source == str(installed.data_file)
    # What the node's variant process does for distill:1, with the node's own cache folder.
    data = datasets.load(here.dataset)
    train, _ = datasets.split(data, 60, 50, 0)
    base = str(installed.baseline)
    ctx = BuildContext(
        base_path=base,
        tokenizer=models.load_tokenizer(base),
        train=train,
        seed=0,
        cache_dir=user_dir() / "models",
    )
    student = apply_chain(
        models.load_classifier(base), parse_variant("distill:1/examples=120"), ctx
    )
    assert ctx.notes.get("cached") is True  # found, not trained
    assert len(student.bert.encoder.layer) == 1
    # The node's baseline is the builder's, weight for weight.
    from lib.models.cache import model_fingerprint

    (builders,) = (tmp_path / "builder" / "models").glob("adapted-*")
    mine = model_fingerprint(models.load_classifier(base))
    assert model_fingerprint(models.load_classifier(str(builders))) == mine

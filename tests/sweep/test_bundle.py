"""Bundles: packed once, installed on a node; an entry trained there before is replaced by the
one that was shipped, so every node measures the same weights."""

from __future__ import annotations

import pytest

from lib.paths import user_dir
from lib.sweep import bundle
from lib.sweep.bundle import BundleFacts


def tree(path, files: dict[str, str]):
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def test_pack_install_and_replace(tmp_path):
    base = tree(tmp_path / "adapted-1", {"config.json": "{}", "model.safetensors": "W"})
    entry = tree(
        tmp_path / "cache" / "distill-abc", {"model.safetensors": "S", "leanbench.json": "{}"}
    )
    data = tmp_path / "reviews.csv"
    data.write_text("t,y\n")
    facts = BundleFacts(adapted=True)
    blob = bundle.pack(base, [entry], data, facts)
    assert facts.digest and facts.entries == ["distill-abc"] and facts.data_file == "reviews.csv"
    again = BundleFacts()
    assert bundle.pack(base, [entry], data, again) == blob  # same files, same bytes

    # The node trained its own distill-abc before: it is replaced by the shipped one.
    models = user_dir() / "models"
    tree(models / "distill-abc", {"model.safetensors": "other weights", "leanbench.json": "{}"})
    got = bundle.install(blob, facts)
    assert got.replaced == ["distill-abc"]
    assert (models / "distill-abc" / "model.safetensors").read_text() == "S"
    assert (got.baseline / "model.safetensors").read_text() == "W"
    assert got.data_file.read_text() == "t,y\n"
    assert bundle.install(blob, facts).replaced == []  # twice: nothing to do


def test_a_damaged_bundle_is_refused(tmp_path):
    facts = BundleFacts()
    blob = bundle.pack(None, [], None, facts)
    with pytest.raises(ValueError, match="digest"):
        bundle.install(blob + b"x", facts)


def test_the_driver_keeps_a_bundle(tmp_path):
    facts = BundleFacts(adapted=True)
    blob = bundle.pack(tree(tmp_path / "b", {"config.json": "{}"}), [], None, facts)
    path = tmp_path / "kept" / "k.tar"
    bundle.save(blob, facts, path)
    loaded = bundle.load(path)
    assert loaded is not None and loaded[0] == blob and loaded[1].digest == facts.digest
    path.write_bytes(b"broken")
    assert bundle.load(path) is None

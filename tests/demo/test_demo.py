"""Demo mode: bundled run documents load into the store, labelled, once."""

from __future__ import annotations

import json

import pytest

from lib.demo import story as demo
from lib.errors import UserError
from lib.store import Store
from tests.helpers.runs import GPU_ENV, make_doc, result


@pytest.fixture
def demo_folder(tmp_path, monkeypatch):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "cpu.json").write_text(json.dumps(make_doc("abc123", name="MiniLM on reviews")))
    gpu = make_doc(
        "def456",
        env=GPU_ENV,
        results=[result("fp32", "fp32", 0.86, 5, 20, 90.0), result("half", "fp16", 0.86, 4, 9, 45)],
    )
    (folder / "gpu.json").write_text(json.dumps(gpu))
    monkeypatch.setenv("LEANBENCH_DEMO_DIR", str(folder))
    return folder


def test_demo_available_follows_the_folder(demo_folder, tmp_path, monkeypatch):
    assert demo.demo_available()
    monkeypatch.setenv("LEANBENCH_DEMO_DIR", str(tmp_path / "empty"))
    assert not demo.demo_available()


def test_load_demo_is_idempotent_and_labelled(demo_folder, tmp_path):
    store = Store(f"sqlite:///{tmp_path}/s.db")
    ids = demo.load_demo(store)
    assert ids == ["demo-abc123", "demo-def456"]
    assert demo.load_demo(store) == ids
    assert len(store.list_runs()) == 2
    assert len(store.results_for("demo-abc123")) == 5

    cpu = store.run_document("demo-abc123")
    assert cpu["name"] == "Demo: MiniLM on reviews"
    assert cpu["status"] == "done"
    assert cpu["baseline"]["demo"] is True
    assert cpu["baseline"]["recorded_on"] == "AMD EPYC 9B14 (2 threads)"
    assert cpu["baseline"]["recorded_at"] == "2025-11-20"
    assert cpu["created_at"].startswith("2025-11-20")
    gpu_row = store.get_run("demo-def456")
    assert gpu_row["hardware"] == "NVIDIA H100 80GB HBM3"
    assert "recorded on NVIDIA H100 80GB HBM3, 2025-11-21" in gpu_row["message"]
    assert demo.is_demo(gpu_row) and demo.is_demo(cpu)


def test_broken_demo_file_is_named(demo_folder, tmp_path):
    (demo_folder / "zz-broken.json").write_text("{not json")
    with pytest.raises(UserError, match="zz-broken.json"):
        demo.load_demo(Store(f"sqlite:///{tmp_path}/s.db"))
    assert not demo.demo_available()


def test_bundled_folder_loads_whatever_it_holds(tmp_path, monkeypatch):
    monkeypatch.delenv("LEANBENCH_DEMO_DIR", raising=False)
    store = Store(f"sqlite:///{tmp_path}/s.db")
    ids = demo.load_demo(store)  # data/demo/*.json: none yet, or the lead's recorded runs
    assert len(ids) == len(demo.demo_files())
    assert demo.load_demo(store) == ids


@pytest.mark.parametrize(
    "variant, words",
    [
        ("int8", "one byte instead of four"),
        ("distill:3+int8@ort", "Distilled to 3 layers"),
        ("fp32@ort", "ONNX Runtime"),
        ("mystery", "custom step"),
    ],
)
def test_every_variant_is_explained(variant, words):
    assert words in demo.explain_variant(variant)


def _curve(model: str, dataset: str, best: float) -> dict:
    return {
        "kind": "learning_curve",
        "model": model,
        "dataset": dataset,
        "target": 0.8,
        "best": {"n_labels": 100, "accuracy": best},
        "points": [],
    }


def test_loading_the_demo_installs_its_learning_curves_without_replacing_the_users(
    demo_folder, tmp_path, monkeypatch
):
    from lib.results.curve import save_curve, saved_curve

    monkeypatch.setenv("LEANBENCH_HOME", str(tmp_path / "home"))
    (demo_folder / "curves").mkdir()
    for name, doc in {
        "a.json": _curve("minilm-l6", "rotten-tomatoes", 0.79),
        "b.json": _curve("minilm-l6", "tweets", 0.70),
    }.items():
        (demo_folder / "curves" / name).write_text(json.dumps(doc))
    save_curve(_curve("minilm-l6", "tweets", 0.61))  # the user's own, measured earlier
    demo.load_demo(Store(f"sqlite:///{tmp_path}/s.db"))
    installed = saved_curve("minilm-l6", "rotten-tomatoes")
    assert installed["best"]["accuracy"] == 0.79 and installed["demo"] is True
    assert saved_curve("minilm-l6", "tweets")["best"]["accuracy"] == 0.61  # kept


def test_a_broken_bundled_curve_is_named(demo_folder, tmp_path):
    (demo_folder / "curves").mkdir()
    (demo_folder / "curves" / "odd.json").write_text(json.dumps({"kind": "run"}))
    with pytest.raises(UserError, match="odd.json in the demo's curves is not a learning curve"):
        demo.load_demo(Store(f"sqlite:///{tmp_path}/s.db"))

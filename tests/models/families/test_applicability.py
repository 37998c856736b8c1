"""What applies to a model, known from its config before any work: the one-sentence reasons
(ALBERT's shared layers, an unknown family), the Model & data page's description, the runner
failing such a variant before the baseline is adapted, and FLOP counting's layer count."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from transformers import AutoConfig, AutoModelForSequenceClassification

from lib.execution import runner
from lib.measure.flops import count_flops
from lib.models import families
from lib.models.families.mpnet import MPNet
from lib.schema import Status
from lib.spec import DatasetSpec, ModelSpec, RunSpec
from lib.store import Store
from lib.techniques.applicability import applicability, describe_model
from lib.techniques.distill import make_student
from tests.helpers.tiny import one_thread  # noqa: F401 (one_thread: autouse fixture)
from tests.models.families.tiny_families import FAMILIES, tiny_config, tiny_family_model


def test_albert_says_why_in_one_sentence_naming_the_family():
    config = tiny_config("albert")
    for variant, fragment in (
        ("prune-structured:30", "heads and neurons cannot be removed from one layer"),
        ("int8+distill:2", "no separate layers for a student to keep"),
    ):
        reason = applicability(config, variant)
        assert reason is not None and reason.count(". ") == 0 and reason.endswith(".")
        step = variant.split("+")[-1]
        assert reason.startswith(f"'{step}' does not apply to ALBERT models: its 4 layers are one")
        assert fragment in reason
        assert "half, int8, prune-unstructured and every runtime" in reason
    for fine in ("int8", "half", "prune-unstructured:50", "int8@ort", "fp32@compile"):
        assert applicability(config, fine) is None


def test_an_unknown_family_lists_the_supported_ones_and_what_still_works():
    config = AutoConfig.for_model("funnel")
    reason = applicability(config, "distill:3+int8")
    assert reason is not None and reason.startswith("'distill:3' cannot find the layers")
    assert "'funnel' models" in reason
    for family in (
        "BERT-like (bert, roberta",
        "DistilBERT",
        "MPNet",
        "DeBERTa-v2/v3",
        "ModernBERT",
    ):
        assert family in reason
    assert "ALBERT" not in reason  # it does not distill either
    assert "half, int8, prune-unstructured and every runtime" in reason
    for fine in ("int8", "half@compile", "prune-unstructured:30@ort"):
        assert applicability(config, fine) is None


def test_a_family_can_refuse_a_runtime_early():
    """Where a family's export fails on this onnx version, its adapter says so: the variant
    fails before any training with that sentence."""

    class NoExport(MPNet):
        not_applicable = {"@ort": "their ONNX export fails on this onnx version"}

    original = families.for_config(tiny_config("mpnet"))
    families.register(NoExport())
    try:
        reason = applicability(tiny_config("mpnet"), "distill:2+int8@ort")
        assert reason == (
            "'@ort' does not apply to MPNet models: their ONNX export fails on this onnx "
            "version; the other runtimes still work on them."
        )
        assert applicability(tiny_config("mpnet"), "distill:2+int8@compile") is None
        assert describe_model(tiny_config("mpnet"))["runtimes"]["ort"] is not None
    finally:
        families.register(original)


def test_steps_after_a_student_are_the_students_business():
    config = tiny_config("albert")
    assert applicability(config, "student:minilm-l6+distill:3") is None
    assert applicability(config, "distill:2+student:minilm-l6") is not None


@pytest.mark.parametrize("name", list(FAMILIES))
def test_describe_model_gives_the_family_sizes_and_exact_parameters(name):
    config = tiny_config(name)
    described = describe_model(config)
    model = AutoModelForSequenceClassification.from_config(tiny_config(name))
    assert described["family"] == families.for_config(config).name
    assert described["supported"] is True
    assert (described["layers"], described["heads"], described["hidden"]) == (4, 4, 32)
    assert described["head_size"] == 8 and described["ffn"] == 64
    assert described["parameters"] == sum(p.numel() for p in model.parameters())
    assert described["parameters_estimated"] is False
    structural = {described["techniques"][t] is None for t in ("prune-structured", "distill")}
    assert structural == {name != "albert"}
    assert all(described["techniques"][t] is None for t in ("half", "int8", "prune-unstructured"))
    from lib.runtimes.configs import RUNTIMES

    assert set(described["runtimes"]) == set(RUNTIMES)  # every registered runtime is judged
    assert all(v is None for v in described["runtimes"].values())


def test_describe_an_unknown_family_and_a_config_it_cannot_build():
    described = describe_model(AutoConfig.for_model("funnel"))
    assert described["family"] is None and described["supported"] is False
    assert described["techniques"]["distill"].startswith("distill cannot find")
    assert described["techniques"]["int8"] is None
    loose = SimpleNamespace(
        model_type="bert",
        num_hidden_layers=2,
        num_attention_heads=4,
        hidden_size=32,
        intermediate_size=64,
        vocab_size=100,
        max_position_embeddings=64,
    )
    estimated = describe_model(loose)
    assert estimated["parameters_estimated"] is True and estimated["parameters"] > 0


def test_the_runner_fails_a_refused_variant_before_adapting_and_goes_on(tmp_path, monkeypatch):
    folder = tmp_path / "albert"
    tiny_family_model("albert").save_pretrained(folder)
    spec = RunSpec(
        model=ModelSpec(str(folder)),
        dataset=DatasetSpec("rotten-tomatoes"),
        variants=["fp32", "distill:2", "int8"],
    )
    events: list[tuple] = []
    ran: list[str] = []

    def prepare(spec, device, report, span=0.3, env=None):
        events.append(("prepare",))
        return SimpleNamespace(label_names=["neg", "pos"]), [], _Eval(), _Baseline(), {}

    def isolated(job, timeout_s, progress):
        ran.append(job["variant"])
        return {"variant": job["variant"], "status": Status.FAILED, "error": "not measured here"}

    monkeypatch.setattr(runner, "_prepare", prepare)
    monkeypatch.setattr(runner, "run_isolated", isolated)
    monkeypatch.setattr(runner.environment, "capture", lambda device, threads: {})
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    run_id = runner.execute(spec, store, progress=lambda *e: events.append(e))
    assert ran == ["fp32", "int8"]  # nothing built for distill:2
    refused = [i for i, e in enumerate(events) if "distill:2: will not run" in str(e)]
    assert refused and refused[0] < events.index(("prepare",))  # before the baseline
    results = {r.variant: r for r in store.variant_results(run_id)}
    assert results["distill:2"].status == Status.FAILED
    assert results["distill:2"].error == applicability(tiny_config("albert"), "distill:2")


class _Eval:
    labels = torch.zeros(2, dtype=torch.long).numpy()

    def __len__(self):
        return 2


class _Baseline:
    adapted, cached, train_seconds, train_steps, built_on = False, True, 0.0, 0, {}


def test_flops_count_the_layers_a_forward_pass_runs():
    albert = tiny_family_model("albert", layers=3)
    assert count_flops(albert, 1, 8).n_layers == 3  # one shared layer, run three times
    student, _ = make_student(tiny_family_model("distilbert"), 2)
    profile = count_flops(student, 1, 8)
    assert profile.n_layers == 2 and profile.flops_per_item > 0
    full = count_flops(tiny_family_model("distilbert"), 1, 8)
    assert full.n_layers == 4 and full.flops_per_item > profile.flops_per_item

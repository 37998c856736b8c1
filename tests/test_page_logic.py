"""The plain Python the pages call: run titles and labels, a run's steps, spec lines, upload
helpers, model facts, the Techniques, Results and Compare choices. Pages only draw these."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from lib.compare import choices as cmp_choices
from lib.execution import runs as run_views
from lib.models import facts
from lib.results import frame as rf
from lib.results import progress, summary
from lib.spec import RunSpec, default_spec_dict, spec_lines
from lib.techniques import choices as tq
from lib.uploads import class_counts, pick_columns, preview, save_upload
from tests.helpers.results import sample


def run(i="r1", status="done", **extra) -> dict:
    spec = {"model": {"source": "minilm-l6"}, "dataset": {"source": "/tmp/x/reviews.csv"}}
    return {"id": i, "status": status, "spec": spec, **extra}


# ------------------------------------------------------------------ runs
def test_run_title_label_and_table():
    r = run(created_at=dt.datetime(2025, 1, 2, 3, 4), hardware="8488C (2 threads)")
    assert run_views.run_title(r) == "minilm-l6 on reviews.csv"
    assert run_views.run_title(r | {"name": "mine"}) == "mine"
    label = run_views.run_label(r)
    assert label.startswith("minilm-l6 on reviews.csv · done · 2025-01-0")
    assert label.endswith(" · 8488C (2 threads) · r1")
    assert run_views.when(None) == "" and run_views.when("x") == "x"
    table = run_views.runs_table([r, run("r2", "running", progress=0.5)])
    assert list(table.columns) == [
        "Status",
        "Run",
        "Started",
        "Progress",
        "Message",
        "Hardware",
        "Id",
    ]
    assert list(table["Progress"]) == [0.0, 0.5] and list(table["Id"]) == ["r1", "r2"]


def test_active_run_is_the_newest_queued_or_running():
    store = SimpleNamespace(
        list_runs=lambda limit: [run("a", "done"), run("b", "running"), run("c", "queued")]
    )
    assert run_views.active_run(store)["id"] == "b"
    idle = SimpleNamespace(list_runs=lambda limit: [run("a", "failed")])
    assert run_views.active_run(idle) is None


def test_steps_of_a_live_and_of_a_failed_run():
    spec = {"variants": ["half", "fp32", "int8"]}
    events = [
        {"stage": "data", "message": "loaded 100"},
        {"stage": "adapt", "message": "trained"},
        {"stage": "variant:half", "message": "timing"},
    ]
    rows = progress.steps(spec, events, [], "running")
    assert [r["Step"] for r in rows] == [
        "Load the data",
        "Prepare the baseline",
        "Variant fp32",
        "Variant half",
        "Variant int8",
    ]
    assert [r["State"] for r in rows] == ["done", "done", "waiting", "in progress", "waiting"]
    failed = progress.steps(spec, events[:2], [{"variant": "fp32", "status": "ok"}], "failed")
    assert [r["State"] for r in failed] == ["done", "stopped", "measured", "– not run", "– not run"]


def test_steps_show_the_load_test_while_a_variant_is_load_tested():
    spec = {"variants": ["fp32", "int8", "distill:3+int8"]}
    events = [
        {"stage": "data", "message": "loaded 100"},
        {"stage": "adapt", "message": "trained"},
        {"stage": "variant:int8", "message": "int8: timing batch 32"},
        {"stage": "load test", "message": "variant int8: Server at 120 QPS (point 3/8)"},
    ]
    rows = {r["Step"]: r for r in progress.steps(spec, events, [{"variant": "fp32"}], "running")}
    assert rows["Variant int8"]["State"] == "in progress"
    assert rows["Variant int8"]["Detail"] == "load test: Server at 120 QPS (point 3/8)"
    assert rows["Variant distill:3+int8"]["State"] == "waiting"
    # a variant's own event after its load test wins again; a name holding a colon is read whole
    later = [
        *events,
        {"stage": "variant:int8", "message": "int8: done"},
        {"stage": "variant:distill:3+int8", "message": "distill:3+int8: training"},
        {"stage": "load test", "message": "variant distill:3+int8: Offline (peak throughput)"},
        {"stage": "load test", "message": "note: the run was measured elsewhere"},
    ]
    rows = {r["Step"]: r for r in progress.steps(spec, later, [], "running")}
    assert rows["Variant int8"]["Detail"] == "int8: done"
    assert rows["Variant distill:3+int8"]["Detail"] == "load test: Offline (peak throughput)"
    # once measured, the result speaks, not the load test
    done = progress.steps(spec, events, [{"variant": "int8", "status": "ok"}], "running")
    assert [r["State"] for r in done if r["Step"] == "Variant int8"] == ["measured"]


def test_results_so_far_and_their_formats():
    ok = rf.ok_rows(rf.to_frame(sample()))
    table = progress.results_so_far(ok)
    assert list(table["Variant"]) == ["fp32", "half", "int8"]
    assert table["Accuracy (%)"].iloc[0] == pytest.approx(81.2)
    assert {"p50 b1 (ms)", "Speed-up b32 (×)", "Size (MB)"} <= set(table.columns)
    assert progress.number_format("Speed-up b1 (×)") == "%.2f×"
    assert progress.number_format("p50 b1 (ms)") == "%.2f"
    assert progress.number_format("Size (MB)") == "%.1f"


# ------------------------------------------------------------------ the spec
def test_default_spec_dict_is_the_default_run():
    d = default_spec_dict()
    assert RunSpec.from_dict(d) == RunSpec()
    assert d["variants"] == ["fp32", "half", "int8"] and d["name"] == ""


def test_spec_lines_for_people():
    d = default_spec_dict()
    lines = dict(spec_lines(d))
    assert lines["Model"] == "minilm-l6" and lines["Dataset"] == "rotten-tomatoes"
    assert lines["Variants"] == "fp32, half, int8"
    assert "threads: all cores" in lines["Timing"] and lines["Energy"] == "off"
    d["dataset"].update(source="/u/ab12.csv", text_column="review", label_column="y")
    d["measure"].update(paired_rounds=0, energy=True, country="FRA")
    lines = dict(spec_lines(d, upload_name="reviews.csv"))
    assert lines["Dataset"] == "reviews.csv (text: review, label: y)"
    assert lines["Speed-ups"] == "fp32 p50 ÷ variant p50 (no paired rounds)"
    assert lines["Energy"] == "on (FRA)"
    assert dict(spec_lines(d))["Dataset"].startswith("ab12.csv ")


# ------------------------------------------------------------------ uploads
def test_save_upload_is_content_addressed(tmp_path):
    first = save_upload(b"text,label\na,b\n", "Mine.CSV", tmp_path)
    assert first.suffix == ".csv" and first.parent == tmp_path
    assert save_upload(b"text,label\na,b\n", "again.csv", tmp_path) == first
    from lib.errors import UserError

    with pytest.raises(UserError, match="upload a .csv or .jsonl"):
        save_upload(b"x", "data.xlsx", tmp_path)


def test_pick_columns_prefers_the_draft_then_guesses():
    frame = pd.DataFrame({"id": [1, 2], "body": ["long text", "more"], "y": [0, 1]})
    assert pick_columns(frame, None, None) == ("body", "y")
    assert pick_columns(frame, "id", "body") == ("id", "body")
    assert pick_columns(frame, "gone", "y") == ("body", "y")


def test_preview_and_class_counts():
    texts = [f"t{i}" for i in range(10)]
    labels = ["a"] * 7 + ["b"] * 3
    rows, counts = preview(texts, labels)
    assert list(rows["text"]) == texts[:6]
    assert counts.to_dict("list") == {"label": ["a", "b"], "examples": [7, 3]}
    shuffled, _ = preview(texts, labels, shuffle=True)
    assert len(shuffled) == 6 and list(shuffled.index) == list(range(6))
    assert shuffled.equals(preview(texts, labels, shuffle=True)[0])  # the same each time
    assert class_counts(pd.Series([1, 1, 2]))["label"].tolist() == ["1", "2"]


# ------------------------------------------------------------------ model facts
def test_model_facts_use_the_head_check():
    head = SimpleNamespace(
        model_type="bert",
        architectures=["BertForSequenceClassification"],
        num_hidden_layers=6,
        hidden_size=384,
        id2label={1: "pos", 0: "neg"},
    )
    f = facts.model_facts(head)
    assert f == {
        "type": "bert",
        "architectures": "BertForSequenceClassification",
        "layers": 6,
        "hidden": 384,
        "labels": ["neg", "pos"],
    }
    assert facts.facts_line(f) == (
        "type **bert** · 6 layers · hidden size 384 · classifies into: neg, pos"
    )
    bare = SimpleNamespace(model_type="bert", architectures=["BertModel"], id2label={0: "A"})
    f = facts.model_facts(bare)
    assert f["labels"] == [] and f["layers"] is None
    assert facts.facts_line(f).endswith(
        "no classification head yet: one is fine-tuned on your data first"
    )


def test_source_kind(tmp_path):
    assert facts.source_kind("minilm-l6") == "builtin"
    assert facts.source_kind(str(tmp_path)) == "folder"
    assert facts.source_kind("./not/there") == "folder"
    assert facts.source_kind("distilbert-base-uncased") == "hub"


# ------------------------------------------------------------------ techniques
def test_split_variants_between_checkboxes_and_the_advanced_field():
    names = ["half", "int8", "prune-unstructured"]
    simple, advanced = tq.split_variants(
        [
            "fp32",
            "int8@ort",
            "half",
            "prune-unstructured:50",
            "int8:per-channel",
            "distill:3+int8",
            "bogus+",
        ],
        names,
    )
    assert simple == {
        "int8": {"param": "", "runtime": "ort"},
        "half": {"param": "", "runtime": "eager"},
        "prune-unstructured": {"param": "50", "runtime": "eager"},
    }
    assert advanced == ["int8:per-channel", "distill:3+int8", "bogus+"]


def test_variant_text_and_hints():
    assert tq.variant_text("int8") == "int8"
    assert tq.variant_text("prune-unstructured", "50", "ort") == "prune-unstructured:50@ort"
    assert tq.split_list(" a, ,b ,") == ["a", "b"]
    assert tq.placeholder("Share of weights to zero (e.g. prune-unstructured:50)") == "e.g. 50"
    assert tq.placeholder("Which: per-tensor (default) or per-channel") == "empty = per-tensor"
    assert tq.placeholder("anything") == "optional"
    assert tq.short_help("x" * 119) == "x" * 119
    assert tq.short_help("x" * 130) == "x" * 117 + "…"


# ------------------------------------------------------------------ results
def test_default_run_to_show():
    runs = [run("a", "running"), run("b", "done"), run("c", "done")]
    assert summary.default_run(runs, "c") == "c"
    assert summary.default_run(runs, "gone") == "b"
    assert summary.default_run([run("a", "failed")], None) == "a"


def test_headline_cards_badge_each_variant():
    frame = rf.to_frame(sample())
    cards = summary.headline_cards(frame, 32)
    assert [c["variant"] for c in cards] == ["fp32", "half", "int8"]
    base, half, int8 = cards
    assert (base["badge"], base["color"], base["arrow"]) == ("baseline", "gray", "off")
    assert base["description"] == "accuracy 81.2%"
    assert int8["badge"] == "2.00× faster" and int8["color"] == "green" and int8["arrow"] == "up"
    assert int8["description"] == "accuracy 80.8% (-0.4 pts)"
    assert int8["value"] == "80.0 ms" and "batch of 32" in int8["help"]
    assert summary.headline_cards(frame, None) == [] and summary.headline_cards(frame, 7) == []


def test_failures_unstable_and_column_formats():
    frame = rf.to_frame(sample())
    assert summary.failures(frame) == ["**int8@ort** failed: onnx export failed"]
    assert summary.unstable_warning(frame) is None
    frame.loc[frame["variant"] == "half", "unstable"] = True
    assert summary.unstable_warning(frame).startswith("Timing of half was unstable")
    assert summary.column_format("p50 b1 (ms)") == {"format": "%.2f"}
    assert summary.column_format("Δ accuracy (pts)") == {"format": "%+.1f"}
    assert summary.column_format("Notes") == {"width": "large"}
    assert summary.column_format("Variant") is None


def test_noise_and_expectation_checks():
    results = [
        {"variant": "fp32", "status": "ok", "n_eval": 400, "accuracy": 0.8},
        {"variant": "int8", "expectation_check": {"agrees": False, "text": "slower than hoped"}},
        {"variant": "half", "expectation_check": {"text": ""}},
    ]
    assert summary.noise_caption(results).startswith("Accuracy noise on this eval set: ")
    assert summary.noise_caption(results[1:]) is None
    assert summary.expectation_checks(results) == [(False, "int8", "slower than hoped")]


def test_environment_and_baseline_facts():
    r = run(environment={"cpu_model": "EPYC", "cores": 4, "usable_cores": 2}, hardware="box")
    rows = dict(summary.environment_facts(r, "2025-01-02 03:04"))
    assert rows["CPU"] == "EPYC" and rows["Cores (usable)"] == "4 (2)"
    assert rows["Date"] == "2025-01-02 03:04"
    text = summary.facts_markdown(list(rows.items()))
    assert "**CPU:** EPYC" in text and "GPU" not in text and "torch / transformers" not in text
    assert summary.environment_facts(run(), "") == []
    adapted, facts_rows = summary.baseline_facts(
        run(extra={"adapted": True, "adapt_seconds": 61, "adapt_steps": 9, "labels": ["a"]}), "T"
    )
    assert adapted == "A new classification head was fine-tuned in 61 s (9 steps)."
    assert dict(facts_rows)["Run"] == "T · r1 · done"
    assert summary.baseline_facts(run(), "T") == ("", [])


# ------------------------------------------------------------------ compare
def test_compare_default_runs_and_variants():
    runs = [run("a", "running"), run("b", "failed"), run("c", "done"), run("d", "done")]
    assert [r["id"] for r in cmp_choices.finished_runs(runs)] == ["b", "c", "d"]
    assert cmp_choices.default_runs(runs) == ["c"]
    assert cmp_choices.default_runs(runs, ["d", "b"]) == ["d", "b"]
    assert cmp_choices.default_runs(runs, ["a"]) == ["c"]  # "a" cannot be compared
    demo = runs + [run("e", "done", extra={"demo": True})]
    assert cmp_choices.default_runs(demo) == ["e"]
    assert cmp_choices.default_runs([run("b", "failed")]) == ["b"]
    docs = [
        {"run_id": "x", "results": [{"variant": "fp32"}, {"variant": "int8"}]},
        {"run_id": "y", "results": [{"variant": "int8"}, {"variant": "half"}]},
    ]
    assert cmp_choices.variants_of(docs) == ["fp32", "int8", "half"]
    kept = cmp_choices.keep_variants(docs, ["int8"])
    assert [[r["variant"] for r in d["results"]] for d in kept] == [["int8"], ["int8"]]
    assert docs[0]["results"][0] == {"variant": "fp32"}  # the originals are untouched
    assert cmp_choices.report_stamp(docs) == "x-y"
    assert [cmp_choices.default_batch(s) for s in ([8, 1], [8, 32], [])] == [1, 8, 1]


def test_deltas_say_whether_each_candidate_meets_the_target():
    from lib import compare as cmp
    from tests.helpers.runs import make_doc

    df = cmp.compare_frame([make_doc()], 1, [])
    tight = cmp_choices.deltas_with_targets(df, cmp.apply_targets(df, cmp.Targets(max_p95_ms=0.01)))
    assert tight.columns[0] == "Meets target"
    assert len(tight) == len(cmp.ok_candidates(df))
    assert tight["Meets target"].str.startswith("no (").all()
    loose = cmp_choices.deltas_with_targets(df, cmp.apply_targets(df, cmp.Targets()))
    assert loose["Meets target"].eq("yes").all()
    failed = df.assign(status="failed")
    assert cmp_choices.deltas_with_targets(failed, failed).empty

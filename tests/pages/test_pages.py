"""The Streamlit pages, driven headless with AppTest: they render, bad input shows an error box
(never a traceback), Start hands the spec to a background job, Results draws a stored run."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.store import Store
from tests.helpers.results import sample

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = [
    "pages/home.py",
    "pages/model_data.py",
    "pages/techniques.py",
    "pages/run.py",
    "pages/results.py",
    "pages/sweep.py",
    "pages/compare.py",
    "pages/cost.py",
    "pages/demo.py",
]


def app(page: str | None = None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def variant_table(at: AppTest):
    """Results' "Every variant" table (other tables on the page have no Variant column)."""
    return next(d.value for d in at.dataframe if "Variant" in d.value.columns)


def stored_run(status: str = "done", results: list[dict] | None = None) -> tuple[Store, str]:
    from lib.spec import default_spec_dict as default_draft

    store = Store()
    run_id = store.create_run(default_draft(), status=status)
    store.update_run(
        run_id,
        status=status,
        environment={"cpu_model": "Test CPU", "cpu_flags": ["AVX512-VNNI"], "threads": 2},
        hardware="Test CPU (2 threads)",
        extra={"adapted": True, "adapt_seconds": 12.0, "n_train": 400, "n_eval": 200},
    )
    for i, r in enumerate(results if results is not None else sample()):
        store.add_result(run_id, i, r)
    return store, run_id


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_store(page):
    at = app(page)
    assert not at.error, errors(at)
    # Under app.py's router (wide layout, settings in the sidebar), not Streamlit's legacy
    # pages/ mode.
    assert [t.label for t in at.sidebar.text_input] == ["Store URL", "Ray cluster address"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_the_bundled_demo_loaded(page):
    # the state a sales engineer is in after "Load the demo": a clean clone's CI found Compare's
    # JSON download failing on a payback of "never" (inf) this way
    from lib.demo.story import load_demo

    load_demo(Store())
    at = app(page)
    assert not at.error, errors(at)


def test_the_demo_says_how_many_labels_are_enough_and_when_the_pick_pays_back():
    from lib.demo.story import load_demo

    load_demo(Store())  # the bundled runs and the learning curve recorded with them
    at = app("pages/demo.py")
    assert [t.label for t in at.tabs][3] == "4 · Labels needed"
    boxes = [s.value for s in at.success] + [w.value for w in at.warning]
    assert any("labels reach the 75.0% target" in b for b in boxes)
    at.select_slider(key="demo_curve_target").set_value(85).run()
    boxes = [s.value for s in at.success] + [w.value for w in at.warning]
    assert any(b.startswith("No subset reached the 85.0% target") for b in boxes)
    text = "\n".join(m.value for m in at.markdown)
    assert "to train once and saves" in text and "pays back" in text


def test_home_offers_the_one_button():
    at = app()
    assert any(b.label == "Run the default benchmark" for b in at.button)


# ------------------------------------------------------------------ model & data
def model_mode(at: AppTest, mode: str) -> AppTest:
    at.radio(key="md_model_mode").set_value(mode).run()
    return at


def test_missing_model_folder_is_an_error_box(tmp_path):
    at = model_mode(app("pages/model_data.py"), "folder")
    at.text_input(key="md_folder").input(str(tmp_path / "nope")).run()
    assert not at.exception
    assert "Model folder not found" in errors(at)
    assert at.session_state["problems"]["model"]


def test_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    at = model_mode(app("pages/model_data.py"), "folder")
    at.text_input(key="md_folder").input(str(tmp_path)).run()
    assert "no config.json" in errors(at)


def test_local_model_folder_is_accepted(tiny_model_dir):
    at = model_mode(app("pages/model_data.py"), "folder")
    at.text_input(key="md_folder").input(str(tiny_model_dir)).run()
    assert not at.error, errors(at)
    assert at.session_state["draft"]["model"]["source"] == str(tiny_model_dir)
    assert "model" not in at.session_state["problems"]


def test_hub_id_offline_warns_then_checking_names_the_id():
    at = model_mode(app("pages/model_data.py"), "hub")
    at.text_input(key="md_hub").input("someone/some-model").run()
    assert any("network" in w.value for w in at.warning)
    assert not at.error
    at.button(key="md_hub_check").click().run()
    assert not at.exception
    assert "someone/some-model" in errors(at) and "local folder" in errors(at)


def upload(at: AppTest, name: str, raw: bytes) -> AppTest:
    at.radio(key="md_data_mode").set_value("upload").run()
    at.file_uploader(key="md_upload").set_value((name, raw, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def test_csv_upload_picks_columns_and_is_saved_for_the_worker(small_csv, isolated_home):
    # Three times small_csv's rows: 360, enough to evaluate on (120 hold out 24, fewer than 50).
    header, *rows = small_csv.read_text().splitlines()
    raw = "\n".join([header, *rows * 3]).encode()
    at = upload(app("pages/model_data.py"), "reviews.csv", raw)
    assert not at.error, errors(at)
    ds = at.session_state["draft"]["dataset"]
    assert (ds["text_column"], ds["label_column"]) == ("review", "sentiment")
    saved = Path(ds["source"])
    assert saved.parent == isolated_home / "uploads" and saved.suffix == ".csv"
    assert saved.read_bytes() == raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        ("text,label\ncaf\xe9,a\n".encode("latin-1"), "not UTF-8"),
        (b"text,label\ngood film,pos\nnice film,pos\n", "only one class"),
    ],
)
def test_bad_uploads_show_what_to_do(raw, message):
    at = upload(app("pages/model_data.py"), "data.csv", raw)
    assert message in errors(at)
    # The draft keeps the built-in dataset: bad input loses nothing.
    assert at.session_state["draft"]["dataset"]["source"] == "rotten-tomatoes"


def test_upload_with_the_same_column_twice(small_csv):
    at = upload(app("pages/model_data.py"), "reviews.csv", small_csv.read_bytes())
    at.selectbox(key="md_label_col").set_value("review").run()
    assert "must be different" in errors(at)


def test_columns_missing_from_the_file_are_named():
    import pandas as pd

    from lib.errors import UserError
    from lib.uploads import validate_columns

    frame = pd.DataFrame({"review": ["a", "b"], "stars": [1, 2]})
    with pytest.raises(UserError, match="no column 'text'.*review, stars"):
        validate_columns(frame, "text", "stars", "data.csv")


def test_eval_limit_zero_is_an_error_box():
    at = app("pages/model_data.py")
    at.number_input(key="md_eval_limit").set_value(0).run()
    assert "eval limit must be a whole number above 0" in errors(at)


def test_guess_columns_and_int_lists():
    import pandas as pd

    from lib.errors import UserError
    from lib.spec import parse_int_list
    from lib.uploads import guess_columns

    frame = pd.DataFrame({"id": [1, 2, 3], "body": ["long text here", "more", "x"], "y": [0, 1, 0]})
    assert guess_columns(frame) == ("body", "y")
    assert parse_int_list("1, 8,32") == [1, 8, 32]
    with pytest.raises(UserError, match="'a' is not one"):
        parse_int_list("1,a")


# ------------------------------------------------------------------ techniques
def test_techniques_lists_the_registry_with_defaults_ticked():
    at = app("pages/techniques.py")
    assert at.checkbox(key="tq_on_half").value and at.checkbox(key="tq_on_int8").value
    assert not at.error, errors(at)
    assert at.session_state["draft"]["variants"] == ["fp32", "half", "int8"]


def test_bad_advanced_variant_names_the_bad_step():
    at = app("pages/techniques.py")
    at.text_input(key="tq_advanced").input("int8@ort, fp32+bogus:3").run()
    assert "Unknown step 'bogus'" in errors(at)
    assert at.session_state["problems"]["variants"]


def test_advanced_variant_and_runtime_choice_reach_the_draft():
    at = app("pages/techniques.py")
    at.selectbox(key="tq_rt_int8").set_value("ort").run()
    at.text_input(key="tq_advanced").input("int8:per-channel").run()
    assert not at.error, errors(at)
    assert at.session_state["draft"]["variants"] == ["fp32", "half", "int8@ort", "int8:per-channel"]


@pytest.mark.parametrize(
    ("text", "message"), [("1,-4", "above 0 (got -4)"), ("1,x", "'x' is not one")]
)
def test_bad_batch_sizes(text, message):
    at = app("pages/techniques.py")
    at.text_input(key="tq_batch_sizes").input(text).run()
    assert message in errors(at)


# ------------------------------------------------------------------ run
def test_start_hands_the_spec_to_a_background_job(monkeypatch):
    from lib.execution import jobs

    started = []

    def fake_start(spec, store):
        started.append(spec)
        return store.create_run(spec.to_dict(), status="queued")

    monkeypatch.setattr(jobs, "start_background", fake_start)
    at = app("pages/run.py")
    at.button(key="run_start").click().run()
    assert not at.exception, at.exception
    assert len(started) == 1
    spec = started[0]
    assert spec.model.source == "minilm-l6" and spec.dataset.source == "rotten-tomatoes"
    assert spec.variants == ["fp32", "half", "int8"] and spec.measure.batch_sizes == [1, 32]
    assert (spec.dataset.eval_limit, spec.dataset.train_limit, spec.measure.seq_len) == (
        1000,
        4000,
        128,
    )
    run = Store().get_run(at.session_state["run_id"])
    assert run["status"] == "queued"
    assert any("Starting the worker" in i.value or "Waiting" in i.value for i in at.info)


def test_home_button_starts_the_default_run(monkeypatch):
    from lib.execution import jobs

    started = []
    monkeypatch.setattr(
        jobs,
        "start_background",
        lambda spec, store: started.append(spec) or store.create_run(spec.to_dict()),
    )
    at = app()
    at.button(key="home_default_run").click().run()
    assert not at.exception, at.exception
    assert [s.variants for s in started] == [["fp32", "half", "int8"]]


def test_run_page_finds_a_live_run_without_session_state():
    """A reload loses session state; the page recovers the running run from the store.
    (Stored without host and pid, the run is not reaped as dead.)"""
    store, run_id = stored_run(status="running", results=sample()[:1])
    store.add_event(run_id, "variant:half", "half: latency at batch 32", 0.6)
    at = app("pages/run.py")
    assert at.session_state["run_id"] == run_id
    text = "\n".join(m.value for m in at.markdown)
    assert "Results so far" in text


def test_queued_run_says_it_waits_for_another():
    store, run_id = stored_run(status="queued", results=[])
    store.add_event(run_id, "queued", "waiting for another run on this machine to finish", 0.0)
    at = app("pages/run.py", run_id=run_id)
    assert any("Waiting for another run" in i.value for i in at.info)


def test_run_page_blocks_start_on_bad_input():
    from lib.spec import default_spec_dict as default_draft

    draft = default_draft()
    draft["dataset"]["eval_limit"] = 0
    at = app("pages/run.py", draft=draft)
    assert "eval limit must be a whole number above 0" in errors(at)
    assert at.button(key="run_start").disabled


def test_failed_variant_shows_its_reason_on_the_run_page():
    _, run_id = stored_run(status="done")
    at = app("pages/run.py", run_id=run_id)
    assert "int8@ort** failed: onnx export failed" in errors(at)


# ------------------------------------------------------------------ results
def test_results_page_draws_a_stored_run():
    _, run_id = stored_run()
    at = app("pages/results.py")
    assert not at.exception
    md = "\n".join(m.value for m in at.markdown)
    assert "int8 is 2.0x faster than fp32 at batch 32" in md
    table = variant_table(at)
    assert list(table["Variant"]) == ["fp32", "half", "int8", "int8@ort"]
    assert "Accuracy (%)" in table.columns and "p50 b32 (ms)" in table.columns
    assert len(at.get("plotly_chart")) >= 2
    assert "onnx export failed" in errors(at)
    assert any(b.label == "Download CSV" for b in at.get("download_button"))


def test_results_names_the_fastest_within_the_accuracy_budget():
    _, run_id = stored_run()
    at = app("pages/results.py")
    (answer,) = [s.value for s in at.success]
    # int8 (-0.4 points) is fastest at batch 32 (80 ms) and within the default 1 point
    assert answer.startswith("At batch 32, the fastest variant within 1 accuracy point of fp32 is")
    assert " int8 on plain PyTorch: 80.0 ms, 2.00x faster than fp32, accuracy -0.4 points" in answer
    at.number_input(key="results_budget").set_value(0.3).run()
    (answer,) = [s.value for s in at.success]
    assert " half on plain PyTorch: 100.0 ms" in answer and "int8 was faster (80.0 ms)" in answer
    by_batch = next(d.value for d in at.dataframe if "Fastest within budget" in d.value.columns)
    assert list(by_batch["Batch"]) == [1, 32]


def test_results_shows_how_close_each_variant_is_to_the_cpus_peak():
    results = [dict(r, flops_per_item=2.0e9) for r in sample()]
    _, run_id = stored_run(results=results)
    at = app("pages/results.py")
    assert not at.error or "onnx export failed" in errors(at)
    (roof,) = [e for e in at.expander if e.label.startswith("How close to the hardware's limit")]
    assert "FLOPs per item × batch ÷ median latency" in "\n".join(c.value for c in roof.caption)
    charts = [
        c
        for c in at.get("plotly_chart")
        if "How close to the hardware's limit, batch 32" in c.proto.spec
    ]
    assert len(charts) == 1


def test_results_metric_choice_redraws():
    stored_run()
    at = app("pages/results.py")
    at.selectbox(key="results_metric").set_value("size_mb").run()
    assert not at.exception


def test_results_empty_state_points_to_the_default_run():
    at = app("pages/results.py")
    assert "No results yet" in "\n".join(m.value for m in at.markdown)
    assert any(b.label == "Run the default benchmark" for b in at.button)


# ------------------------------------------------------------------ no tracebacks
def test_a_bug_in_a_page_is_a_friendly_error_box():
    def page():
        from pages._ui import guarded

        def body():
            raise RuntimeError("disk on fire\nsecond line")

        guarded(body)

    at = AppTest.from_function(page).run()
    assert not at.exception
    assert "RuntimeError: disk on fire" in errors(at) and "second line" not in errors(at)


def test_a_user_error_in_a_page_is_its_message():
    def page():
        from lib.errors import UserError
        from pages._ui import guarded

        def body():
            raise UserError("Batch sizes must be whole numbers above 0 (got -1).")

        guarded(body)

    at = AppTest.from_function(page).run()
    assert errors(at) == "Batch sizes must be whole numbers above 0 (got -1)."


def test_results_rows_group_by_technique_or_runtime():
    fp32, half, int8, failed = sample()
    ort_int8 = {**int8, "variant": "int8@ort", "runtime": "ort"}
    ort_half = {**failed, "variant": "half@ort", "runtime": "ort"}
    stored_run(results=[fp32, ort_int8, half, int8, ort_half])
    at = app("pages/results.py")

    def group(by: str) -> list[str]:
        control = next(w for w in at.get("button_group") if w.key == "results_group")
        control.set_value(by).run()
        assert not at.exception
        return list(variant_table(at)["Variant"])

    assert group("technique") == ["fp32", "int8@ort", "int8", "half", "half@ort"]
    assert group("runtime") == ["fp32", "half", "int8", "int8@ort", "half@ort"]
    assert group("run order") == ["fp32", "int8@ort", "half", "int8", "half@ort"]


# ------------------------------------------------------------------ load test (issue 12)
def test_load_test_checkbox_sets_the_specs_load_test(monkeypatch):
    from lib.execution import jobs

    started = []

    def fake_start(spec, store):
        started.append(spec)
        return store.create_run(spec.to_dict(), status="queued")

    monkeypatch.setattr(jobs, "start_background", fake_start)
    at = app("pages/run.py")
    assert at.session_state["draft"]["load_test"] is None
    at.checkbox(key="run_lt_on").check().run()
    at.number_input(key="run_lt_slo").set_value(50.0).run()
    at.radio(key="run_lt_tokenizer").set_value("slow").run()
    assert not at.exception and not at.error, errors(at)
    lt = at.session_state["draft"]["load_test"]
    assert (lt["slo_ms"], lt["tokenizer"]) == (50.0, "slow")
    assert at.button(key="run_start").label == "Start benchmark"
    at.button(key="run_start").click().run()
    assert not at.exception, at.exception
    lt = started[0].load_test
    assert (lt.slo_ms, lt.tokenizer, lt.percentile) == (50.0, "slow", 99.0)
    at.checkbox(key="run_lt_on").uncheck().run()
    assert at.session_state["draft"]["load_test"] is None


def test_results_page_shows_serving_under_load():
    from tests.serving.test_charts import served_results

    stored_run(results=served_results())
    at = app("pages/results.py")
    assert not at.exception
    md = "\n".join(m.value for m in at.markdown)
    assert "int8@ort serves 210 requests/s within p99 ≤ 100 ms on this machine (fp32: 80)" in md
    assert any(s.value == "Serving under load" for s in at.subheader)
    assert any("MLPerf LoadGen on this machine" in c.value for c in at.caption)
    keys = [c.proto.id for c in at.get("plotly_chart")]
    assert len(keys) >= 5  # scatter, bars, hockey stick, goodput, breakdown


def test_results_page_without_a_load_test_has_no_serving_section():
    stored_run()
    at = app("pages/results.py")
    assert not any(s.value == "Serving under load" for s in at.subheader)

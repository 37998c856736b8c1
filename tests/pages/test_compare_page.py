"""The Compare and Demo pages, driven headless with AppTest: empty store, filled store, the demo
button, targets that nothing meets. Never an exception, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.store import Store
from tests.helpers.runs import GPU_ENV, make_doc, result

ROOT = Path(__file__).resolve().parents[2]
COMPARE = str(ROOT / "pages" / "compare.py")
DEMO = str(ROOT / "pages" / "demo.py")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LEANBENCH_HOME", str(tmp_path))
    monkeypatch.setenv("LEANBENCH_STORE", f"sqlite:///{tmp_path}/s.db")
    monkeypatch.setenv("LEANBENCH_DEMO_DIR", str(tmp_path / "no-demo"))
    return tmp_path


def put(store: Store, doc: dict) -> str:
    run_id = store.create_run(doc["spec"], status="running", name=doc["name"])
    store.update_run(run_id, status="done", environment=doc["environment"], hardware="x")
    for i, r in enumerate(doc["results"]):
        store.add_result(run_id, i, r)
    return run_id


@pytest.fixture
def filled(home) -> list[str]:
    store = Store(f"sqlite:///{home}/s.db")
    gpu = make_doc(
        env=GPU_ENV,
        results=[
            result("fp32", "fp32", 0.861, 5, 20, 90.0),
            result("int8", "int8", 0.857, 4, 18, 23),
        ],
    )
    return [put(store, make_doc(name="<script>alert(1)</script>")), put(store, gpu)]


@pytest.fixture
def demo_folder(home, monkeypatch):
    folder = home / "demo"
    folder.mkdir()
    (folder / "cpu.json").write_text(json.dumps(make_doc("cpu1", name="MiniLM on reviews")))
    monkeypatch.setenv("LEANBENCH_DEMO_DIR", str(folder))
    return folder


def page(path: str) -> AppTest:
    at = AppTest.from_file(path, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.info]
    parts += [e.value for e in at.success] + [e.value for e in at.warning]
    return "\n".join(str(p) for p in parts)


def test_compare_empty_store_says_what_to_do(home):
    at = page(COMPARE)
    assert not at.error
    assert any("Nothing to compare yet" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_compare_empty_store_with_demo_loads_it(demo_folder):
    at = page(COMPARE)
    button = next(b for b in at.button if b.label == "Load the demo results")
    button.click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.success, "a recommendation after loading the demo"
    assert len(at.get("plotly_chart")) >= 3


def test_compare_filled_store_renders_the_answer(filled):
    at = page(COMPARE)
    assert not at.error, [e.value for e in at.error]
    assert "is the cheapest choice" in at.success[0].value  # no target set yet
    assert len(at.get("plotly_chart")) == 3
    assert at.dataframe, "the deltas table"
    assert len(at.get("download_button")) == 3  # report (HTML), CSV, JSON
    # pick both runs, then a target nothing meets
    at.multiselect(key="cmp_runs").set_value(filled).run()
    assert not at.exception and not at.error
    at.number_input(key="cmp_p95").set_value(0.5).run()
    assert not at.exception and not at.error
    assert any("Nothing meets your target" in w.value for w in at.warning)


def test_compare_targets_and_no_hardware(filled):
    at = page(COMPARE)
    at.number_input(key="cmp_p95").set_value(20.0)
    at.number_input(key="cmp_acc").set_value(85.0)
    at.multiselect(key="cmp_options").set_value([]).run()
    assert not at.exception and not at.error
    assert any("meets your target at p95" in s.value for s in at.success)


def test_demo_page_without_bundled_results(home):
    at = page(DEMO)
    assert not at.error
    load = next(b for b in at.button if b.label == "Load the demo results")
    assert load.disabled
    assert any("Nothing to show yet" in i.value for i in at.info)


def test_demo_page_loads_and_tells_the_story(demo_folder):
    at = page(DEMO)
    next(b for b in at.button if b.label == "Load the demo results").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert len(at.tabs) == 4
    # no curve bundled in this folder: the fourth screen says where one comes from
    assert "No learning curve was recorded" in at.tabs[3].info[0].value
    # the answer first: the version to ship, then the techniques one click away, in plain words
    assert at.success[0].value.startswith("**Ship ")
    cells = "\n".join(str(v) for d in at.dataframe for v in d.value.to_numpy().ravel())
    assert "one byte instead of four" in cells
    assert "AMD EPYC 9B14 (2 threads)" in cells
    assert len(at.get("plotly_chart")) == 3  # one chart per screen
    # a second visit finds the runs already loaded
    again = page(DEMO)
    assert not again.error and len(again.tabs) == 4


def test_demo_page_falls_back_to_the_users_own_run(filled):
    at = page(DEMO)
    assert not at.error, [e.value for e in at.error]
    assert len(at.tabs) == 4


def test_compare_latency_target_uses_p99_under_load(home):
    from tests.serving.test_charts import load_test

    store = Store(f"sqlite:///{home}/s.db")
    results = [
        result("fp32", "fp32", 0.861, 5, 20, 90.0),
        result("int8", "int8", 0.857, 4, 18, 23),
    ]
    results[1]["load_test"] = load_test(210.0)
    put(store, make_doc(results=results))
    at = page(COMPARE)
    at.number_input(key="cmp_p95").set_value(100.0).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    notes = "\n".join(c.value for c in at.caption)
    assert "request p99 under load (MLPerf LoadGen" in notes and "for int8;" in notes


def test_compare_answer_says_when_a_variant_was_judged_under_load(home):
    from tests.compare.test_compare import _served_doc

    store = Store(f"sqlite:///{home}/s.db")
    put(store, _served_doc())
    at = page(COMPARE)
    at.multiselect(key="cmp_options").set_value(["c7i.2xlarge"]).run()
    at.number_input(key="cmp_p95").set_value(100.0).run()
    at.number_input(key="cmp_acc").set_value(85.0).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    answer = "\n".join(s.value for s in at.success)
    assert (
        "int8@ort meets p99 ≤ 100 ms up to 350 requests/s under load (measured with LoadGen)"
        in (answer)
    )
    assert "at $0.14 per 1M on c7i.2xlarge" in answer
    numbers = "\n".join(str(v) for d in at.dataframe for v in d.value.to_numpy().ravel())
    assert "350 requests/s at p99 ≤ 100 ms" in numbers


def test_compare_names_the_fastest_within_budget_for_each_run(filled):
    at = page(COMPARE)
    at.multiselect(key="cmp_runs").set_value(filled).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    answers = [s.value for s in at.success if "accuracy point of fp32 is" in s.value]
    assert len(answers) == 2  # one per run picked, each under its own label
    labels = "\n".join(m.value for m in at.markdown)
    assert "**\\<script\\>alert(1)\\</script\\> · " in labels  # the run's name, escaped
    assert any("int8" in a for a in answers)  # the GPU run's int8 loses 0.4 points: in budget
    at.number_input(key="cmp_budget").set_value(0.0).run()
    assert not at.exception and not at.error
    zero = [s.value for s in at.success if "accuracy points of fp32 is" in s.value]
    assert len(zero) == 2 and any(" fp32 on plain PyTorch" in a for a in zero)

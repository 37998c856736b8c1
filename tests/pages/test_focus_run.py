"""Issue 13, point 5: the page remembers what you were looking at. The run picked on Results or
Compare (or shown on Demo) is the one Cost opens with, not the newest run in the store."""

from __future__ import annotations

from lib.store import Store
from tests.helpers.results import sample
from tests.pages.test_pages import app, errors


def two_done_runs() -> tuple[str, str]:
    """An older and a newer finished run (the newer is what Cost used to open with)."""
    from lib.spec import default_spec_dict

    store = Store()
    ids = []
    for name in ("older run", "newer run"):
        run_id = store.create_run(default_spec_dict(), status="running", name=name)
        store.update_run(
            run_id,
            status="done",
            environment={"device": "cpu", "cpu_model": "Test CPU", "threads": 2},
            hardware="Test CPU (2 threads)",
        )
        for i, r in enumerate(sample()):
            store.add_result(run_id, i, r)
        ids.append(run_id)
    return ids[0], ids[1]


def cost_run(at) -> str:
    assert not at.exception, at.exception
    assert not at.error, errors(at)
    return at.selectbox(key="cost_run").value


def test_cost_opens_with_the_run_in_focus():
    older, newer = two_done_runs()
    assert cost_run(app("pages/cost.py")) == newer  # nothing looked at yet: the newest
    assert cost_run(app("pages/cost.py", focus_run=older)) == older


def test_cost_ignores_a_focus_that_is_not_stored():
    _, newer = two_done_runs()
    assert cost_run(app("pages/cost.py", focus_run="not-a-run")) == newer


def test_the_run_picked_on_results_is_the_one_cost_opens():
    older, _ = two_done_runs()
    at = app("pages/results.py")
    at.selectbox(key="results_pick").set_value(older).run()
    assert at.session_state["focus_run"] == older
    at.switch_page("pages/cost.py").run()
    assert cost_run(at) == older


def test_the_first_run_picked_on_compare_is_the_one_cost_opens():
    older, newer = two_done_runs()
    at = app("pages/compare.py")
    at.multiselect(key="cmp_runs").set_value([older, newer]).run()
    assert not at.exception, at.exception
    assert at.session_state["focus_run"] == older
    at.switch_page("pages/cost.py").run()
    assert cost_run(at) == older


def test_a_run_picked_on_cost_stays_picked_after_a_visit_elsewhere():
    older, newer = two_done_runs()
    at = app("pages/cost.py", focus_run=newer)
    at.selectbox(key="cost_run").set_value(older).run()
    assert cost_run(at) == older
    at.switch_page("pages/techniques.py").run()
    at.switch_page("pages/cost.py").run()
    assert cost_run(at) == older


def test_the_run_shown_on_demo_is_the_one_cost_opens(monkeypatch):
    """The demo story's run (recorded on a CPU like this one), not the user's newest run."""
    from lib.demo import pitch, story
    from lib.paths import REPO_DATA

    monkeypatch.setenv("LEANBENCH_DEMO_DIR", str(REPO_DATA / "demo"))
    _, newer = two_done_runs()
    story.load_demo(Store())
    at = app("pages/demo.py")
    assert not at.error, errors(at)
    shown = pitch.story_runs(story.demo_docs(), pitch.this_machine_kind()).primary["run_id"]
    assert at.session_state["focus_run"] == shown
    at.switch_page("pages/cost.py").run()
    assert cost_run(at) == shown != newer

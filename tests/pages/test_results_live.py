"""Issue 13, point 6 (Results): a live run is shown, by default the session's own, with its
progress and the variants finished so far (the store has each as soon as it is measured),
and it refreshes itself until the run ends."""

from __future__ import annotations

import pytest
import streamlit

from lib.store import Store
from tests.helpers.results import sample
from tests.pages.test_pages import app, errors, stored_run


@pytest.fixture
def refreshes(monkeypatch) -> list:
    """The ``run_every`` of every fragment the page draws (AppTest does not tick the timer)."""
    seen: list = []
    real = streamlit.fragment

    def spy(func=None, *, run_every=None):
        seen.append(run_every)
        return real(func, run_every=run_every) if func else real(run_every=run_every)

    monkeypatch.setattr(streamlit, "fragment", spy)
    return seen


def live_run(status: str = "running", results: list[dict] | None = None) -> tuple[Store, str]:
    """A finished run, then a live one of this session (the Results page used to show the
    finished one)."""
    stored_run(status="done")
    store, run_id = stored_run(status=status, results=sample()[:1] if results is None else results)
    store.update_run(run_id, progress=0.4, message="variant half: latency at batch 32")
    return store, run_id


def variants_shown(at) -> list[str]:
    table = next(d.value for d in at.dataframe if "Variant" in d.value.columns)
    return list(table["Variant"])


def test_results_opens_the_sessions_live_run_with_its_results_so_far(refreshes):
    _, run_id = live_run()
    at = app("pages/results.py", run_id=run_id)
    assert not at.error, errors(at)
    assert at.selectbox(key="results_pick").value == run_id
    (bar,) = at.get("progress")
    assert "Running: 40% · variant half: latency at batch 32" in bar.proto.text
    captions = "\n".join(c.value for c in at.caption)
    assert "1 of 3 variants finished (fp32); still to come: half, int8." in captions
    assert variants_shown(at) == ["fp32"]
    assert 2 in refreshes  # redrawn from the store every 2 s


def test_results_keeps_up_with_the_run_and_stops_when_it_ends(refreshes):
    store, run_id = live_run()
    at = app("pages/results.py", run_id=run_id)
    store.add_result(run_id, 1, sample()[1])  # half is measured: the next look shows it
    at.run()
    assert not at.exception, at.exception
    assert variants_shown(at) == ["fp32", "half"]
    store.update_run(run_id, status="done", progress=1.0)
    refreshes.clear()
    at.run()
    assert not at.exception and not at.get("progress")
    assert refreshes and all(r is None for r in refreshes)  # finished: no more refreshing


def test_a_queued_run_says_it_waits_and_that_nothing_finished_yet():
    store, run_id = live_run(status="queued", results=[])
    store.add_event(run_id, "queued", "waiting for another run on this machine to finish", 0.0)
    at = app("pages/results.py", run_id=run_id)
    assert not at.error, errors(at)
    info = "\n".join(i.value for i in at.info)
    assert "Queued: waiting for another run" in info and "No variant has finished yet" in info


def test_another_live_run_is_signalled_with_a_button_to_show_it():
    _, done_id = stored_run(status="done")
    _, live = stored_run(status="running", results=sample()[:1])
    at = app("pages/results.py", results_run_id=done_id)
    assert at.selectbox(key="results_pick").value == done_id
    assert any("is running" in i.value for i in at.info)
    at.button(key=f"results_show_{live}").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="results_pick").value == live
    assert at.get("progress")


# ------------------------------------------------------------------ the words, as plain Python
def test_live_summary_says_the_stage_and_the_variants_to_come():
    from lib.results.progress import live_summary

    spec = {"variants": ["fp32", "half", "int8"]}
    run = {"status": "running", "progress": 0.55, "message": "variant int8: accuracy", "spec": spec}
    done = [{"variant": "fp32", "status": "ok"}, {"variant": "half", "status": "failed"}]
    live = live_summary(run, done, [])
    assert live["fraction"] == 0.55
    assert live["headline"] == "Running: 55% · variant int8: accuracy"
    assert live["detail"] == "2 of 3 variants finished (fp32); failed: half; still to come: int8."
    queued = live_summary({"status": "queued", "spec": spec}, [], [{"stage": "queued"}])
    assert queued["headline"].startswith("Queued: waiting for another run")
    assert live_summary({"status": "queued", "spec": spec}, [], [])["headline"] == (
        "Queued: starting the worker"
    )


def test_default_run_prefers_the_asked_for_then_the_live_run():
    from lib.results.summary import default_run

    runs = [{"id": "live", "status": "running"}, {"id": "old", "status": "done"}]
    assert default_run(runs, None) == "old"
    assert default_run(runs, None, live="live") == "live"
    assert default_run(runs, "old", live="live") == "old"
    assert default_run(runs, "gone", live="gone too") == "old"

"""Issue 13, point 6 (Run): while this session's run is queued or running, "Run the default
benchmark" and Start are off and the page says why; and the library refuses to queue a second
run with the same spec as one already queued or running in the store."""

from __future__ import annotations

import os

import pytest

from lib.execution import jobs
from lib.spec import RunSpec, default_spec_dict
from lib.store import Store
from tests.helpers.results import sample
from tests.pages.test_pages import app, errors, stored_run


class FakeWorker:
    """Stands in for the worker process: alive (this test's own pid), never started."""

    def __init__(self, *args, **kwargs):
        self.pid = os.getpid()


@pytest.fixture
def no_worker(monkeypatch):
    monkeypatch.setattr(jobs.subprocess, "Popen", FakeWorker)


def in_progress(at) -> bool:
    return any("A run is in progress" in i.value for i in at.info)


# ------------------------------------------------------------------ the pages
def test_start_is_off_while_this_sessions_run_is_live():
    _, run_id = stored_run(status="running", results=sample()[:1])
    at = app("pages/run.py", run_id=run_id)
    assert not at.error, errors(at)
    assert at.button(key="run_start").disabled
    assert in_progress(at)
    assert any("results so far" in link.proto.label for link in at.get("page_link"))


def test_start_is_on_again_once_the_run_has_finished():
    _, run_id = stored_run(status="done")
    at = app("pages/run.py", run_id=run_id)
    assert not at.button(key="run_start").disabled
    assert not in_progress(at)


def test_home_button_is_off_while_this_sessions_run_is_live():
    _, run_id = stored_run(status="queued", results=[])
    at = app(run_id=run_id)
    assert at.button(key="home_default_run").disabled
    assert in_progress(at)


def test_home_button_is_off_while_the_same_default_run_is_live_elsewhere():
    """Another tab (or this one before a reload) started the default run: no second one."""
    stored_run(status="running", results=[])
    at = app()
    assert at.button(key="home_default_run").disabled
    assert in_progress(at)


def test_pressing_start_twice_queues_one_run(no_worker):
    stale = app("pages/run.py")  # a second tab, drawn before the run started: Start is on
    at = app("pages/run.py")
    at.button(key="run_start").click().run()
    assert not at.exception, at.exception
    first = at.session_state["run_id"]
    assert Store().get_run(first)["status"] == "queued"
    assert at.button(key="run_start").disabled and in_progress(at)
    # Start pressed in the other tab is refused, and that page says why.
    stale.button(key="run_start").click().run()
    assert not stale.exception, stale.exception
    assert [r["id"] for r in Store().list_runs()] == [first]
    assert "An identical run is already queued" in errors(stale)
    assert stale.session_state["run_id"] == first
    assert stale.button(key="run_start").disabled


# ------------------------------------------------------------------ the library
def test_start_background_refuses_an_identical_live_spec(no_worker):
    store = Store()
    spec = RunSpec.from_dict(default_spec_dict())
    first = jobs.start_background(spec, store)
    with pytest.raises(jobs.RunAlreadyActive, match=f"already queued.*run {first}") as refused:
        jobs.start_background(spec, store)
    assert refused.value.run_id == first
    assert len(store.list_runs()) == 1


def test_start_background_starts_a_different_or_a_finished_spec(no_worker):
    store = Store()
    spec = RunSpec.from_dict(default_spec_dict())
    first = jobs.start_background(spec, store)
    other = RunSpec.from_dict(default_spec_dict() | {"variants": ["fp32", "int8"]})
    assert jobs.start_background(other, store) != first  # a different run may queue
    store.update_run(first, status="done")
    assert jobs.start_background(spec, store) != first  # the same spec, once it has finished


def test_a_dead_identical_run_does_not_block(no_worker, monkeypatch):
    import socket

    store = Store()
    spec = RunSpec.from_dict(default_spec_dict())
    dead = store.create_run(spec.to_dict(), status="running")
    store.update_run(dead, host=socket.gethostname(), pid=2**22 + 12345)  # no such process
    run_id = jobs.start_background(spec, store)
    assert run_id != dead and store.get_run(dead)["status"] == "interrupted"

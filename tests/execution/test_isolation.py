"""Each variant runs in its own process: a crash, exit, kill or hang fails only that variant.

The child process is real (``lib.execution.runner.run_isolated`` spawns ``lib.execution.variant_process.main``); the
job's ``entry`` points it at a stand-in from ``tests/helpers/crash.py`` instead of the real
measurement, so the tests are fast and need no model.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from lib.execution import runner, variant_process
from tests.helpers import crash as helpers_crash

needs_entry_hook = pytest.mark.skipif(
    not hasattr(variant_process, "DEFAULT_ENTRY"),
    reason="lib/variant_process.py lacks the job['entry'] hook (see docs/how-we-measure.md)",
)

HELPERS = helpers_crash.__name__


def entry(name: str) -> str:
    return f"{HELPERS}:{name}"


def run(name: str, timeout_s: float = 30, **job) -> tuple[dict, list]:
    seen: list = []
    out = runner.run_isolated(
        {"variant": name, "entry": entry(name), **job},
        timeout_s,
        lambda f, m: seen.append((f, m)),
    )
    return out, seen


@needs_entry_hook
def test_a_variant_that_works_reports_its_result_and_progress():
    out, seen = run("ok")
    assert out["status"] == "ok" and out["variant"] == "ok"
    assert out["pid"] != os.getpid()  # measured in another process
    assert seen == [(0.5, "pretending to measure")]
    assert out["wall_seconds"] > 0


@needs_entry_hook
def test_a_variant_that_raises_is_failed_with_its_reason():
    out, seen = run("raise_error")
    assert out["status"] == "failed"
    assert out["error"] == "RuntimeError: deliberate failure in the variant"
    assert "raise_error" in out["error_detail"]  # the traceback's last frames
    assert seen == [(0.1, "about to fail")]


@needs_entry_hook
def test_a_variant_that_exits_is_failed_with_the_exit_code():
    out, _ = run("exit_hard")
    assert out["status"] == "failed"
    assert "exit code 3" in out["error"]


@needs_entry_hook
def test_a_variant_killed_like_by_the_oom_killer_says_so():
    out, _ = run("kill_self")
    assert out["status"] == "failed"
    assert "killed" in out["error"] and "out of memory" in out["error"]


@needs_entry_hook
def test_a_variant_that_hangs_is_timed_out():
    out, _ = run("hang", timeout_s=3)
    assert out["status"] == "failed"
    assert out["error"] == "timed out after 3 s"
    assert out["wall_seconds"] < 15


@needs_entry_hook
def test_peak_memory_is_the_variant_process_own():
    small, _ = run("peak_memory", mb=10)
    big, _ = run("peak_memory", mb=300)
    assert big["peak_memory_mb"] - small["peak_memory_mb"] == pytest.approx(290, abs=40)


@needs_entry_hook
def test_a_failing_variant_leaves_the_others_and_the_store_intact(monkeypatch, small_csv):
    """A whole run through ``runner.execute``: the middle variant crashes, the rest are stored."""
    from lib import spec
    from lib.store import Store
    from lib.training import adapt

    plan = {"fp32": "ok", "half": "exit_hard", "int8": "ok"}
    real = runner.run_isolated

    def with_entry(job, timeout_s, progress):
        return real({**job, "entry": entry(plan[job["variant"]]), "wrong": 2}, timeout_s, progress)

    monkeypatch.setattr(runner, "run_isolated", with_entry)
    monkeypatch.setattr(
        adapt,
        "prepare_baseline",
        lambda *a, **k: adapt.Baseline("/nonexistent", False, True, 0.0, 0),
    )
    run_spec = spec.RunSpec(
        dataset=spec.DatasetSpec(
            source=str(small_csv),
            text_column="review",
            label_column="sentiment",
            train_limit=40,
            eval_limit=40,
        ),
        variants=["fp32", "half", "int8"],
    )
    store = Store()
    run_id = runner.execute(run_spec, store)

    stored = {r["variant"]: r for r in store.results_for(run_id)}
    assert list(stored) == ["fp32", "half", "int8"]
    assert stored["fp32"]["status"] == "ok" and stored["int8"]["status"] == "ok"
    assert stored["half"]["status"] == "failed" and "exit code 3" in stored["half"]["error"]
    assert stored["int8"]["agreement"] == 1.0
    run = store.get_run(run_id)
    assert np.asarray(stored["int8"]["predictions"]).size == run["extra"]["n_eval"] > 0
    assert run["status"] == "done" and run["message"] == "2 of 3 variants measured"


def test_the_real_measurement_entry_fails_cleanly_on_a_bad_variant():
    """No stand-in: ``measure_variant`` itself, given a variant that cannot be built."""
    out = runner.run_isolated(
        {"variant": "no-such-step", "measure": {}, "device": "cpu"}, 60, lambda f, m: None
    )
    assert out["status"] == "failed"
    assert "Unknown step 'no-such-step'" in out["error"]

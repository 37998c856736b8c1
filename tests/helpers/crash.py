"""Stand-ins for ``lib.execution.variant_process.measure_variant``, run in the spawned variant process.

A job's ``"entry": "tests.helpers.crash:<name>"`` points the child at one of these, so the
isolation tests can make a variant raise, exit, die from a signal or hang, with no test hook in
product code beyond the entry point itself.
"""

from __future__ import annotations

import os
import signal
import time


def ok(job, progress):
    """A measured variant: every prediction right except the first ``job['wrong']``."""
    progress(0.5, "pretending to measure")
    labels = list(job.get("eval_labels", [0, 1, 0, 1]))
    preds = list(labels)
    for i in range(min(job.get("wrong", 0), len(preds))):
        preds[i] = 1 - preds[i]
    return {
        "variant": job["variant"],
        "status": "ok",
        "accuracy": sum(p == y for p, y in zip(preds, labels, strict=True)) / len(labels),
        "latency_ms": {"1": {"p50": 1.0}},
        "predictions": preds,
        "pid": os.getpid(),
    }


def raise_error(job, progress):
    progress(0.1, "about to fail")
    raise RuntimeError("deliberate failure in the variant")


def exit_hard(job, progress):
    progress(0.1, "about to exit")
    os._exit(3)  # no exception, no message: the pipe just closes


def kill_self(job, progress):
    progress(0.1, "about to be killed")
    os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer does


def hang(job, progress):
    progress(0.1, "about to hang")
    time.sleep(600)


def peak_memory(job, progress):
    """Allocate ``job['mb']`` MB and report this process's resident memory while holding it."""
    import psutil

    block = bytearray(job["mb"] * 1_000_000)
    block[::4096] = b"x" * len(block[::4096])  # touch every page
    rss = psutil.Process().memory_info().rss
    del block
    return {"variant": job["variant"], "status": "ok", "peak_memory_mb": rss / 1e6}

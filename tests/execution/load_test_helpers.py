"""Stand-ins for the variant process's work (``job["entry"]``) that fail in the load test."""

from __future__ import annotations

import os


def crash_in_load_test(job, progress):
    """Measured, then dies in the middle of a Server point: no exception, no message."""
    progress(0.4, "measured")
    progress(0.6, "Server at 120 QPS (point 3/8)", "load test")
    os._exit(3)


def raise_in_load_test(job, progress):
    """The load test raises, as ``lib.serving.variant.load_test`` does when the variant fails
    while serving; the variant process's own wrapper reports it."""
    from lib.execution import variant_process
    from lib.serving import variant
    from lib.serving.batcher import VariantCrashed
    from lib.spec import LoadTestSpec

    def failing_load_test(predictor, tokenizer, texts, spec, progress):
        progress(0.1, "SingleStream: one query at a time")
        raise VariantCrashed("out of device memory")

    variant.load_test = failing_load_test  # this child process only
    variant_process._load_test(None, None, ["a text"], LoadTestSpec(), progress)
    raise AssertionError("unreachable: the load test raised")

"""The shape of Leanbench's results: what a run document and each variant result hold.

Every reader of results (store, Results, Compare, Cost, report, demo, CLI) goes through these
types, so an old JSON file or store row is interpreted in one place.
"""

from __future__ import annotations

BASELINE = "fp32"  # the variant every other is compared against


class Status:
    """Run and result statuses as stored."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    OK = "ok"  # a variant result that was measured


FINISHED = (Status.DONE, Status.FAILED, Status.INTERRUPTED)  # a run that will not change again

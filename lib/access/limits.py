"""Limits a shared Leanbench keeps: how many runs may wait in the queue, how large an upload may
be. Each is a setting (an environment variable) with a default.

- ``LEANBENCH_MAX_QUEUED`` (default 5): runs queued or running in the store at once; one more
  is refused by ``lib.execution.jobs.start_background`` and the Run page shows the cap.
- ``LEANBENCH_MAX_UPLOAD_MB`` (default 50): the largest dataset upload ``lib.uploads`` keeps;
  ``.streamlit/config.toml`` sets Streamlit's own ``server.maxUploadSize`` to the same.
"""

from __future__ import annotations

import os

from lib.errors import UserError

MAX_QUEUED_ENV = "LEANBENCH_MAX_QUEUED"
MAX_UPLOAD_ENV = "LEANBENCH_MAX_UPLOAD_MB"
DEFAULT_MAX_QUEUED = 5
DEFAULT_MAX_UPLOAD_MB = 50


def _positive_int(env: str, default: int) -> int:
    text = os.environ.get(env, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise UserError(f"{env}={text!r}: give a whole number.") from None
    if value < 1:
        raise UserError(f"{env}={text!r}: give a number of at least 1.")
    return value


def max_queued() -> int:
    """Runs that may be queued or running in one store at once."""
    return _positive_int(MAX_QUEUED_ENV, DEFAULT_MAX_QUEUED)


def max_upload_mb() -> int:
    return _positive_int(MAX_UPLOAD_ENV, DEFAULT_MAX_UPLOAD_MB)


def check_queue(live: int) -> None:
    """``UserError`` when ``live`` runs (queued or running) already fill the queue."""
    cap = max_queued()
    if live >= cap:
        raise UserError(
            f"The queue is full: {live} run{'s' if live != 1 else ''} queued or running, at most "
            f"{cap} ({MAX_QUEUED_ENV}). Start this one when one of them has finished."
        )


def check_upload_size(size: int, name: str) -> None:
    """``UserError`` for an upload larger than ``max_upload_mb``."""
    cap = max_upload_mb()
    if size > cap * 1024 * 1024:
        raise UserError(
            f"{name} is {size / 1024 / 1024:.1f} MB; uploads are limited to {cap} MB "
            f"({MAX_UPLOAD_ENV}). Upload a smaller sample of it."
        )

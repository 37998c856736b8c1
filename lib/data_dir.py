"""Where Leanbench keeps its store, cached models and job logs."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """``$LEANBENCH_HOME`` if set, else ``~/.leanbench``; created on first use."""
    path = Path(os.environ.get("LEANBENCH_HOME") or Path.home() / ".leanbench").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_store_url() -> str:
    return os.environ.get("LEANBENCH_STORE") or f"sqlite:///{data_dir() / 'leanbench.db'}"

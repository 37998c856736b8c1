"""A sweep started from the Sweep page: ``python -m lib sweep`` in a detached process.

The page writes the sweep spec to the data folder and starts the CLI with it, the store's URL
and the cluster address; the process survives reruns and closed tabs (its own session), logs to
``~/.leanbench/logs/sweep-<time>.log``, and reports through the store, which the page polls.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lib.paths import REPO_ROOT, user_dir
from lib.sweep.spec import SweepSpec


@dataclass
class Started:
    pid: int
    spec_file: Path
    log_file: Path


def start_background(sweep: SweepSpec, store_url: str, address: str | None = None) -> Started:
    """Start the sweep's driver detached; returns at once."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = user_dir() / "sweeps"
    folder.mkdir(exist_ok=True)
    spec_file = folder / f"sweep-{stamp}-{time.time_ns() % 10**6}.json"
    spec_file.write_text(sweep.to_json())
    logs = user_dir() / "logs"
    logs.mkdir(exist_ok=True)
    log_file = logs / f"{spec_file.stem}.log"
    command = [sys.executable, "-m", "lib", "sweep", "--spec", str(spec_file), "--store", store_url]
    command += ["--out", str(spec_file.with_suffix(".out.json"))]
    if address:
        command += ["--ray-address", address]
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not a child of the Streamlit session: survives reruns
        )
    return Started(proc.pid, spec_file, log_file)


def log_tail(path: Path, lines: int = 20) -> str:
    """The last lines of a sweep's log ("" when there is none yet)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""

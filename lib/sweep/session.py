"""Connecting the driver to Ray: an existing cluster (``auto``, ``HOST:6379``, ``ray://HOST:10001``)
or, with no address, a Ray instance started on this machine for the sweep alone.

On a cluster, the driver's copy of Leanbench is shipped to the nodes as the job's working
directory (Ray's ``runtime_env``), so every node measures with the same code as the driver; the
packages come from the node's own environment (``requirements.txt``, ``requirements-assets.txt``).
A local instance labels its one node with the sweep's one machine kind.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from lib.errors import UserError
from lib.paths import REPO_ROOT
from lib.sweep.spec import LABEL_KEY

# Not shipped to the nodes: environments, caches, tests and docs.
CODE_EXCLUDES = [
    ".git",
    ".venv",
    "**/__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "tests",
    "test-artifacts",
    "artifacts",
    "docs",
    "*.db",
    "results*.json",
]
# LEANBENCH_SHIP_CODE=0: the nodes import the Leanbench they have installed instead.
SHIP_CODE_ENV = "LEANBENCH_SHIP_CODE"


def code_runtime_env() -> dict[str, Any]:
    """The runtime environment that ships this copy of Leanbench to the nodes."""
    if os.environ.get(SHIP_CODE_ENV, "1") == "0":
        return {}
    return {"working_dir": str(REPO_ROOT), "excludes": list(CODE_EXCLUDES)}


@contextlib.contextmanager
def connect(address: str | None, local_kind: str) -> Iterator[str]:
    """Connected to Ray for the body; yields a description of where. A driver that is already
    connected (a test, a notebook) is used as it is and left connected."""
    import ray

    if ray.is_initialized():
        yield "the connected Ray cluster"
        return
    quiet: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address and address.startswith("ray://") and not _has_ray_client():
        raise UserError(
            f"Connecting to {address} needs Ray Client: `pip install 'ray[client]==2.60.0'` on "
            "this machine, or run the sweep on the head node with --ray-address auto."
        )
    try:
        if address:
            ray.init(address=address, runtime_env=code_runtime_env(), **quiet)
            where = f"the Ray cluster at {address}"
        else:
            # "local": a new instance, even when another one runs on this machine.
            ray.init(
                address="local", labels={LABEL_KEY: local_kind}, include_dashboard=False, **quiet
            )
            where = f"a Ray instance on this machine (machine kind '{local_kind}')"
    except (ConnectionError, RuntimeError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"Cannot reach the Ray cluster at {address or 'this machine'}: {reason}"
        ) from None
    try:
        yield where
    finally:
        ray.shutdown()


def _has_ray_client() -> bool:
    import importlib.util

    return importlib.util.find_spec("grpc") is not None


def driver_ip() -> str:
    """This driver's address as Ray sees it ("" when Ray cannot say, as through Ray Client:
    every node is then taken to be elsewhere)."""
    import ray

    try:
        return str(ray.util.get_node_ip_address())
    except Exception:  # noqa: BLE001 - unknown: the safe answer is "not here"
        return ""

"""``python -m lib worker RUN_ID``: execute a queued run (started by ``lib.execution.jobs``).

Hidden from ``--help``: the Run page starts it as a detached process; people use ``run``.
"""

from __future__ import annotations

import argparse

from lib.cli.args import add_store_argument
from lib.cli.base import Command


class WorkerCommand(Command):
    name = "worker"
    help = None  # not listed in --help

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("run_id")
        add_store_argument(parser, documented=False)

    def run(self, args: argparse.Namespace) -> int:
        from lib.execution import jobs
        from lib.store import Store

        return jobs.run_worker(args.run_id, Store(args.store))

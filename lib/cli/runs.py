"""``python -m lib runs``: list the stored runs, newest first."""

from __future__ import annotations

import argparse

from lib.cli.args import add_store_argument
from lib.cli.base import Command


class RunsCommand(Command):
    name = "runs"
    help = "list stored runs"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_store_argument(parser, documented=False)

    def run(self, args: argparse.Namespace) -> int:
        from lib.store import Store

        for r in Store(args.store).list_runs():
            print(
                f"{r['id']}  {r['created_at']:%Y-%m-%d %H:%M}  {r['status']:<11} "
                f"{r['hardware'] or '':<40} {r['message']}"
            )
        return 0

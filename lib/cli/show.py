"""``python -m lib show RUN_ID``: a stored run as JSON (the document ``run --out`` writes)."""

from __future__ import annotations

import argparse
import json

from lib.cli.args import add_store_argument
from lib.cli.base import Command


class ShowCommand(Command):
    name = "show"
    help = "print a stored run as JSON"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("run_id")
        add_store_argument(parser, documented=False)

    def run(self, args: argparse.Namespace) -> int:
        from lib.store import Store

        print(json.dumps(Store(args.store).run_document(args.run_id), indent=2, default=str))
        return 0

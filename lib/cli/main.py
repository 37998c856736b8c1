"""The command line: everything a page can do, headless.

    python -m lib run --model minilm-l6 --dataset rotten-tomatoes --variants fp32,half,int8 \
        --eval-limit 500 --batch-sizes 1,32 --seq-len 128 --out results.json

One module per subcommand, each a ``lib.cli.base.Command``, listed in ``COMMANDS`` below: plain
imports, so a command module that fails to import makes the whole CLI fail loudly instead of
the command quietly disappearing. Bad input: one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from lib.cli import base
from lib.cli.access import AccessCommand
from lib.cli.base import Command
from lib.cli.cost import CostCommand
from lib.cli.curve import CurveCommand
from lib.cli.load_test import LoadTestCommand
from lib.cli.long_docs import LongDocsCommand
from lib.cli.report import ReportCommand
from lib.cli.run import RunCommand
from lib.cli.runs import RunsCommand
from lib.cli.show import ShowCommand
from lib.cli.sweep import SweepCommand
from lib.cli.worker import WorkerCommand

# In --help order.
COMMANDS: list[Command] = [
    RunCommand(),
    LoadTestCommand(),
    SweepCommand(),
    WorkerCommand(),
    ShowCommand(),
    RunsCommand(),
    CostCommand(),
    CurveCommand(),
    LongDocsCommand(),
    ReportCommand(),
    AccessCommand(),
]


def build_parser() -> argparse.ArgumentParser:
    return base.build_parser(COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    return base.main(COMMANDS, argv)

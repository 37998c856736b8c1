"""The CLI's skeleton: a ``Command`` base, a parser that fails in one line, and ``main``.

Every subcommand is a ``Command`` subclass in its own module; ``lib/cli/main.py`` lists them.
Errors are handled here and only here (``Command.invoke``):

- ``UserError`` (bad input the user can fix): ``error: <message>`` on one line, exit code 2;
- ``KeyboardInterrupt``: one line, exit code 130;
- anything else propagates with its traceback: it is a bug, not bad input.

This module imports no command, so no command module can form a cycle through it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import ClassVar

from lib.errors import UserError

PROG = "python -m lib"
DESCRIPTION = "Leanbench: what smaller or faster models cost and buy."
INTERRUPTED = "interrupted; results measured so far are in the store"


class Parser(argparse.ArgumentParser):
    """Bad arguments: ``error: <message>`` on one line and exit code 2, no usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


class Command:
    """One subcommand: ``name``, ``help``, ``add_arguments(parser)`` and ``run(args) -> int``.

    ``help = None`` hides the command from ``--help`` (it still runs). ``run`` raises
    ``UserError`` for bad input; ``invoke`` turns that into the one-line exit 2.
    """

    name: ClassVar[str]
    help: ClassVar[str | None] = None
    description: ClassVar[str | None] = None

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add this command's flags and positionals to its parser."""

    def run(self, args: argparse.Namespace) -> int:
        raise NotImplementedError

    def register(self, subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
        """Add this command's parser to ``subparsers``; ``args.func`` becomes ``self.invoke``."""
        kwargs: dict = {"description": self.description}
        if self.help is not None:  # passing help at all lists the command in --help
            kwargs["help"] = self.help
        parser = subparsers.add_parser(self.name, **kwargs)
        self.add_arguments(parser)
        parser.set_defaults(func=self.invoke)
        return parser

    def invoke(self, args: argparse.Namespace) -> int:
        """``run`` with the CLI's error handling: the one place a ``UserError`` becomes exit 2."""
        try:
            return self.run(args)
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(INTERRUPTED, file=sys.stderr)
            return 130


def build_parser(commands: Sequence[Command]) -> argparse.ArgumentParser:
    """The top-level parser with one subparser per command, in the order given."""
    parser = Parser(prog=PROG, description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    names = [c.name for c in commands]
    if len(set(names)) != len(names):
        raise ValueError(f"Duplicate command names: {names}")
    for command in commands:
        command.register(sub)
    return parser


def main(commands: Sequence[Command], argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``) and run the chosen command; the exit code."""
    args = build_parser(commands).parse_args(None if argv is None else list(argv))
    return args.func(args)

"""``python -m lib access``: who may log in to a shared Leanbench (the built-in login).

    python -m lib access add-user alice --role operator   # prints a new token, once
    python -m lib access add-user bob --password          # asks for a password instead
    python -m lib access list
    python -m lib access remove-user bob

Users go to ``<user dir>/access/users.json`` (``LEANBENCH_USERS_FILE``), each with a role and an
argon2id hash of their token; the token itself is shown once and stored nowhere.
"""

from __future__ import annotations

import argparse
import getpass

from lib.access import credentials
from lib.access.roles import ROLES, VIEWER
from lib.cli.base import Command
from lib.errors import UserError


class AccessCommand(Command):
    name = "access"
    help = "users who may log in when Leanbench is shared (add-user, list, remove-user)"
    description = (
        "Manage the built-in login of a shared Leanbench: each user has a role (viewer: look at "
        "results, Compare, Cost, Demo, download reports; operator: also start runs, upload, "
        "change the store) and a token, stored only as an argon2 hash."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
        add = sub.add_parser("add-user", help="add a user (or give an existing one a new token)")
        add.add_argument("name")
        add.add_argument("--role", choices=ROLES, default=VIEWER, help="default: viewer")
        add.add_argument(
            "--password",
            action="store_true",
            help=f"type a password (at least {credentials.MIN_SECRET} characters) instead of "
            "getting a generated token",
        )
        sub.add_parser("list", help="list the users and their roles")
        remove = sub.add_parser("remove-user", help="remove a user")
        remove.add_argument("name")

    def run(self, args: argparse.Namespace) -> int:
        if args.action == "list":
            users = credentials.list_users()
            for user in users:
                print(f"{user.name}\t{user.role}")
            if not users:
                print(f"no users yet ({credentials.users_file()})")
            return 0
        if args.action == "remove-user":
            credentials.remove_user(args.name)
            print(f"removed {args.name}")
            return 0
        secret = None
        if args.password:
            secret = getpass.getpass(f"Password for {args.name}: ")
            if getpass.getpass("Again: ") != secret:
                raise UserError("The two passwords differ; nothing was changed.")
        token = credentials.add_user(args.name, args.role, secret)
        print(f"{args.name} ({args.role}) can log in; users file: {credentials.users_file()}")
        if secret is None:
            print(f"token (shown once, give it to {args.name}): {token}")
        return 0

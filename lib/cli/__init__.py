"""``python -m lib``: one module per subcommand, each a ``Command`` (``lib/cli/base.py``).

The list of commands is ``lib.cli.main.COMMANDS``; ``lib/__main__.py`` runs ``lib.cli.main.main``.
This file imports nothing, so importing one command module does not import the others.
"""

"""Errors that reach a user.

A ``UserError`` is bad input the user can fix: pages show its message in an error box, the CLI
prints it on one line and exits with code 2. Anything else is a bug or a failure of the machine.
"""


class UserError(ValueError):
    """Bad input, with a message that says what is wrong and what to do."""

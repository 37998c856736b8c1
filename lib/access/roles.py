"""Two roles: a viewer looks (results, Compare, Cost, Demo, reports); an operator also acts
(starts runs, uploads models and datasets, points at local folders, changes the store).

Every action point on the pages asks ``can(role, action)`` (through ``pages/_ui.py``), and
``check`` raises the ``UserError`` the library gives (``lib.execution.jobs`` asks too).
"""

from __future__ import annotations

import fnmatch

from lib.errors import UserError

VIEWER = "viewer"
OPERATOR = "operator"
ROLES = (VIEWER, OPERATOR)  # in order of what they may do

# action -> what it is, in words (for the one-line reason a viewer sees)
OPERATOR_ACTIONS = {
    "start_run": "start benchmarks",
    "upload": "upload datasets or models",
    "local_model": "use a model folder on the server",
    "change_store": "change the store",
    "sweep": "start sweeps",
}
# What a viewer may do: look, download reports, load the bundled demo runs, try cost inputs.
VIEWER_ACTIONS = ("view", "download", "load_demo", "cost_inputs")


def normal_role(role: str | None) -> str:
    """A role from a file or a setting, checked: ``viewer`` or ``operator``."""
    text = str(role or "").strip().lower()
    if text not in ROLES:
        raise UserError(f"Unknown role {role!r}: use viewer or operator.")
    return text


def can(role: str | None, action: str) -> bool:
    """True when ``role`` may do ``action`` (an unknown action needs an operator)."""
    if role == OPERATOR:
        return True
    if role == VIEWER:
        return action not in OPERATOR_ACTIONS and action in VIEWER_ACTIONS
    return False


def reason(action: str) -> str:
    """The one line a viewer sees next to a control that is off."""
    what = OPERATOR_ACTIONS.get(action, "do this")
    return f"Only an operator can {what}; you are signed in as a viewer."


def check(role: str | None, action: str) -> None:
    """``UserError`` (the reason) unless ``role`` may do ``action``."""
    if not can(role, action):
        raise UserError(reason(action) if role == VIEWER else "Sign in first.")


def _patterns(value: object) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    return [str(p).strip().lower() for p in items if str(p).strip()]


def oidc_role(identity: str, operators: object = None, viewers: object = None) -> str | None:
    """The role of a user signed in through OIDC (``st.login``), from ``[leanbench]`` in
    ``secrets.toml``: an operator when ``identity`` (their e-mail) matches one of ``operators``,
    a viewer when it matches one of ``viewers`` (default ``["*"]``: anyone the provider lets in),
    else None (refused). Patterns as in ``fnmatch``: ``"*@example.com"``; case does not count."""
    who = str(identity or "").strip().lower()
    if not who:
        return None
    if any(fnmatch.fnmatchcase(who, p) for p in _patterns(operators)):
        return OPERATOR
    allowed = ["*"] if viewers is None else _patterns(viewers)
    return VIEWER if any(fnmatch.fnmatchcase(who, p) for p in allowed) else None

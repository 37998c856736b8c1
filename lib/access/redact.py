"""Credentials never shown back or logged: a URL's password, and ``password=``-like query
parameters, replaced by ``***``. One function for every place (store errors, the Settings box,
page error messages, the HTML report)."""

from __future__ import annotations

import re

MASK = "***"
# scheme://user:password@host -> scheme://user:***@host (the password may hold anything but
# whitespace, an @ typed raw included: it ends at the last @ before the host)
_USERINFO = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)(?P<secret>\S+?)@(?=[^\s@/]*(?:[/\s?#]|$))"
)
# scheme://token@host (no user name: the whole user info is a secret, e.g. a token)
_TOKEN_ONLY = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<secret>[^\s:/@]{16,})@")
_QUERY = re.compile(
    r"(?P<head>[?&;\s](?:password|passwd|pwd|pass|secret|token|api_key|apikey|access_token)=)"
    r"(?P<secret>[^&\s;]+)",
    re.IGNORECASE,
)


def redact(text: object) -> str:
    """``text`` with every credential in a URL replaced by ``***``."""
    out = "" if text is None else str(text)
    if "@" in out:
        out = _USERINFO.sub(lambda m: m["head"] + MASK + "@", out)
        out = _TOKEN_ONLY.sub(lambda m: m["head"] + MASK + "@", out)
    if "=" in out:
        out = _QUERY.sub(lambda m: m["head"] + MASK, out)
    return out


def has_secret(text: object) -> bool:
    """True when ``redact`` would hide something in ``text``."""
    return redact(text) != ("" if text is None else str(text))


def redact_strings(value: object) -> object:
    """A copy of ``value`` (dicts, lists, tuples of anything) with ``redact`` applied to every
    string in it: a whole run document, before it is drawn into a report."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_strings(v) for v in value]
    return value

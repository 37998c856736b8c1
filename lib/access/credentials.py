"""The built-in login for a shared Leanbench without an OIDC provider: named users, each with a
role and an argon2id hash of their token (or chosen password), in one JSON file.

    python -m lib access add-user alice --role operator     # prints a new token once

The file is ``<user dir>/access/users.json`` (``LEANBENCH_USERS_FILE`` to put it elsewhere),
written owner-only (0600). Only hashes are stored; ``verify`` uses argon2's own constant-time
check, and hashes a dummy for an unknown name so a wrong name costs as long as a wrong token.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from lib.access.roles import normal_role
from lib.errors import UserError
from lib.paths import user_dir

USERS_ENV = "LEANBENCH_USERS_FILE"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_SECRET = 12  # characters of a chosen password
TOKEN_BYTES = 24  # a generated token: 32 URL-safe characters

_HASHER = PasswordHasher()  # argon2id with the library's recommended parameters
_DUMMY = _HASHER.hash("leanbench: no such user")


@dataclass(frozen=True)
class User:
    name: str
    role: str


def users_file() -> Path:
    """Where the users are kept."""
    override = os.environ.get(USERS_ENV)
    return Path(override).expanduser() if override else user_dir() / "access" / "users.json"


def _read(path: Path | None = None) -> dict[str, dict]:
    path = path or users_file()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"The users file {path} cannot be read ({exc}).") from None
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict):
        raise UserError(f"The users file {path} has no 'users' object.")
    return {str(k): v for k, v in users.items() if isinstance(v, dict)}


def _write(users: dict[str, dict], path: Path | None = None) -> Path:
    path = path or users_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"users": users}, fh, indent=2, sort_keys=True)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


def check_name(name: str) -> str:
    name = str(name or "").strip()
    if not NAME_PATTERN.match(name):
        raise UserError(
            f"User name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit."
        )
    return name


def add_user(name: str, role: str, secret: str | None = None) -> str:
    """Add (or replace) ``name`` with ``role``; returns the secret: ``secret`` if given (at least
    ``MIN_SECRET`` characters), else a new random token. Only its hash is written."""
    name, role = check_name(name), normal_role(role)
    if secret is None:
        secret = secrets.token_urlsafe(TOKEN_BYTES)
    elif len(secret) < MIN_SECRET:
        raise UserError(f"A password needs at least {MIN_SECRET} characters.")
    users = _read()
    users[name] = {"role": role, "hash": _HASHER.hash(secret)}
    _write(users)
    return secret


def remove_user(name: str) -> None:
    users = _read()
    if name not in users:
        raise UserError(f"No user {name!r} in {users_file()}.")
    del users[name]
    _write(users)


def list_users() -> list[User]:
    return [User(n, str(u.get("role", ""))) for n, u in sorted(_read().items())]


def has_users() -> bool:
    """True when at least one user can log in with the built-in login."""
    try:
        return bool(_read())
    except UserError:
        return False


def verify(name: str, secret: str) -> User | None:
    """The user when ``secret`` is theirs, else None (never says which part was wrong)."""
    users = _read()
    entry = users.get(str(name or "").strip())
    stored = entry.get("hash") if entry else None
    try:
        _HASHER.verify(stored if isinstance(stored, str) else _DUMMY, secret or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if entry is None or not isinstance(stored, str):
        return None
    try:
        return User(str(name).strip(), normal_role(entry.get("role")))
    except UserError:
        return None

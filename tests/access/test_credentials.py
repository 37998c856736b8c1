"""Issue 17, point 2: the built-in login's users file (argon2id hashes, owner-only), the CLI that
writes it, the lock-out after repeated failures, and which OIDC users get which role."""

from __future__ import annotations

import json
import stat

import pytest

from lib.access import credentials, roles
from lib.access.lockout import Lockout
from lib.cli.main import main
from lib.errors import UserError


def test_a_token_is_stored_only_as_an_argon2_hash():
    token = credentials.add_user("alice", "operator")
    path = credentials.users_file()
    text = path.read_text()
    assert token not in text and "$argon2id$" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credentials.verify("alice", token) == credentials.User("alice", "operator")


def test_wrong_secrets_and_unknown_names_do_not_verify():
    token = credentials.add_user("alice", "viewer")
    assert credentials.verify("alice", token[:-1] + ("x" if token[-1] != "x" else "y")) is None
    assert credentials.verify("alice", "") is None
    assert credentials.verify("bob", token) is None
    assert credentials.verify("", "") is None


def test_a_chosen_password_must_be_long_enough():
    with pytest.raises(UserError, match="at least 12"):
        credentials.add_user("alice", "viewer", "short")
    credentials.add_user("alice", "viewer", "a long enough passphrase")
    assert credentials.verify("alice", "a long enough passphrase").role == "viewer"


def test_names_and_roles_are_checked():
    with pytest.raises(UserError, match="User name"):
        credentials.add_user("../etc", "viewer")
    with pytest.raises(UserError, match="Unknown role"):
        credentials.add_user("alice", "admin")


def test_a_broken_file_is_a_user_error_and_no_user():
    path = credentials.users_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    assert not credentials.has_users()
    with pytest.raises(UserError, match="cannot be read"):
        credentials.verify("alice", "x")


def test_cli_adds_lists_and_removes_users(capsys):
    assert main(["access", "add-user", "otto", "--role", "operator"]) == 0
    out = capsys.readouterr().out
    token = out.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    assert credentials.verify("otto", token).role == "operator"
    assert main(["access", "list"]) == 0
    assert "otto\toperator" in capsys.readouterr().out
    assert main(["access", "remove-user", "otto"]) == 0
    assert not credentials.has_users()
    assert main(["access", "remove-user", "otto"]) == 2
    users = json.loads(credentials.users_file().read_text())["users"]
    assert users == {}


def test_lockout_after_repeated_failures_with_a_cool_down():
    now = [0.0]
    lock = Lockout(max_failures=3, window_s=60, cooldown_s=120, clock=lambda: now[0])
    keys = ["session:a", "user:alice"]
    for _ in range(2):
        lock.fail(keys)
    assert not lock.locked(keys)
    lock.fail(keys)
    assert lock.locked(keys) and lock.wait_s(["user:alice"]) == 120
    assert lock.locked(["user:alice", "session:other"])  # a new session: the user is locked
    assert not lock.locked(["session:other", "user:bob"])
    now[0] = 121
    assert not lock.locked(keys)


def test_failures_outside_the_window_do_not_add_up():
    now = [0.0]
    lock = Lockout(max_failures=3, window_s=60, cooldown_s=120, clock=lambda: now[0])
    for t in (0, 30, 100, 130):
        now[0] = t
        lock.fail(["user:alice"])
    assert not lock.locked(["user:alice"])  # never three within a minute
    lock.fail(["user:alice"])
    assert lock.locked(["user:alice"])
    lock.succeed(["user:alice"])
    assert not lock.locked(["user:alice"])


@pytest.mark.parametrize(
    ("email", "operators", "viewers", "role"),
    [
        ("ops@team.example", ["ops@team.example"], None, "operator"),
        ("OPS@Team.example", "ops@team.example", None, "operator"),
        ("anyone@else.example", ["ops@team.example"], None, "viewer"),  # default: anyone
        ("anyone@else.example", [], ["*@team.example"], None),
        ("dev@team.example", [], ["*@team.example"], "viewer"),
        ("", ["*"], ["*"], None),
    ],
)
def test_oidc_roles_from_secrets(email, operators, viewers, role):
    assert roles.oidc_role(email, operators, viewers) == role


def test_what_each_role_may_do():
    for action in roles.OPERATOR_ACTIONS:
        assert roles.can("operator", action) and not roles.can("viewer", action)
        assert not roles.can(None, action)
    for action in ("view", "download", "load_demo"):
        assert roles.can("viewer", action)
    with pytest.raises(UserError, match="Only an operator can change the store"):
        roles.check("viewer", "change_store")

"""The Hub reachability check answers in about a second, offline (issue 13)."""

from __future__ import annotations

import socket
import time

import pytest

from lib.errors import UserError
from lib.models import hub


@pytest.fixture
def online_env(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)


def test_hf_hub_offline_is_offline_at_once(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.monotonic()
    assert "HF_HUB_OFFLINE is set" in (hub.offline_reason() or "")
    assert time.monotonic() - start < 0.1


def test_a_dns_that_hangs_is_given_up_on_after_the_timeout(monkeypatch, online_env):
    def hang(*args, **kwargs):
        time.sleep(5)
        raise socket.gaierror("too late")

    monkeypatch.setattr(socket, "getaddrinfo", hang)
    start = time.monotonic()
    reason = hub.offline_reason(timeout_s=0.5)
    assert time.monotonic() - start < 1.5
    assert "looking up huggingface.co took more than 0.5 s" in (reason or "")


def test_a_name_that_does_not_resolve(monkeypatch, online_env):
    def fail(*args, **kwargs):
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    assert "does not resolve" in (hub.offline_reason() or "")


def test_a_host_that_refuses_and_one_that_answers(monkeypatch, online_env):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    try:
        assert hub.offline_reason() is None
    finally:
        server.close()
    assert "cannot connect to 127.0.0.1" in (hub.offline_reason() or "")


def test_check_reachable_names_the_model_and_the_way_out(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match="Cannot check 'someone/model'.*local folder"):
        hub.check_reachable("someone/model")

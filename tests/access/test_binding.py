"""Issue 17, point 1: local by default. The app's config binds it to 127.0.0.1, `make run` passes
that address unless ADDRESS is given, and a started server refuses a connection to any other
address (tried on 127.0.0.2: loopback too, so nothing leaves this machine, but not the address
the server listens on; a server on every interface would accept it).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import psutil
import pytest

from lib.access import limits, network
from tests.helpers.browser import app_env, free_port

ROOT = Path(__file__).resolve().parents[2]


def config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def test_config_serves_on_loopback_only():
    assert config()["server"]["address"] == "127.0.0.1"


def test_streamlit_upload_limit_matches_leanbenchs_own():
    assert config()["server"]["maxUploadSize"] == limits.DEFAULT_MAX_UPLOAD_MB


def test_make_run_is_local_unless_an_address_is_given():
    def command(*extra: str) -> str:
        # under `make test` MAKEFLAGS carries -w, so a nested make adds "Leaving directory" lines
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
        done = subprocess.run(
            ["make", "--no-print-directory", "-n", "run", *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )
        return done.stdout.strip().splitlines()[-1]

    assert command().endswith("streamlit run app.py --server.address 127.0.0.1")
    assert command("ADDRESS=0.0.0.0").endswith("--server.address 0.0.0.0")


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("", False),  # Streamlit's default: every interface
        (None, False),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("myhost.example", False),
    ],
)
def test_which_addresses_are_local(address, loopback):
    assert network.is_loopback(address) is loopback
    assert network.served_beyond_localhost(address) is not loopback


def _listening(pid: int, port: int) -> list[str]:
    found = []
    for proc in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        try:
            conns = proc.net_connections(kind="inet")
        except psutil.Error:
            continue
        found += [
            c.laddr.ip for c in conns if c.status == psutil.CONN_LISTEN and c.laddr.port == port
        ]
    return found


def test_a_started_app_listens_on_loopback_and_refuses_other_addresses(tmp_path):
    """``streamlit run app.py`` as `make run` starts it (the config's address, no flag)."""
    import time
    import urllib.request

    port = free_port()
    log = tmp_path / "streamlit.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py",
             "--server.port", str(port)],
            cwd=ROOT, env=app_env(tmp_path), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise AssertionError(log.read_text(errors="replace")[-2000:]) from None
                time.sleep(0.5)
        assert set(_listening(proc.pid, port)) == {"127.0.0.1"}
        with socket.socket() as s:
            s.settimeout(3)
            with pytest.raises(OSError):  # refused: nothing listens there
                s.connect(("127.0.0.2", port))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()

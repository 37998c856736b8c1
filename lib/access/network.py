"""Whether Leanbench is reachable from other machines: its bind address, and the switches.

Streamlit's ``server.address`` (``.streamlit/config.toml`` sets 127.0.0.1; ``make run
ADDRESS=0.0.0.0`` or ``STREAMLIT_SERVER_ADDRESS`` shares it). Unset or empty, Streamlit listens on
every interface, so that counts as shared. ``LEANBENCH_REQUIRE_LOGIN=1`` asks for a login even on
a loopback address (behind a reverse proxy on the same machine every visitor looks local).

The app records what it found in ``LEANBENCH_SHARED`` (``mark_shared``) so that the library and
the worker processes it starts (model roots, pickles) know it without Streamlit.
"""

from __future__ import annotations

import ipaddress
import os

SHARED_ENV = "LEANBENCH_SHARED"
REQUIRE_LOGIN_ENV = "LEANBENCH_REQUIRE_LOGIN"
LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def is_loopback(address: str | None) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost); False for
    an empty one (every interface), 0.0.0.0, :: and any other host or address."""
    text = (address or "").strip().strip("[]")
    if not text:
        return False
    if text.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def served_beyond_localhost(address: str | None) -> bool:
    """True when the app's bind address lets other machines connect."""
    return not is_loopback(address)


def login_forced() -> bool:
    """``LEANBENCH_REQUIRE_LOGIN=1``: ask for a credential even when served on loopback."""
    return truthy(os.environ.get(REQUIRE_LOGIN_ENV))


def mark_shared(shared: bool) -> None:
    """Record for the library (and the workers it starts) whether the app is shared."""
    os.environ[SHARED_ENV] = "1" if shared else "0"


def is_shared() -> bool:
    """Whether this process serves (or was started by) a shared app, or must act as if."""
    return truthy(os.environ.get(SHARED_ENV)) or login_forced()

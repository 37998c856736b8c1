"""Can this machine reach the Hugging Face Hub? Answered in about a second, before anything
asks the Hub for a model and waits out its own time-outs and retries (about 24 s offline).

Offline is: ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) set, the Hub's host name not
resolving, or no TCP connection to it within the time-out. Plain Python: no streamlit, no
transformers.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from urllib.parse import urlparse

from lib.errors import UserError

DEFAULT_ENDPOINT = "https://huggingface.co"
TIMEOUT_S = 1.0
_TRUE = {"1", "on", "yes", "true"}


def endpoint() -> str:
    """The Hub's address: ``HF_ENDPOINT`` when set (a mirror), else huggingface.co."""
    return os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT


def offline_reason(timeout_s: float = TIMEOUT_S) -> str | None:
    """Why the Hub cannot be reached from here, in words; None when it can. Takes at most about
    twice ``timeout_s``: once for the name lookup, once for the connection."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in _TRUE:
            return f"{var} is set, so Hugging Face libraries stay offline"
    url = urlparse(endpoint())
    host = url.hostname or "huggingface.co"
    port = url.port or (80 if url.scheme == "http" else 443)
    addresses = _resolve(host, port, timeout_s)
    if isinstance(addresses, str):
        return addresses
    deadline = time.monotonic() + timeout_s
    reason = f"{host} has no address to connect to"
    for family, kind, proto, _, address in addresses:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(left)
                sock.connect(address)
            return None
        except TimeoutError:
            reason = f"no answer from {host} within {timeout_s:g} s"
        except OSError as exc:
            reason = f"cannot connect to {host}: {exc.strerror or type(exc).__name__}"
    return reason


def check_reachable(what: str, timeout_s: float = TIMEOUT_S) -> None:
    """A UserError that names ``what`` (a model id) when the Hub cannot be reached."""
    reason = offline_reason(timeout_s)
    if reason:
        raise UserError(
            f"Cannot check '{what}': the Hugging Face Hub ({endpoint()}) cannot be reached "
            f"from this machine ({reason}). Download the model where you have network and give "
            "Leanbench the local folder."
        )


def _resolve(host: str, port: int, timeout_s: float) -> list | str:
    """The host's addresses, or why there are none. ``getaddrinfo`` has no time-out of its own
    (an unreachable DNS server holds it for many seconds), so it runs in a daemon thread that is
    left behind when it takes too long."""
    found: dict[str, object] = {}

    def lookup() -> None:
        try:
            found["addresses"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            found["error"] = exc

    thread = threading.Thread(target=lookup, name="hub-dns", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if "addresses" in found:
        addresses = found["addresses"]
        return list(addresses) if isinstance(addresses, list) else []
    if "error" in found:
        return f"the name {host} does not resolve: no network or no DNS"
    return f"looking up {host} took more than {timeout_s:g} s: no network or no DNS"

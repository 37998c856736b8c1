"""Repeated failed logins lock a key out for a cool-down: a session, a user name, a client IP.

``MAX_FAILURES`` failures within ``WINDOW_S`` lock the key for ``COOLDOWN_S`` seconds; a
success clears it. One ``Lockout`` per server process (``LOCKOUT``), shared by its sessions, so
opening a new tab does not reset a user's count. Thread-safe: Streamlit runs sessions on threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

MAX_FAILURES = 5
WINDOW_S = 300.0
COOLDOWN_S = 300.0


class Lockout:
    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        cooldown_s: float = COOLDOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_failures, self.window_s, self.cooldown_s = max_failures, window_s, cooldown_s
        self.clock = clock
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_s(self, keys: Iterable[str]) -> float:
        """Seconds until every one of ``keys`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            return max([0.0, *(self._locked_until.get(k, 0.0) - now for k in keys)])

    def locked(self, keys: Iterable[str]) -> bool:
        return self.wait_s(keys) > 0

    def fail(self, keys: Iterable[str]) -> None:
        """Count one failure against each key; lock those that reached the limit."""
        now = self.clock()
        with self._lock:
            for k in keys:
                recent = [t for t in self._failures.get(k, []) if now - t < self.window_s]
                recent.append(now)
                if len(recent) >= self.max_failures:
                    self._locked_until[k] = now + self.cooldown_s
                    recent = []
                self._failures[k] = recent

    def succeed(self, keys: Iterable[str]) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
                self._locked_until.pop(k, None)


LOCKOUT = Lockout()

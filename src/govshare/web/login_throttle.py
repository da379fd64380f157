"""Login throttling by client address, on top of the per-(account, address) delay (identity.login).

The delay stops one address guessing one account's password (and, being per address, cannot be turned
against the account's holder); it does not stop one address trying a few passwords on each of many
accounts. This keeps, per process, the times of recent failed logins per address and refuses
further attempts (429 with Retry-After) once an address has failed `login_address_max_failures` times in
`login_address_window_minutes`. A successful login does not clear the count: one valid account must not
let an address go on guessing others. Kept in memory (a restart forgets it; with several worker processes
each counts its own share): the per-(account, address) delay is in the database (`login_delay`).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from govshare.errors import RateLimited

MAX_ADDRESSES = 100_000  # bound the memory one flood of spoofed-looking addresses can take


class LoginThrottle:
    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, address: str | None, now: float | None = None) -> None:
        """Raise RateLimited when this address has used up its failures in the window."""
        if address is None:
            return
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = self._recent(address, now)
            if recent is not None and len(recent) >= self.max_failures:
                wait = math.ceil(recent[0] + self.window - now)
                minutes = max(1, math.ceil(wait / 60))
                raise RateLimited(
                    f"本地址登录失败次数过多，请 {minutes} 分钟后再试", retry_after=max(1, wait)
                )

    def failed(self, address: str | None, now: float | None = None) -> None:
        if address is None:
            return
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = self._recent(address, now)
            if recent is None:
                if len(self._failures) >= MAX_ADDRESSES:
                    self._forget_oldest(now)
                recent = self._failures[address] = deque()
            recent.append(now)

    def _recent(self, address: str, now: float) -> deque[float] | None:
        recent = self._failures.get(address)
        if recent is None:
            return None
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if not recent:
            del self._failures[address]
            return None
        return recent

    def _forget_oldest(self, now: float) -> None:
        for address in [a for a, times in self._failures.items() if times[-1] <= now - self.window]:
            del self._failures[address]
        while len(self._failures) >= MAX_ADDRESSES:
            del self._failures[next(iter(self._failures))]

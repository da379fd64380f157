"""Per-application request rate for the data API: a token bucket per application, in this process.

Written here rather than taken from a library: the limit must apply after authentication (per application,
not per address) and inside our error handling (429 with Retry-After as a problem document), which the
ASGI rate-limit middlewares we looked at (slowapi, limits) key by request address or need their own
exception plumbing; the bucket itself is a dozen lines.
"""

from __future__ import annotations

import math
import threading
import time


class TokenBucket:
    def __init__(self, rate_per_second: float, burst: float | None = None) -> None:
        self.rate = float(rate_per_second)
        self.capacity = float(burst if burst is not None else 2 * rate_per_second)
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many keys the bucket holds (a caller bounds its memory with it)."""
        return len(self._state)

    def take(self, key: str, now: float | None = None) -> int | None:
        """None if the call may go ahead, else the whole seconds to wait (Retry-After)."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._state.get(key, (self.capacity, moment))
            tokens = min(self.capacity, tokens + (moment - last) * self.rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, moment)
                return None
            self._state[key] = (tokens, moment)
            return max(1, math.ceil((1 - tokens) / self.rate))

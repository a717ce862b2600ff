"""Per-token fixed-window rate limiting, answering how long to wait when over the limit."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from .config import RateLimit


class RateLimiter:
    """Counts requests per key in fixed windows of ``window`` seconds (monotonic time)."""

    def __init__(self, rule: RateLimit, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._rule = rule
        self._monotonic = monotonic
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Count one request for ``key``; None when allowed, else whole seconds until the window resets."""
        now = self._monotonic()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self._rule.window:
                start, count = now, 0
            if count >= self._rule.limit:
                return max(1, math.ceil(start + self._rule.window - now))
            self._windows[key] = (start, count + 1)
            return None

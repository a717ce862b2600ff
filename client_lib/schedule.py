"""The deadline that bounds every helper loop: when to try again, and when to give up."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from .backoff import Backoff


class Schedule:
    """Delays between attempts under one total deadline.

    ``next_delay`` never returns a delay that ends after the deadline: a drawn backoff delay is cut to the
    time left (one last attempt at the deadline), while a ``Retry-After`` longer than the time left ends
    the loop at once, since polling earlier would ignore the server and sleeping longer would overrun.
    The number of attempts is capped as well, so a clock that does not advance cannot loop forever.
    """

    def __init__(
        self,
        timeout: float,
        backoff: Backoff,
        clock: Callable[[], float],
        rng: random.Random | None,
    ) -> None:
        if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self._backoff = backoff
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._start = clock()
        self.deadline = self._start + float(timeout)
        self.attempts = 0
        self._max_attempts = math.floor(timeout / backoff.min_delay) + 2

    def elapsed(self) -> float:
        """Seconds since the schedule started."""
        return self._clock() - self._start

    def remaining(self) -> float:
        """Seconds left before the deadline (never negative)."""
        return max(0.0, self.deadline - self._clock())

    def start_attempt(self) -> None:
        """Count one attempt."""
        self.attempts += 1

    def next_delay(self, retry_after: float | None) -> float | None:
        """Seconds to sleep before the next attempt, or ``None`` when no attempt fits before the deadline."""
        remaining = self.deadline - self._clock()
        if remaining <= 0 or self.attempts >= self._max_attempts:
            return None
        if retry_after is not None:
            delay = self._backoff.after_retry_after(retry_after)
            return float(delay) if delay <= remaining else None
        return float(min(self._backoff.delay(self.attempts, self._rng), remaining))

"""Backoff schedule and ``Retry-After`` parsing for the polling helpers.

Hand-written (about 40 lines) rather than taken from tenacity or stamina: the vendored package must run
with only httpx and attrs installed, and the waiter needs a deadline-aware schedule with an injectable
clock and random source, which is simpler to state here than to assemble from a retry library's parts.
"""

from __future__ import annotations

import email.utils
import math
import random
from dataclasses import dataclass

# Past this exponent the ceiling is max_delay anyway; capping it avoids float overflow on long waits.
_MAX_EXPONENT = 64


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter, as in Smithy waiters.

    Before attempt ``n`` (``n >= 1`` counts the retries, not the first poll) the delay is drawn uniformly
    from ``[min_delay, min(max_delay, min_delay * multiplier ** (n - 1))]``, so it never leaves
    ``[min_delay, max_delay]``. A ``Retry-After`` from the server replaces the drawn delay, but is never
    taken shorter than ``min_delay`` (that keeps a ``Retry-After: 0`` from turning into a busy loop).
    """

    # Defaults chosen by measurement (docs/performance.md, part 4): Smithy's 2 s minimum catches a quick
    # export at once; a 60 s ceiling polls less than a fixed 15 s interval on long exports and still
    # detects completion sooner than Smithy's defaults, far under the vendor's ~100 requests a minute.
    min_delay: float = 2.0
    max_delay: float = 60.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.min_delay) and math.isfinite(self.max_delay)):
            raise ValueError("Backoff delays must be finite numbers")
        if not 0 < self.min_delay <= self.max_delay:
            raise ValueError(
                f"Backoff needs 0 < min_delay <= max_delay, got {self.min_delay} and {self.max_delay}"
            )
        if not (math.isfinite(self.multiplier) and self.multiplier >= 1):
            raise ValueError(f"Backoff multiplier must be >= 1, got {self.multiplier}")

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The jittered delay before retry number ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValueError(f"attempt must be >= 1, got {attempt}")
        exponent = min(attempt - 1, _MAX_EXPONENT)
        ceiling = min(self.max_delay, self.min_delay * self.multiplier**exponent)
        return rng.uniform(self.min_delay, ceiling)

    def after_retry_after(self, retry_after: float) -> float:
        """The delay to use when the server asked for ``retry_after`` seconds."""
        return max(retry_after, self.min_delay)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), ``None`` if unusable.

    ``now`` is the current Unix time, used only for the HTTP-date form.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)

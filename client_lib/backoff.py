"""Backoff schedule and ``Retry-After`` parsing for the polling helpers.

Hand-written (about 40 lines) rather than taken from tenacity or stamina: the vendored package must run
with only httpx and attrs installed, and the waiter needs a deadline-aware schedule with an injectable
clock and random source, which is simpler to state here than to assemble from a retry library's parts.
"""

from __future__ import annotations

import datetime
import math
import random
import re
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


#: The longest ``Retry-After`` taken at its word (a day); a longer one, or one of more digits, counts as this.
MAX_RETRY_AFTER = 86_400.0
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_LONG_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTH = r"(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
# RFC 9110 section 5.6.7: IMF-fixdate, then the two obsolete forms a recipient must also accept.
_HTTP_DATES = (
    re.compile(rf"{_DAY}, (?P<day>[0-9]{{2}}) {_MONTH} (?P<year>[0-9]{{4}}) {_TIME} GMT"),
    re.compile(rf"{_LONG_DAY}, (?P<day>[0-9]{{2}})-{_MONTH}-(?P<yy>[0-9]{{2}}) {_TIME} GMT"),
    re.compile(rf"{_DAY} {_MONTH} (?P<day>[ 0-9][0-9]) {_TIME} (?P<year>[0-9]{{4}})"),
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DELAY_SECONDS = re.compile(r"[0-9]+")


def _http_date(text: str, now: float) -> float | None:
    """The Unix time of an RFC 9110 HTTP-date, or ``None``."""
    for form in _HTTP_DATES:
        match = form.fullmatch(text)
        if match is None:
            continue
        fields = match.groupdict()
        if fields.get("yy") is not None:
            # RFC 9110: a two-digit year more than 50 years in the future is in the past century.
            this_year = datetime.datetime.fromtimestamp(now, datetime.UTC).year
            year = 2000 + int(fields["yy"])
            year = year - 100 if year > this_year + 50 else year
        else:
            year = int(fields["year"])
        try:
            when = datetime.datetime(
                year,
                _MONTHS.index(fields["month"]) + 1,
                int(fields["day"]),
                int(fields["hour"]),
                int(fields["minute"]),
                min(int(fields["second"]), 59),  # 60 is a leap second; a second early is close enough
                tzinfo=datetime.UTC,
            )
        except ValueError:  # 31 Feb, hour 25...
            return None
        return when.timestamp()
    return None


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, ``None`` if it is absent or not RFC 9110's.

    Exactly RFC 9110's two forms (section 10.2.3): ``delay-seconds`` (ASCII digits only) or an HTTP-date
    (IMF-fixdate, or the obsolete RFC 850 and asctime forms). The result is at most ``MAX_RETRY_AFTER``.
    ``now`` is the current Unix time, used only for the HTTP-date form. Never raises for any ``str``.
    """
    if value is None:
        return None
    text = value.strip(" \t")
    if _DELAY_SECONDS.fullmatch(text) is not None:
        # More digits than a day has seconds' digits is more than a day; no int() of 5,000 digits.
        return MAX_RETRY_AFTER if len(text) > 6 else min(float(int(text)), MAX_RETRY_AFTER)
    if len(text) > 40:
        return None
    when = _http_date(text, now)
    if when is None:
        return None
    return min(max(0.0, when - now), MAX_RETRY_AFTER)

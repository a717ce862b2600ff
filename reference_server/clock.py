"""Clocks the server reads time from, so tests can move time (link expiry) without sleeping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    """Anything with ``now()`` returning an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock (UTC)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; thread-safe because the server reads it from its own thread."""

    def __init__(self, start: datetime | None = None) -> None:
        initial = start if start is not None else datetime.now(UTC)
        if initial.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = initial.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        """Move forward by ``seconds`` (plus any ``timedelta`` keywords); returns the new time."""
        step = timedelta(seconds=seconds, **delta)
        if step < timedelta(0):
            raise ValueError("ManualClock only moves forward")
        with self._lock:
            self._now += step
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (timezone-aware)."""
        if when.tzinfo is None:
            raise ValueError("ManualClock.set needs a timezone-aware time")
        with self._lock:
            self._now = when.astimezone(UTC)


def to_millis(when: datetime) -> int:
    """Unix time in whole milliseconds (the resolution of every timestamp the API shows)."""
    return (when - _EPOCH) // timedelta(milliseconds=1)


def from_millis(millis: int) -> datetime:
    """Inverse of ``to_millis``."""
    return _EPOCH + timedelta(milliseconds=millis)


def format_timestamp(millis: int) -> str:
    """``2025-01-08T12:00:00.000Z``: UTC, milliseconds, ``Z``, as the vendor writes them."""
    when = from_millis(millis)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"

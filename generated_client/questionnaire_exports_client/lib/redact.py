"""Keeping pre-signed URLs' signatures out of httpx's request log (what to hide: ``..redact``)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Iterator

import httpx

from ..redact import redact_url


class _ActiveUrlFilter(logging.Filter):
    """Rewrites log records of the ``httpx`` logger that would print a URL now being downloaded.

    httpx logs every request line, query string included, at INFO; for a pre-signed link that query is
    the credential. Only URLs registered through ``hidden_from_logs`` are touched.
    """

    def __init__(self) -> None:
        super().__init__()
        self._active: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, url: str) -> None:
        with self._lock:
            self._active[url] += 1

    def discard(self, url: str) -> None:
        with self._lock:
            self._active[url] -= 1
            if self._active[url] <= 0:
                del self._active[url]

    def filter(self, record: logging.LogRecord) -> bool:
        if self._active and isinstance(record.args, tuple):
            with self._lock:
                active = set(self._active)
            record.args = tuple(
                redact_url(str(arg)) if isinstance(arg, str | httpx.URL) and str(arg) in active else arg
                for arg in record.args
            )
        return True


_FILTER = _ActiveUrlFilter()
_INSTALL_LOCK = threading.Lock()


@contextlib.contextmanager
def hidden_from_logs(url: str) -> Iterator[None]:
    """While inside, httpx's request log shows ``url`` without its query string."""
    with _INSTALL_LOCK:
        logger = logging.getLogger("httpx")
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    _FILTER.add(url)
    try:
        yield
    finally:
        _FILTER.discard(url)

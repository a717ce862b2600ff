"""One recorded HTTP exchange: what a HAR entry, the proxy and `run --har-out` all hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Recorded:
    """A request and its answer as seen on the wire; bodies may be cut at a cap (`cut` says why)."""

    index: int  # 0-based position: the HAR entry index, or the order the proxy/run saw it
    started: datetime  # timezone-aware UTC: when the request was sent
    method: str
    url: str  # absolute URL
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes | None
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes
    cut: str | None = None  # why `response_body` is incomplete (a cap, or not recorded)
    time_ms: float = 0.0

"""What `run --har-out` keeps: every answered exchange of a run, bounded, ready for `write_har`.

Why bounded: a full run sends hundreds of requests with bodies up to `--max-body-bytes`; the capture
keeps at most `MAX_CAPTURED` entries and `MAX_CAPTURED_BYTES` of bodies in memory, and never a
downloaded file (its size and sha256 stand in the entry's comment instead).
"""

from __future__ import annotations

import threading
from datetime import datetime

import httpx

from ..bounded_http import Fetched
from .recorded import Recorded

MAX_CAPTURED = 10_000
MAX_CAPTURED_BYTES = 64 * 1024 * 1024


class RunCapture:
    """Collects a run's exchanges (thread-safe: Schemathesis' traffic arrives from its worker thread)."""

    def __init__(
        self,
        max_body_bytes: int,
        *,
        max_entries: int = MAX_CAPTURED,
        max_total_bytes: int = MAX_CAPTURED_BYTES,
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.max_entries = max_entries
        self.max_total_bytes = max_total_bytes
        self.dropped = 0  # exchanges past `max_entries`, not recorded
        self._kept = 0
        self._entries: list[Recorded] = []
        self._lock = threading.Lock()

    def _keep(self, body: bytes) -> bool:
        if len(body) > self.max_body_bytes or self._kept + len(body) > self.max_total_bytes:
            return False
        self._kept += len(body)
        return True

    def add(self, request: httpx.Request, fetched: Fetched, started: datetime, time_ms: float) -> None:
        """`Target.on_exchange`: one answered request, as it went over the wire (redacted when written)."""
        response = fetched.response
        content = request.content
        body = response.content
        cut = fetched.cut
        if cut is None and fetched.size != len(body):  # a download: hashed and counted, never kept
            cut = f"download not recorded: {fetched.size} bytes, sha256 {fetched.sha256}"
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self.dropped += 1
                return
            request_body = content if content and self._keep(content) else None
            if not self._keep(body):
                body, cut = b"", f"not recorded: {len(body)} bytes, over the capture's memory cap"
            self._entries.append(
                Recorded(
                    index=len(self._entries),
                    started=started,
                    method=request.method,
                    url=str(request.url),
                    request_headers=tuple(request.headers.multi_items()),
                    request_body=request_body,
                    status=response.status_code,
                    response_headers=tuple(response.headers.multi_items()),
                    response_body=body,
                    cut=cut,
                    time_ms=time_ms,
                )
            )

    def entries(self) -> list[Recorded]:
        with self._lock:
            return list(self._entries)
